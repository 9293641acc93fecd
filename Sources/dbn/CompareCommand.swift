import ArgumentParser
import DeepBelief
import Foundation

/// `dbn compare`: the same architecture from several starts and with several activations, on
/// the same data, seed, epochs and optimiser.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train the same network from several starts and activations on equal terms; print a table, write CSV and JSON.",
        discussion: """
            Presets: hinton2006 (784-500-500-2000-10, 50 CD-1 epochs per layer, pre-trained vs \
            random starts, sigmoid) and deep-xor (the lecture's experiment: 10 hidden layers of 12 \
            units on XOR, small random sigmoid vs He ReLU). Flags given explicitly override a preset. \
            The fine-tuning learning rate defaults to 0.1 here (0.05 for deep-xor).
            """)

    enum Preset: String, ExpressibleByArgument, CaseIterable { case hinton2006, deepXor = "deep-xor" }

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var common: RunOptions
    @OptionGroup var pretraining: PretrainingOptions
    @OptionGroup var fineTuning: FineTuningOptions

    @Option(help: "Starts, comma-separated: dbn, xavier-normal, xavier-uniform, he-normal, he-uniform, lecun, orthogonal, lsuv, normal:STD, zeros, ...")
    var inits: String = "dbn,xavier-normal,he-normal"

    @Option(help: "Hidden activations, comma-separated: sigmoid, tanh, relu, leaky-relu, elu.")
    var activations: String = "sigmoid,relu"

    @Option(help: "A published setup: hinton2006 or deep-xor.")
    var preset: Preset?

    @Option(help: "Write the table as PREFIX.csv and the runs as PREFIX.json.")
    var report: String = "compare"

    func validate() throws {
        for name in inits.split(separator: ",") { _ = try parseInitializer(String(name)) }
        for name in activations.split(separator: ",") { _ = try parseActivation(String(name)) }
    }

    struct RunJSON: Encodable {
        let `init`: String
        let activation: String
        let testError: Double?
        let bestEpoch: Int
        let finalTrainLoss: Double?
        let fineTuningSeconds: Double
        let pretrainingSeconds: Double
        let totalSeconds: Double
        let firstEpochGradientNorms: [Double]
        let divergedAtEpoch: Int?
        let trainLoss: [Double]
        let testErrors: [Double?]
    }
    struct Summary: Encodable {
        let preset: String?
        let layerSizes: [Int]
        let epochs: Int
        let pretrainEpochs: Int
        let runs: [RunJSON]
        let csv: String
        let json: String
    }

    func run() throws {
        let console = common.start()
        var pretraining = self.pretraining
        var fineTuning = self.fineTuning
        var inits = self.inits
        var activations = self.activations
        let explicit = CommandLine.arguments
        func unless(_ flag: String, _ apply: () -> Void) {
            if !explicit.contains(where: { $0 == flag || $0.hasPrefix(flag + "=") }) { apply() }
        }
        // One step size for every start and activation: 0.1 keeps ReLU runs stable (train's 0.5
        // is tuned for the pre-trained sigmoid network).
        unless("--finetune-learning-rate") { fineTuning.finetuneLearningRate = 0.1 }

        // The data: MNIST-style files, or XOR for the deep-xor preset.
        let training: LabeledData
        let test: LabeledData
        let inputCount: Int
        switch preset {
        case .deepXor:
            unless("--layers") { pretraining.layers = Array(repeating: "12", count: 10).joined(separator: ",") }
            unless("--inits") { inits = "normal:0.01,he-normal" }
            unless("--activations") { activations = "sigmoid,relu" }
            unless("--finetune-epochs") { fineTuning.finetuneEpochs = 500 }
            unless("--finetune-learning-rate") { fineTuning.finetuneLearningRate = 0.05 }
            unless("--batch-size") { fineTuning.batchSize = 4 }
            let inputs = Matrix([[0, 0], [0, 1], [1, 0], [1, 1]])
            training = try LabeledData(inputs: inputs, labels: [0, 1, 1, 0], classCount: 2)
            test = training
            inputCount = 2
        case .hinton2006, nil:
            if preset == .hinton2006 {
                unless("--layers") { pretraining.layers = "500,500,2000" }
                unless("--pretrain-epochs") { pretraining.pretrainEpochs = 50 }
                unless("--pretrain-learning-rate") { pretraining.pretrainLearningRate = 0.1 }
                unless("--weight-cost") { pretraining.weightCost = 2e-4 }
                unless("--inits") { inits = "dbn,xavier-normal,normal:0.01" }
                unless("--activations") { activations = "sigmoid" }
                unless("--finetune-epochs") { fineTuning.finetuneEpochs = 50 }
            }
            let data = try dataOptions.load()
            training = try data.labeledTraining()
            test = try data.labeledTest()
            inputCount = data.pixelCount
            console.say("Data: \(data.trainImages.rows) training and \(data.testImages.rows) test images, \(data.classCount) classes")
        }

        let sizes = [inputCount] + (try pretraining.hiddenSizes()) + [training.targets.columns]
        let configuration = try fineTuning.configuration(seed: common.seed)
        let starts = try inits.split(separator: ",").map { name -> ComparisonStart in
            let initializer = try parseInitializer(String(name))
            return initializer.isPretrained ? ComparisonStart(name: "dbn", initializer: initializer)
                                            : ComparisonStart(name: String(name), initializer: initializer)
        }
        let acts = try activations.split(separator: ",").map { try parseActivation(String($0)) }
        let comparison = Comparison(sizes: sizes, starts: starts, activations: acts, configuration: configuration)
        let runner = try PhaseRunner(console: console, logPath: common.log)
        console.say("Comparing \(starts.count) starts x \(acts.count) activations on \(sizes.map(String.init).joined(separator: "-")), \(configuration.epochs) epochs each")

        let rbmConfiguration = pretraining.configuration(batchSize: fineTuning.batchSize, seed: common.seed)
        let rows = try comparison.run(data: training, test: test, pretrain: { _ in
            var generator = Xoshiro256StarStar(seed: common.seed)
            var stack = DeepBeliefNetwork(layerSizes: Array(sizes.dropLast()), generator: &generator)
            _ = try runner.pretrain(&stack, on: training.inputs, configuration: rbmConfiguration)
            return stack.denseParameters
        }, onEpoch: { start, activation, report in
            console.say("  \(start.name)/\(activation.name) \(report.summary)")
            try? runner.log?.write(CompareLogRecord(start: start.name, activation: activation.name, report: report))
        }, onRow: { row in
            console.say("\(row.start)/\(row.activation): test error \(percent(row.testError))\(row.divergedAtEpoch.map { " (diverged at epoch \($0))" } ?? "")")
        })

        console.say("")
        console.say(Comparison.markdownTable(rows))
        let csvPath = report + ".csv", jsonPath = report + ".json"
        let runs = rows.map { row in
            RunJSON(init: row.start, activation: row.activation, testError: row.testError, bestEpoch: row.bestEpoch,
                    finalTrainLoss: row.finalTrainLoss, fineTuningSeconds: row.fineTuningSeconds,
                    pretrainingSeconds: row.pretrainingSeconds, totalSeconds: row.totalSeconds,
                    firstEpochGradientNorms: row.firstEpochGradientNorms, divergedAtEpoch: row.divergedAtEpoch,
                    trainLoss: row.reports.map(\.trainLoss), testErrors: row.reports.map(\.testError))
        }
        let summary = Summary(preset: preset?.rawValue, layerSizes: sizes, epochs: configuration.epochs,
                              pretrainEpochs: pretraining.pretrainEpochs, runs: runs, csv: csvPath, json: jsonPath)
        try FileIO.writeAtomically(Comparison.csv(rows), to: csvPath)
        try FileIO.writeAtomically(JSONLine.encode(summary) + "\n", to: jsonPath)
        console.say("Wrote \(csvPath) and \(jsonPath)")
        try console.emitJSON(summary)
    }
}

/// One `--log` record per epoch of a comparison run.
struct CompareLogRecord: Encodable {
    let start: String
    let activation: String
    let report: EpochReport
    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode("compare", forKey: .phase)
        try container.encode(start, forKey: .start)
        try container.encode(activation, forKey: .activation)
    }
    enum Key: String, CodingKey { case phase, start, activation }
}

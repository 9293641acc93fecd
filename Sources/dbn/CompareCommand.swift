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
            The fine-tuning learning rate defaults to 0.1 here (0.05 for deep-xor): one step size \
            for every start and activation keeps ReLU runs stable (train's 0.5 is tuned for the \
            pre-trained sigmoid network).
            """)

    enum Preset: String, ExpressibleByArgument, CaseIterable { case hinton2006, deepXor = "deep-xor" }

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var common: RunOptions
    @OptionGroup var pretraining: PretrainingOptions
    @OptionGroup var fineTuning: FineTuningOptions
    @OptionGroup var tensorboard: TensorBoardOptions

    static let defaultInits = "dbn,xavier-normal,he-normal"
    static let defaultActivations = "sigmoid,relu"

    @Option(help: "Starts, comma-separated: dbn, xavier-normal, xavier-uniform, he-normal, he-uniform, lecun, orthogonal, lsuv, normal:STD, zeros, ... (default: \(defaultInits); presets set their own).")
    var inits: String?

    @Option(help: "Hidden activations, comma-separated: \(Activation.allValueStrings.joined(separator: ", ")) (default: \(defaultActivations); hinton2006: sigmoid).")
    var activations: String?

    @Option(help: "A published setup (flags given explicitly override it).")
    var preset: Preset?

    @Option(help: "Write the table as PREFIX.csv and the runs as PREFIX.json.")
    var report: String = "compare"

    func validate() throws {
        for name in (inits ?? Self.defaultInits).split(separator: ",") { _ = try parseInitializer(String(name)) }
        for name in (activations ?? Self.defaultActivations).split(separator: ",") { _ = try parseActivation(String(name)) }
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
        try common.checkDestinations(output: nil, inputs: dataOptions.inputPaths)
        let console = common.start()
        var pretraining = self.pretraining
        var fineTuning = self.fineTuning
        var inits = self.inits
        var activations = self.activations
        /// Sets an option the command line left out (nil) to a preset's value.
        func fill<T>(_ option: inout T?, _ value: T) { if option == nil { option = value } }

        // The data: MNIST-style files, or XOR for the deep-xor preset.
        let training: LabeledData
        let test: LabeledData
        let inputCount: Int
        switch preset {
        case .deepXor:
            fill(&pretraining.layers, Array(repeating: "12", count: 10).joined(separator: ","))
            fill(&inits, "normal:0.01,he-normal")
            fill(&activations, "sigmoid,relu")
            fill(&fineTuning.finetuneEpochs, 500)
            fill(&fineTuning.finetuneLearningRate, 0.05)
            fill(&fineTuning.batchSize, 4)
            let inputs = Matrix([[0, 0], [0, 1], [1, 0], [1, 1]])
            training = try LabeledData(inputs: inputs, labels: [0, 1, 1, 0], classCount: 2)
            test = training
            inputCount = 2
        case .hinton2006, nil:
            if preset == .hinton2006 {
                fill(&pretraining.layers, "500,500,2000")
                fill(&pretraining.pretrainEpochs, 50)
                fill(&pretraining.pretrainLearningRate, 0.1)
                fill(&pretraining.weightCost, 2e-4)
                fill(&inits, "dbn,xavier-normal,normal:0.01")
                fill(&activations, "sigmoid")
                fill(&fineTuning.finetuneEpochs, 50)
            }
            let data = try dataOptions.load()
            training = try data.labeledTraining()
            test = try data.labeledTest()
            inputCount = data.pixelCount
            console.say("Data: \(data.trainImages.rows) training and \(data.testImages.rows) test images, \(data.classCount) classes")
        }
        // compare's own default step size (see the discussion in --help).
        fill(&fineTuning.finetuneLearningRate, 0.1)

        let sizes = [inputCount] + (try pretraining.hiddenSizes()) + [training.targets.columns]
        let configuration = try fineTuning.configuration(seed: common.seed)
        let starts = try (inits ?? Self.defaultInits).split(separator: ",").map { name -> ComparisonStart in
            let initializer = try parseInitializer(String(name))
            return initializer.isPretrained ? ComparisonStart(name: "dbn", initializer: initializer)
                                            : ComparisonStart(name: String(name), initializer: initializer)
        }
        let acts = try (activations ?? Self.defaultActivations).split(separator: ",").map { try parseActivation(String($0)) }
        let comparison = Comparison(sizes: sizes, starts: starts, activations: acts, configuration: configuration)
        let runner = try TrainingOutput(console: console, logPath: common.log, tensorboard: tensorboard, printEvery: common.printEvery)
        console.say("Comparing \(starts.count) starts x \(acts.count) activations on \(sizes.map(String.init).joined(separator: "-")), \(configuration.epochs) epochs each")

        let rbmConfiguration = pretraining.configuration(batchSize: fineTuning.batch, seed: common.seed)
        let rows = try comparison.run(data: training, test: test, pretrain: { _ in
            var generator = Xoshiro256StarStar(seed: common.seed)
            var stack = DeepBeliefNetwork(layerSizes: Array(sizes.dropLast()), generator: &generator)
            _ = try runner.pretrain(&stack, on: training.inputs, configuration: rbmConfiguration)
            return stack.denseParameters
        }, onEpoch: { start, activation, report in
            if runner.shouldPrint(epoch: report.epoch, of: configuration.epochs) {
                console.say("  \(start.name)/\(activation.name) \(report.summary)")
            }
            try? runner.log?.write(CompareLogRecord(start: start.name, activation: activation.name, report: report))
            runner.board?.fineTuneEpoch(run: "\(start.name)-\(activation.name)", report: report)
        }, onRow: { row in
            console.say("\(row.start)/\(row.activation): test error \(percent(row.testError))\(row.divergedAtEpoch.map { " (diverged at epoch \($0))" } ?? "")")
        })

        console.say("")
        runner.board?.flush()
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
                              pretrainEpochs: pretraining.epochs, runs: runs, csv: csvPath, json: jsonPath)
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

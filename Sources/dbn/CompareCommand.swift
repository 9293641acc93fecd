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

    @Option(help: "Starts, comma-separated: dbn, xavier-normal, xavier-uniform, he-normal, he-uniform, lecun, orthogonal, lsuv, normal:STD, zeros, ...; any start followed by +bn adds batch normalisation (e.g. he-normal+bn) (default: \(defaultInits); presets set their own).")
    var inits: String?

    @Option(help: "Hidden activations, comma-separated: \(Activation.allValueStrings.joined(separator: ", ")) (default: \(defaultActivations); hinton2006: sigmoid).")
    var activations: String?

    @Option(help: "Arms instead of every start with every activation: START/ACTIVATION pairs, comma-separated (e.g. dbn/sigmoid,he-normal+bn/sigmoid,he-normal/maxout).")
    var arms: String?

    @Option(help: "Linear pieces per unit of the maxout arms (default: 2).")
    var maxoutPieces: Int = 2

    @Option(help: "A published setup (flags given explicitly override it).")
    var preset: Preset?

    @Option(help: "Write the runs as PREFIX.csv, the per-arm summaries as PREFIX-arms.csv and everything as PREFIX.json.")
    var report: String = "compare"

    @OptionGroup var study: StudyOptions

    func validate() throws {
        for name in (inits ?? Self.defaultInits).split(separator: ",") { _ = try parseStart(String(name)) }
        guard maxoutPieces >= 1 else { throw ValidationError("--maxout-pieces must be at least 1, got \(maxoutPieces)") }
        for name in (activations ?? Self.defaultActivations).split(separator: ",") { _ = try parseActivation(String(name)) }
        if arms != nil && (inits != nil || activations != nil) {
            throw ValidationError("--arms replaces --inits and --activations: give one or the other")
        }
        _ = try parsedArms()
    }

    /// The `--arms` pairs; nil without the flag.
    func parsedArms() throws -> [(start: ComparisonStart, activation: Activation)]? {
        guard let arms else { return nil }
        return try arms.split(separator: ",", omittingEmptySubsequences: false).map { pair in
            let parts = pair.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 else {
                throw ValidationError("--arms must be START/ACTIVATION pairs separated by commas (e.g. dbn/sigmoid,he-normal/relu), got '\(arms)'")
            }
            return (try parseStart(parts[0]), try parseActivation(parts[1]))
        }
    }

    /// compare's fields of the JSON (beside `ComparisonOutput.Summary`'s).
    struct Setup: Encodable {
        let preset: String?
        let layerSizes: [Int]
        let epochs: Int
        let pretrainEpochs: Int
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
        let pairs = try parsedArms()
        let starts = try pairs.map { $0.map(\.start) } ?? (inits ?? Self.defaultInits).split(separator: ",").map {
            try parseStart(String($0))
        }
        let acts = try pairs.map { $0.map(\.activation) }
            ?? (activations ?? Self.defaultActivations).split(separator: ",").map { try parseActivation(String($0)) }
        var comparison = Comparison(sizes: sizes, starts: starts, activations: acts, configuration: configuration,
                                    seeds: try study.seedList(default: common.seed), learningRates: try study.rateGrid(),
                                    selectionValidationCount: study.selectionCount(trainingCount: training.count),
                                    budget: study.budget)
        comparison.pairs = pairs
        comparison.maxoutPieces = maxoutPieces
        try comparison.validate(trainingCount: training.count)
        let runner = try TrainingOutput(console: console, logPath: common.log, tensorboard: tensorboard,
                                        printEvery: common.printEvery ?? RunOptions.compareEpochsPerLine(epochs: configuration.epochs))
        console.say("Comparing \(pairs.map { "\($0.count) arms" } ?? "\(starts.count) starts x \(acts.count) activations") on \(sizes.map(String.init).joined(separator: "-")), \(configuration.epochs) epochs each, seeds \(comparison.seeds.map(String.init).joined(separator: ","))"
                    + (comparison.learningRates.count > 1 ? ", rates \(comparison.learningRates.map { "\($0)" }.joined(separator: ",")) chosen on \(comparison.selectionValidationCount) training images held out" : ", rate \(comparison.learningRates.first ?? configuration.learningRate)")
                    + (comparison.budget == .equalTime ? ", equal time" : ""))

        let output = ComparisonOutput(console: console, runner: runner)
        let result = try output.run(comparison, data: training, test: test, pretrain: { _, seed in
            var generator = Xoshiro256StarStar(seed: seed)
            var stack = DeepBeliefNetwork(layerSizes: Array(sizes.dropLast()), generator: &generator)
            _ = try runner.pretrain(&stack, on: training.inputs,
                                    configuration: pretraining.configuration(batchSize: fineTuning.batch, seed: seed))
            return stack.denseParameters
        })
        try output.finish(result, seeds: comparison.seeds, prefix: report,
                          extra: Setup(preset: preset?.rawValue, layerSizes: sizes, epochs: configuration.epochs,
                                       pretrainEpochs: pretraining.epochs))
    }
}

/// One `--log` record per epoch of a comparison run: its arm, seed, rate and whether it is a
/// rate-selection run.
struct CompareLogRecord: Encodable {
    let key: ComparisonRunKey
    let report: EpochReport
    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode("compare", forKey: .phase)
        try container.encode(key.start.name, forKey: .start)
        try container.encode(key.activation.name, forKey: .activation)
        try container.encode(key.seed, forKey: .seed)
        try container.encode(key.learningRate, forKey: .runLearningRate)
        try container.encode(key.selection, forKey: .selection)
    }
    enum Key: String, CodingKey { case phase, start, activation, seed, runLearningRate = "run_learning_rate", selection }
}

/// The options of a comparison that holds up: seeds, a learning-rate grid chosen on a split of
/// the training set, and the budget (shared by `compare` and `train`).
struct StudyOptions: ParsableArguments {
    @Option(help: "Seeds, comma-separated: every arm runs once per seed (pre-training too); default: --seed.")
    var seeds: String?

    @Option(help: "Learning-rate grid, comma-separated (e.g. 0.01,0.03,0.1,0.3,1): each arm picks its rate on a validation split of the training set (first seed), then runs it for every seed.")
    var learningRates: String?

    @Option(help: "Training images held out (at random) to choose the rate from the grid (default: a sixth of the training set, at most 10000).")
    var selectionValidation: Int?

    @Option(help: "equal-epochs, or equal-time: random starts get extra fine-tuning epochs to match the pre-trained run's total time.")
    var budget: ComparisonBudget = .equalEpochs

    func validate() throws {
        _ = try seedList(default: 1)
        _ = try rateGrid()
        if let selectionValidation, selectionValidation < 1 {
            throw ValidationError("--selection-validation must be >= 1, got \(selectionValidation)")
        }
    }

    func seedList(default seed: UInt64) throws -> [UInt64] {
        guard let seeds else { return [seed] }
        let parsed = seeds.split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil }), Set(parsed).count == parsed.count else {
            throw ValidationError("--seeds must be distinct non-negative integers separated by commas (e.g. 1,2,3), got '\(seeds)'")
        }
        return parsed.map { $0! }
    }

    func rateGrid() throws -> [Float] {
        guard let learningRates else { return [] }
        let parsed = learningRates.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !parsed.isEmpty, parsed.allSatisfy({ $0 != nil && $0! > 0 && $0!.isFinite }), Set(parsed).count == parsed.count else {
            throw ValidationError("--learning-rates must be distinct positive numbers separated by commas (e.g. 0.01,0.1,1), got '\(learningRates)'")
        }
        return parsed.map { $0! }
    }

    func selectionCount(trainingCount: Int) -> Int {
        selectionValidation ?? min(10_000, max(1, trainingCount / 6))
    }
}

extension ComparisonBudget: ExpressibleByArgument {}

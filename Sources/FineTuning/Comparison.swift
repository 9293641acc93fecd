import Linalg

/// One start of a comparison: a name for the tables and its initialiser.
public struct ComparisonStart: Sendable, Equatable {
    /// The name shown in tables.
    public var name: String
    /// The initialiser; `.pretrained` (with or without layers) means "call the pre-training
    /// closure" and take only its output-layer start from here.
    public var initializer: WeightInitializer
    /// Whether the hidden layers are batch-normalised (`Network.withBatchNormalization`) on
    /// top of the start: the arms named START+bn.
    public var batchNorm: Bool

    public init(name: String, initializer: WeightInitializer, batchNorm: Bool = false) {
        self.name = name
        self.initializer = initializer
        self.batchNorm = batchNorm
    }

    /// The suffix of a batch-normalised start's name.
    public static let batchNormSuffix = "+bn"

    /// A start from its command-line name: an initialiser's name (`WeightInitializer(parsing:)`;
    /// `pretrained` and `dbn` are named `dbn`), optionally followed by `+bn` for batch
    /// normalisation. Throws what `WeightInitializer(parsing:)` throws.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingSpaces()
        let batchNorm = trimmed.lowercased().hasSuffix(Self.batchNormSuffix)
        let base = batchNorm ? String(trimmed.dropLast(Self.batchNormSuffix.count)) : trimmed
        let initializer = try WeightInitializer(parsing: base)
        let name = initializer.isPretrained ? "dbn" : base
        self.init(name: batchNorm ? name + Self.batchNormSuffix : name, initializer: initializer, batchNorm: batchNorm)
    }

    /// A start named after its initialiser.
    public init(_ initializer: WeightInitializer) {
        self.init(name: initializer.name, initializer: initializer)
    }

    /// The pre-trained start (layers from the comparison's closure, Xavier-uniform output layer).
    public static let pretrained = ComparisonStart(name: "pretrained", initializer: .pretrained([]))

    /// The usual field: pretrained, Xavier (uniform), He (normal), LSUV, orthogonal, small
    /// random N(0, 0.01^2), zeros.
    public static let standard: [ComparisonStart] = [
        .pretrained, ComparisonStart(.xavierUniform), ComparisonStart(.heNormal), ComparisonStart(.lsuv()),
        ComparisonStart(.orthogonal()), ComparisonStart(name: "small-random", initializer: .normal(0.01)),
        ComparisonStart(.zeros),
    ]
}

/// How the fine-tuning budget is shared between starts.
public enum ComparisonBudget: String, Sendable, Codable, CaseIterable {
    /// Every run gets the configured epochs.
    case equalEpochs = "equal-epochs"
    /// Random starts get extra epochs to match the pre-trained run's total time (pre-training
    /// plus fine-tuning) of the same seed and activation: `round(pretrainingSeconds /
    /// secondsPerEpoch)` more, with the seconds per fine-tuning epoch measured on that
    /// pre-trained run (the same architecture). Depends on the machine's speed.
    case equalTime = "equal-time"
}

/// The result of one run of a comparison.
public struct ComparisonRow: Sendable, Codable, Equatable {
    /// The start's name.
    public var start: String
    /// The hidden activation's name.
    public var activation: String
    /// The seed of the run (initialisation, data order, dropout; the pre-training's seed too).
    public var seed: UInt64
    /// The learning rate of the run (the arm's chosen rate with a grid).
    public var learningRate: Float
    /// Fine-tuning epochs run (more than configured for random starts under `.equalTime`).
    public var epochs: Int
    /// Error rate of the returned network (best epoch with a validation set, else the last)
    /// on the test set; nil without a test set or if the run diverged.
    public var testError: Double?
    /// Validation error of the returned network (nil without a validation set).
    public var validationError: Double?
    /// The epoch whose weights were kept.
    public var bestEpoch: Int
    /// The last epoch's training loss (nil if the run diverged in its first epoch).
    public var finalTrainLoss: Double?
    /// Sum of the epochs' training seconds (minibatch loops only; evaluations excluded).
    public var fineTuningSeconds: Double
    /// Seconds of the pre-training closure (0 for other starts). When the pre-trained layers
    /// are shared across activations, every pretrained row of a seed shows the one call's time.
    public var pretrainingSeconds: Double
    /// `pretrainingSeconds + fineTuningSeconds`.
    public var totalSeconds: Double
    /// Per-layer weight-gradient norms on the first minibatch of the first epoch (the start's
    /// gradients; see `LayerDiagnostics.gradientNorm`).
    public var firstEpochGradientNorms: [Double]
    /// The epoch in which training diverged (nil if it did not).
    public var divergedAtEpoch: Int?
    /// The per-epoch reports (up to the divergence, if any).
    public var reports: [EpochReport]
    /// Indices of the test samples the returned network classifies wrongly (softmax output
    /// with a test set; nil otherwise): the paired data of McNemar's test.
    public var misclassifiedTestSamples: [Int]?
}

/// The test whose p-value a paired comparison's verdict uses.
public enum PairedTest: String, Sendable, Codable, CaseIterable {
    /// McNemar's exact test on one seed's test predictions.
    case mcNemarExact = "mcnemar-exact"
    /// The paired bootstrap over test samples and seeds (`Statistics.pairedBootstrap`).
    case pairedBootstrap = "paired-bootstrap"
    /// The paired t-test on the per-seed test errors (several seeds without test predictions).
    case pairedT = "paired-t"

    /// The name in tables and verdicts.
    public var title: String {
        switch self {
        case .mcNemarExact: "McNemar exact"
        case .pairedBootstrap: "paired bootstrap"
        case .pairedT: "paired t"
        }
    }
}

/// How an arm compares with the best arm on paired data (same seeds, same test images).
public struct PairedComparison: Sendable, Codable, Equatable {
    /// The best arm, "start/activation".
    public var best: String
    /// Paired t-test on the per-seed test errors (nil with fewer than two seeds).
    public var pairedT: Statistics.TestResult?
    /// McNemar's exact test on the test predictions, one per seed (empty without predictions).
    public var mcNemar: [Statistics.TestResult]
    /// The paired bootstrap of this arm's test error minus the best arm's over test images
    /// and seeds (nil with one seed or without test predictions).
    public var bootstrap: Statistics.BootstrapResult?
    /// The test the verdict uses: with two or more seeds the paired bootstrap (the paired
    /// t-test without test predictions), with one seed McNemar's exact test.
    public var test: PairedTest?
    /// That test's p-value.
    public var pValue: Double?
    /// `pValue < 0.05`.
    public var distinguishable: Bool?
}

/// One arm of a comparison (a start with an activation) over all seeds.
public struct ComparisonArm: Sendable, Codable, Equatable {
    public var start: String
    public var activation: String
    /// The learning rate every seed ran with.
    public var learningRate: Float
    /// Validation error of each rate of the grid (grid order; nil where the run diverged);
    /// empty without a grid.
    public var validationErrors: [Double?]
    /// The seeds, in order, and each seed's test error (nil where it diverged).
    public var seeds: [UInt64]
    public var testErrors: [Double?]
    /// Mean, sample standard deviation and 95% t-interval of the test errors over seeds (nil if
    /// a seed diverged or there is no test set; sd and interval need two seeds). The interval
    /// is clipped to [0, 1], the range of an error rate.
    public var meanTestError: Double?
    public var standardDeviation: Double?
    public var interval: Statistics.Interval?
    /// Mean over seeds of pre-training plus fine-tuning seconds.
    public var meanTotalSeconds: Double
    /// Against the best arm (nil for the best arm itself and for arms with a diverged seed).
    public var versusBest: PairedComparison?

    /// "start/activation".
    public var name: String { "\(start)/\(activation)" }
}

/// Everything a comparison produced.
public struct ComparisonResult: Sendable, Codable, Equatable {
    /// The learning-rate grid (empty: the configured rate for every arm).
    public var learningRates: [Float]
    /// Samples carved from the training set to choose the rates (0 without a grid).
    public var selectionValidationCount: Int
    public var budget: ComparisonBudget
    /// Every run: arms in order (starts outer, activations inner), seeds innermost.
    public var rows: [ComparisonRow]
    /// One summary per arm, in the same order.
    public var arms: [ComparisonArm]
    /// The arm with the lowest mean test error (nil without a test set or if all diverged).
    public var best: String?
}

/// What a run of a comparison is: its arm, seed and rate, and whether it chooses the rate.
public struct ComparisonRunKey: Sendable, Equatable {
    public var start: ComparisonStart
    public var activation: Activation
    public var seed: UInt64
    public var learningRate: Float
    /// True for the rate-selection runs (validation split, no test set).
    public var selection: Bool
    /// "start/activation".
    public var arm: String { "\(start.name)/\(activation.name)" }
}

/// Observers of a comparison's runs (they read, never change, the training): when each run
/// starts, every step (with the gradient norms every `gradientNormsEvery` steps), and the
/// network after every epoch.
public struct ComparisonObservers {
    /// A run starts: its key, its index among all runs of the comparison (0-based, rate
    /// selection first), their number and the run's epochs.
    public var onRunStart: ((_ key: ComparisonRunKey, _ index: Int, _ count: Int, _ epochs: Int) -> Void)?
    public var onMinibatch: ((ComparisonRunKey, MinibatchProgress) -> Void)?
    public var onParameters: ((ComparisonRunKey, _ epoch: Int, Network) -> Void)?
    public var gradientNormsEvery: Int

    public init(onRunStart: ((ComparisonRunKey, Int, Int, Int) -> Void)? = nil,
                onMinibatch: ((ComparisonRunKey, MinibatchProgress) -> Void)? = nil,
                onParameters: ((ComparisonRunKey, Int, Network) -> Void)? = nil, gradientNormsEvery: Int = 0) {
        self.onRunStart = onRunStart
        self.onMinibatch = onMinibatch
        self.onParameters = onParameters
        self.gradientNormsEvery = gradientNormsEvery
    }
}

/// The same architecture trained from several starts and with several hidden activations,
/// on the same data, seeds, epochs and optimiser.
///
/// - Seeds: every arm (start, activation) runs once per seed. The run with seed `s` draws its
///   start from `Xoshiro256StarStar(seed: s).split()` and trains with the next split of the
///   same root, so all arms of a seed see the same minibatch order and dropout masks; the
///   pre-training closure is called once per seed (its randomness is part of the arm).
/// - Learning rates: with a grid, each arm first runs every rate of the grid with the first
///   seed on the training set minus a random validation split of `selectionValidationCount`
///   samples, and keeps the rate with the lowest validation error (the best epoch's; ties go
///   to the earlier rate of the grid). The test set is never seen by that selection. Every
///   seed then runs the chosen rate on the whole training set and is scored on the test set.
/// - Paired tests: the arm with the lowest mean test error is compared with every other arm on
///   the same seeds and test images: paired t-test on the per-seed errors, McNemar's exact
///   test on each seed's predictions and, with two or more seeds, the paired bootstrap over
///   test images and seeds (`bootstrapResamples` resamples seeded with the first seed), whose
///   p-value the verdict uses (McNemar's with one seed; see `PairedComparison.test`).
public struct Comparison: Sendable {
    /// Layer sizes, input first.
    public var sizes: [Int]
    /// The output units and loss.
    public var output: OutputKind
    /// The starts to compare.
    public var starts: [ComparisonStart]
    /// The hidden activations to compare.
    public var activations: [Activation]
    /// The training settings shared by all runs (its seed and learning rate are the defaults
    /// of `seeds` and `learningRates`).
    public var configuration: TrainingConfiguration
    /// Whether the pre-trained layers depend on the activation. If false (the default: an RBM
    /// stack does not know the fine-tuning activation), the closure is called once per seed,
    /// with the first activation, and its layers reused; if true, once per pretrained run.
    public var pretrainingDependsOnActivation: Bool
    /// Training rows used as LSUV's calibration batch (the first ones).
    public var calibrationRows: Int
    /// The seeds (default: the configuration's seed).
    public var seeds: [UInt64]
    /// The learning-rate grid (empty: the configuration's rate, no selection).
    public var learningRates: [Float]
    /// Training samples held out to choose the rate (used only with a grid).
    public var selectionValidationCount: Int
    /// How the fine-tuning budget is shared between starts.
    public var budget: ComparisonBudget
    /// Resamples of the paired bootstrap (several seeds).
    public var bootstrapResamples = 10_000
    /// A fixed learning rate per arm (in the order of `arms`; nil: the configuration's rate),
    /// used without a grid: arms that each run at the rate that suits them.
    public var armLearningRates: [Float]?
    /// Pieces per unit of the maxout arms.
    public var maxoutPieces = 2
    /// The arms to run, when not every start with every activation: pairs of an entry of
    /// `starts` and an entry of `activations` (nil: the full grid, starts outer).
    public var pairs: [(start: ComparisonStart, activation: Activation)]?

    /// The (start, activation) arms: `pairs`, or every start with every activation.
    public var arms: [(start: ComparisonStart, activation: Activation)] {
        pairs ?? starts.flatMap { start in activations.map { (start, $0) } }
    }

    public init(sizes: [Int], output: OutputKind = .softmax, starts: [ComparisonStart] = ComparisonStart.standard,
                activations: [Activation] = [.sigmoid, .relu], configuration: TrainingConfiguration,
                pretrainingDependsOnActivation: Bool = false, calibrationRows: Int = 1000, seeds: [UInt64]? = nil,
                learningRates: [Float] = [], selectionValidationCount: Int = 10_000, budget: ComparisonBudget = .equalEpochs) {
        self.sizes = sizes
        self.output = output
        self.starts = starts
        self.activations = activations
        self.configuration = configuration
        self.pretrainingDependsOnActivation = pretrainingDependsOnActivation
        self.calibrationRows = calibrationRows
        self.seeds = seeds ?? [configuration.seed]
        self.learningRates = learningRates
        self.selectionValidationCount = selectionValidationCount
        self.budget = budget
    }

    /// Checks the settings before any work: sizes, configuration, seeds, grid, split.
    public func validate(trainingCount: Int) throws {
        try Network.validate(sizes: sizes)
        try configuration.validate()
        guard !seeds.isEmpty, Set(seeds).count == seeds.count else {
            throw FineTuningError.invalidConfiguration("seeds must be distinct and at least one, got \(seeds)")
        }
        guard learningRates.allSatisfy({ $0 > 0 && $0.isFinite }), Set(learningRates).count == learningRates.count else {
            throw FineTuningError.invalidConfiguration("learning rates must be distinct and positive, got \(learningRates)")
        }
        if let pairs {
            guard !pairs.isEmpty, Set(pairs.map { "\($0.start.name)/\($0.activation.name)" }).count == pairs.count else {
                throw FineTuningError.invalidConfiguration("arms must be distinct and at least one")
            }
        }
        if let armLearningRates {
            guard armLearningRates.count == arms.count, armLearningRates.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw FineTuningError.invalidConfiguration("one positive learning rate per arm needed, got \(armLearningRates) for \(arms.count) arms")
            }
        }
        guard maxoutPieces >= 1 else {
            throw FineTuningError.invalidConfiguration("maxout needs at least one piece per unit, got \(maxoutPieces)")
        }
        if arms.contains(where: { $0.activation == .maxout && $0.start.initializer.isPretrained }) {
            throw FineTuningError.invalidConfiguration("maxout needs \(maxoutPieces) columns per unit, a pre-trained stack has one: no pretrained/maxout arm")
        }
        if learningRates.count > 1 {
            guard selectionValidationCount >= 1 && selectionValidationCount < trainingCount else {
                throw FineTuningError.invalidConfiguration(
                    "the rate-selection split needs 1..<\(trainingCount) samples, got \(selectionValidationCount)")
            }
        }
    }

    /// Runs the comparison (see the type's documentation): rate selection (with a grid), then
    /// every arm once per seed, then the per-arm summaries and paired tests.
    ///
    /// - `pretrain(activation, seed)` returns the stack's layers (visible x hidden weights and
    ///   hidden biases), needed only if a start is pretrained; it is timed separately.
    /// - A run that diverges gives a row with `divergedAtEpoch` set; other errors are thrown.
    /// - `onRow` sees each scored row when its run ends; `onEpoch` each epoch's report, of the
    ///   selection runs too; `onTrained` the network each scored run returns (not diverged).
    public func run(data: LabeledData, test: LabeledData? = nil,
                    pretrain: ((Activation, UInt64) throws -> [DenseParameters])? = nil,
                    onEpoch: (ComparisonRunKey, EpochReport) -> Void = { _, _ in },
                    onSelection: (ComparisonRunKey, Double?) -> Void = { _, _ in },
                    onRow: (ComparisonRow) -> Void = { _ in },
                    onTrained: (ComparisonRunKey, Network) -> Void = { _, _ in },
                    observers: ComparisonObservers = ComparisonObservers()) throws -> ComparisonResult {
        try validate(trainingCount: data.count)
        let arms = self.arms
        if arms.contains(where: \.start.initializer.isPretrained) && pretrain == nil {
            throw FineTuningError.missingPretrainedLayers
        }
        var layers = PretrainedLayers(pretrain: pretrain, dependsOnActivation: pretrainingDependsOnActivation)
        let runCount = arms.count * (seeds.count + (learningRates.count > 1 ? learningRates.count : 0))
        var runIndex = 0

        // 1. The rate of every arm, chosen on a split of the training set (never the test set).
        var chosen: [Float] = armLearningRates ?? Array(repeating: configuration.learningRate, count: arms.count)
        var validationErrors: [[Double?]] = Array(repeating: [], count: arms.count)
        if learningRates.count > 1 {
            for (a, (start, activation)) in arms.enumerated() {
                validationErrors[a] = try learningRates.map { rate in
                    let key = ComparisonRunKey(start: start, activation: activation, seed: seeds[0], learningRate: rate, selection: true)
                    observers.onRunStart?(key, runIndex, runCount, configuration.epochs)
                    runIndex += 1
                    let error = try selectionError(key, data: data, layers: &layers, onEpoch: onEpoch, observers: observers)
                    onSelection(key, error)
                    return error
                }
                let best = validationErrors[a].enumerated().compactMap { i, e in e.map { (i, $0) } }.min { $0.1 < $1.1 }
                chosen[a] = best.map { learningRates[$0.0] } ?? learningRates[0]
            }
        } else if let only = learningRates.first {
            chosen = Array(repeating: only, count: arms.count)
        }

        // 2. Every arm once per seed, pretrained arms first (equal-time needs their times).
        var rows = [[ComparisonRow?]](repeating: Array(repeating: nil, count: seeds.count), count: arms.count)
        let order = arms.indices.filter { arms[$0].0.initializer.isPretrained } + arms.indices.filter { !arms[$0].0.initializer.isPretrained }
        for (s, seed) in seeds.enumerated() {
            for a in order {
                let (start, activation) = arms[a]
                var epochs = configuration.epochs
                if budget == .equalTime && !start.initializer.isPretrained,
                   let reference = equalTimeReference(rows.indices.compactMap { rows[$0][s] }, activation: activation) {
                    epochs += reference
                }
                let key = ComparisonRunKey(start: start, activation: activation, seed: seed, learningRate: chosen[a], selection: false)
                observers.onRunStart?(key, runIndex, runCount, epochs)
                runIndex += 1
                let row = try scoredRun(key, epochs: epochs, data: data, test: test, layers: &layers, onEpoch: onEpoch,
                                        onTrained: onTrained, observers: observers)
                rows[a][s] = row
                onRow(row)
            }
        }
        let allRows = rows.flatMap { $0.map { $0! } }

        // 3. Summaries and paired tests against the best arm.
        var summaries = arms.indices.map { a in
            summary(rows[a].map { $0! }, rate: chosen[a], validationErrors: validationErrors[a])
        }
        let best = summaries.indices.filter { summaries[$0].meanTestError != nil }.min {
            summaries[$0].meanTestError! < summaries[$1].meanTestError!
        }
        if let best {
            for a in summaries.indices where a != best && summaries[a].meanTestError != nil {
                summaries[a].versusBest = Comparison.paired(rows[best].map { $0! }, rows[a].map { $0! }, best: summaries[best].name,
                                                            testCount: test?.count, resamples: bootstrapResamples, seed: seeds[0])
            }
        }
        return ComparisonResult(learningRates: learningRates.count > 1 ? learningRates : [],
                                selectionValidationCount: learningRates.count > 1 ? selectionValidationCount : 0,
                                budget: budget, rows: allRows, arms: summaries, best: best.map { summaries[$0].name })
    }

    /// The pre-trained layers, one closure call per seed (and per activation if they depend on it).
    struct PretrainedLayers {
        let pretrain: ((Activation, UInt64) throws -> [DenseParameters])?
        let dependsOnActivation: Bool
        var cache: [String: (layers: [DenseParameters], seconds: Double)] = [:]

        mutating func layers(_ activation: Activation, seed: UInt64) throws -> (layers: [DenseParameters], seconds: Double) {
            let key = dependsOnActivation ? "\(seed)/\(activation.name)" : "\(seed)"
            if let cached = cache[key] { return cached }
            guard let pretrain else { throw FineTuningError.missingPretrainedLayers }
            let clock = ContinuousClock()
            let began = clock.now
            let layers = try pretrain(activation, seed)
            cache[key] = (layers, Trainer.seconds(clock.now - began))
            return cache[key]!
        }
    }

    /// The network of `key`'s arm for its seed, with its generator for training and the
    /// pre-training seconds.
    func start(_ key: ComparisonRunKey, data: LabeledData,
               layers: inout PretrainedLayers) throws -> (Network, Xoshiro256StarStar, Double) {
        var initializer = key.start.initializer
        var seconds = 0.0
        if initializer.isPretrained {
            let pretrained = try layers.layers(key.activation, seed: key.seed)
            initializer = initializer.withPretrainedLayers(pretrained.layers)
            seconds = pretrained.seconds
        }
        var root = Xoshiro256StarStar(seed: key.seed)
        var initGenerator = root.split()
        let trainGenerator = root.split()
        let calibration = data.inputs.rows(in: 0..<min(calibrationRows, data.count))
        let network = try Network(sizes: sizes, hiddenActivation: key.activation, output: output, maxoutPieces: maxoutPieces,
                                  initializer: initializer, calibrationData: calibration, generator: &initGenerator)
        return (key.start.batchNorm ? network.withBatchNormalization() : network, trainGenerator, seconds)
    }

    /// The validation error of a rate-selection run (nil if it diverged): the training set
    /// minus a random split of `selectionValidationCount` samples, no test set.
    func selectionError(_ key: ComparisonRunKey, data: LabeledData, layers: inout PretrainedLayers,
                        onEpoch: (ComparisonRunKey, EpochReport) -> Void,
                        observers: ComparisonObservers = ComparisonObservers()) throws -> Double? {
        var c = configuration
        c.learningRate = key.learningRate
        c.validationCount = selectionValidationCount
        c.validationSelection = .random
        var (network, generator, _) = try start(key, data: data, layers: &layers)
        do {
            let result = try observedTraining(key, network, data: data, test: nil, configuration: c, generator: &generator,
                                              observers: observers) { report in onEpoch(key, report) }
            return result.reports[result.bestEpoch - 1].validationError
        } catch FineTuningError.diverged {
            return nil
        }
    }

    /// One scored run: `epochs` epochs at the key's rate on the whole training set, the
    /// returned network scored on the test set.
    func scoredRun(_ key: ComparisonRunKey, epochs: Int, data: LabeledData, test: LabeledData?,
                   layers: inout PretrainedLayers, onEpoch: (ComparisonRunKey, EpochReport) -> Void,
                   onTrained: (ComparisonRunKey, Network) -> Void = { _, _ in },
                   observers: ComparisonObservers = ComparisonObservers()) throws -> ComparisonRow {
        var c = configuration
        c.learningRate = key.learningRate
        c.epochs = epochs
        var (network, generator, pretrainingSeconds) = try start(key, data: data, layers: &layers)
        var reports: [EpochReport] = []
        var row = ComparisonRow(start: key.start.name, activation: key.activation.name, seed: key.seed,
                                learningRate: key.learningRate, epochs: epochs, testError: nil, validationError: nil,
                                bestEpoch: 0, finalTrainLoss: nil, fineTuningSeconds: 0, pretrainingSeconds: pretrainingSeconds,
                                totalSeconds: 0, firstEpochGradientNorms: [], divergedAtEpoch: nil, reports: [],
                                misclassifiedTestSamples: nil)
        do {
            let result = try observedTraining(key, network, data: data, test: test, configuration: c, generator: &generator,
                                              observers: observers) { report in
                reports.append(report)
                onEpoch(key, report)
            }
            if let test {
                row.testError = result.network.evaluate(test).errorRate
                if output == .softmax {
                    let labels = test.labels
                    row.misclassifiedTestSamples = result.network.classify(test.inputs).enumerated()
                        .filter { $0.element != labels[$0.offset] }.map(\.offset)
                }
            }
            row.validationError = result.reports[result.bestEpoch - 1].validationError
            row.bestEpoch = result.bestEpoch
            onTrained(key, result.network)
        } catch FineTuningError.diverged(let epoch) {
            row.divergedAtEpoch = epoch
        }
        row.reports = reports
        row.finalTrainLoss = reports.last?.trainLoss
        row.fineTuningSeconds = reports.reduce(0) { $0 + $1.seconds }
        row.totalSeconds = row.pretrainingSeconds + row.fineTuningSeconds
        row.firstEpochGradientNorms = reports.first?.layers.map(\.gradientNorm) ?? []
        return row
    }

    /// `Trainer.train` of one run with the observers attached.
    private func observedTraining(_ key: ComparisonRunKey, _ network: Network, data: LabeledData, test: LabeledData?,
                                  configuration c: TrainingConfiguration, generator: inout Xoshiro256StarStar,
                                  observers: ComparisonObservers, onEpoch: (EpochReport) -> Void) throws -> TrainingResult {
        try Trainer(configuration: c).train(
            network, data: data, test: test, generator: &generator,
            onEpoch: { report, network in
                onEpoch(report)
                observers.onParameters?(key, report.epoch, network)
            },
            onMinibatch: observers.onMinibatch.map { observe in { observe(key, $0) } },
            gradientNormsEvery: observers.gradientNormsEvery)
    }

    /// The extra epochs a random start gets under `.equalTime`: the pre-training seconds of the
    /// seed's pretrained run with `activation` (or any pretrained run of the seed) over that
    /// run's seconds per fine-tuning epoch. Nil without such a run.
    func equalTimeReference(_ seedRows: [ComparisonRow], activation: Activation) -> Int? {
        let pretrainedNames = Set(arms.map(\.start).filter(\.initializer.isPretrained).map(\.name))
        let pretrained = seedRows.filter { pretrainedNames.contains($0.start) && !$0.reports.isEmpty }
        guard let reference = pretrained.first(where: { $0.activation == activation.name }) ?? pretrained.first,
              reference.fineTuningSeconds > 0 else { return nil }
        let perEpoch = reference.fineTuningSeconds / Double(reference.reports.count)
        return Int((reference.pretrainingSeconds / perEpoch).rounded())
    }

    /// An arm's summary over its seeds' rows.
    func summary(_ rows: [ComparisonRow], rate: Float, validationErrors: [Double?]) -> ComparisonArm {
        let errors = rows.map(\.testError)
        let complete = errors.allSatisfy { $0 != nil } ? errors.map { $0! } : nil
        return ComparisonArm(start: rows[0].start, activation: rows[0].activation, learningRate: rate,
                             validationErrors: validationErrors, seeds: rows.map(\.seed), testErrors: errors,
                             meanTestError: complete.map(Statistics.mean),
                             standardDeviation: complete.flatMap { $0.count >= 2 ? Statistics.standardDeviation($0) : nil },
                             interval: complete.flatMap { Statistics.tInterval($0) }.map {
                                 Statistics.Interval(lower: max($0.lower, 0), upper: min($0.upper, 1))
                             },
                             meanTotalSeconds: Statistics.mean(rows.map(\.totalSeconds)), versusBest: nil)
    }

    /// The paired tests of `other` against `best` (rows of the same seeds, in the same order,
    /// scored on `testCount` test samples): the paired t-test, McNemar's per seed and, with
    /// two or more seeds and predictions, the paired bootstrap of other minus best.
    static func paired(_ best: [ComparisonRow], _ other: [ComparisonRow], best name: String,
                       testCount: Int?, resamples: Int, seed: UInt64) -> PairedComparison {
        let t = Statistics.pairedTTest(best.map { $0.testError! }, other.map { $0.testError! })
        let predictions = zip(best, other).compactMap { b, o -> (best: [Int], other: [Int])? in
            guard let bw = b.misclassifiedTestSamples, let ow = o.misclassifiedTestSamples else { return nil }
            return (bw, ow)
        }
        let mcNemar = predictions.map { Statistics.mcNemarExact(firstWrong: $0.best, secondWrong: $0.other) }
        var bootstrap: Statistics.BootstrapResult?
        if best.count >= 2, predictions.count == best.count, let testCount, testCount > 0 {
            bootstrap = Statistics.pairedBootstrap(firstWrong: predictions.map(\.other), secondWrong: predictions.map(\.best),
                                                   sampleCount: testCount, resamples: resamples, seed: seed)
        }
        let test: PairedTest? = bootstrap != nil ? .pairedBootstrap : t != nil ? .pairedT : mcNemar.count == 1 ? .mcNemarExact : nil
        let p: Double? = switch test {
        case .pairedBootstrap: bootstrap?.pValue
        case .pairedT: t?.pValue
        case .mcNemarExact: mcNemar[0].pValue
        case nil: nil
        }
        return PairedComparison(best: name, pairedT: t, mcNemar: mcNemar, bootstrap: bootstrap, test: test,
                                pValue: p, distinguishable: p.map { $0 < 0.05 })
    }
}

extension ComparisonRow {
    /// Wall-clock seconds spent when each epoch ended: pre-training plus the fine-tuning
    /// minibatch loops so far (evaluations excluded): the x axis of a time-to-accuracy curve.
    public var secondsAtEpoch: [Double] {
        var total = pretrainingSeconds
        return reports.map { total += $0.seconds; return total }
    }
}

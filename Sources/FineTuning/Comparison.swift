import Linalg

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
}

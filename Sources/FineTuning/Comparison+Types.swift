import Linalg

// The value types of a comparison: its starts, budget, rows, arms, paired tests and observers
// (what `Comparison.run` takes and returns). The engine is in Comparison.swift.

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

extension ComparisonRow {
    /// Wall-clock seconds spent when each epoch ended: pre-training plus the fine-tuning
    /// minibatch loops so far (evaluations excluded): the x axis of a time-to-accuracy curve.
    public var secondsAtEpoch: [Double] {
        var total = pretrainingSeconds
        return reports.map { total += $0.seconds; return total }
    }
}

import Linalg

/// One start of a comparison: a name for the tables and its initialiser.
public struct ComparisonStart: Sendable, Equatable {
    /// The name shown in tables.
    public var name: String
    /// The initialiser; `.pretrained` (with or without layers) means "call the pre-training
    /// closure" and take only its output-layer start from here.
    public var initializer: WeightInitializer

    public init(name: String, initializer: WeightInitializer) {
        self.name = name
        self.initializer = initializer
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

/// The result of one run of a comparison.
public struct ComparisonRow: Sendable, Codable, Equatable {
    /// The start's name.
    public var start: String
    /// The hidden activation's name.
    public var activation: String
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
    /// are shared across activations, every pretrained row shows the one call's time.
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
}

/// The same architecture trained from several starts and with several hidden activations,
/// on the same data, seed, epochs and optimiser: one `ComparisonRow` per (start, activation).
///
/// Every run draws its start from `Xoshiro256StarStar(seed: configuration.seed).split()` and
/// trains with the next split of the same root, so all runs see the same validation split,
/// the same minibatch order and the same dropout masks.
public struct Comparison: Sendable {
    /// Layer sizes, input first.
    public var sizes: [Int]
    /// The output units and loss.
    public var output: OutputKind
    /// The starts to compare.
    public var starts: [ComparisonStart]
    /// The hidden activations to compare.
    public var activations: [Activation]
    /// The training settings shared by all runs.
    public var configuration: TrainingConfiguration
    /// Whether the pre-trained layers depend on the activation. If false (the default: an RBM
    /// stack does not know the fine-tuning activation), the closure is called once, with the
    /// first activation, and its layers reused; if true, it is called once per pretrained run.
    public var pretrainingDependsOnActivation: Bool
    /// Training rows used as LSUV's calibration batch (the first ones).
    public var calibrationRows: Int

    public init(sizes: [Int], output: OutputKind = .softmax, starts: [ComparisonStart] = ComparisonStart.standard,
                activations: [Activation] = [.sigmoid, .relu], configuration: TrainingConfiguration,
                pretrainingDependsOnActivation: Bool = false, calibrationRows: Int = 1000) {
        self.sizes = sizes
        self.output = output
        self.starts = starts
        self.activations = activations
        self.configuration = configuration
        self.pretrainingDependsOnActivation = pretrainingDependsOnActivation
        self.calibrationRows = calibrationRows
    }

    /// Runs every (start, activation) pair, starts in the outer loop.
    ///
    /// - `pretrain(activation)` returns the stack's layers (visible x hidden weights and hidden
    ///   biases), needed only if a start is pretrained; it is timed separately.
    /// - A run that diverges gives a row with `divergedAtEpoch` set; other errors are thrown.
    /// - `onRow` sees each row when its run ends; `onEpoch` each epoch's report.
    public func run(data: LabeledData, test: LabeledData? = nil,
                    pretrain: ((Activation) throws -> [DenseParameters])? = nil,
                    onEpoch: (ComparisonStart, Activation, EpochReport) -> Void = { _, _, _ in },
                    onRow: (ComparisonRow) -> Void = { _ in }) throws -> [ComparisonRow] {
        try Network.validate(sizes: sizes)
        let clock = ContinuousClock()
        var cached: (layers: [DenseParameters], seconds: Double)?
        let calibration = data.inputs.rows(in: 0..<min(calibrationRows, data.count))
        var rows: [ComparisonRow] = []

        for start in starts {
            for activation in activations {
                var initializer = start.initializer
                var pretrainingSeconds = 0.0
                if initializer.isPretrained {
                    guard let pretrain else { throw FineTuningError.missingPretrainedLayers }
                    if cached == nil || pretrainingDependsOnActivation {
                        let began = clock.now
                        let layers = try pretrain(activation)
                        cached = (layers, Trainer.seconds(clock.now - began))
                    }
                    initializer = initializer.withPretrainedLayers(cached!.layers)
                    pretrainingSeconds = cached!.seconds
                }
                var root = Xoshiro256StarStar(seed: configuration.seed)
                var initGenerator = root.split()
                var trainGenerator = root.split()
                let network = try Network(sizes: sizes, hiddenActivation: activation, output: output,
                                          initializer: initializer, calibrationData: calibration,
                                          generator: &initGenerator)
                var reports: [EpochReport] = []
                var row = ComparisonRow(start: start.name, activation: activation.name, testError: nil,
                                        validationError: nil, bestEpoch: 0, finalTrainLoss: nil,
                                        fineTuningSeconds: 0, pretrainingSeconds: pretrainingSeconds,
                                        totalSeconds: 0, firstEpochGradientNorms: [], divergedAtEpoch: nil, reports: [])
                do {
                    let result = try train(network: network, data: data, test: test, configuration: configuration,
                                           generator: &trainGenerator) { report, _ in
                        reports.append(report)
                        onEpoch(start, activation, report)
                    }
                    row.testError = test.map { result.network.evaluate($0).errorRate }
                    row.validationError = result.reports[result.bestEpoch - 1].validationError
                    row.bestEpoch = result.bestEpoch
                } catch FineTuningError.diverged(let epoch) {
                    row.divergedAtEpoch = epoch
                }
                row.reports = reports
                row.finalTrainLoss = reports.last?.trainLoss
                row.fineTuningSeconds = reports.reduce(0) { $0 + $1.seconds }
                row.totalSeconds = row.pretrainingSeconds + row.fineTuningSeconds
                row.firstEpochGradientNorms = reports.first?.layers.map(\.gradientNorm) ?? []
                rows.append(row)
                onRow(row)
            }
        }
        return rows
    }
}

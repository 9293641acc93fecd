import Linalg

/// Fine-tuning one minibatch at a time: the engine of `Trainer.train` (which loops over it),
/// for callers that drive the loop themselves (benchmarks, custom schedules, online data).
///
/// All buffers (parameters, gradients, optimiser moments, the activations and deltas of a
/// minibatch of up to `batchSize` rows) are allocated once by `init`; `step` gathers the
/// minibatch's rows and runs forward, loss, backward, the optimiser step and max-norm in place
/// without allocating. Epoch `e` (1-based) of `Trainer.train` on training indices `training`
/// is, with `seed` the run's seed:
///
///     var order = training
///     var shuffler = RandomStream(seed: seed, purpose: .shuffle(layer: -1), epoch: e).generator()
///     shuffler.shuffle(&order)
///     for (k, first) in stride(from: 0, to: order.count, by: batchSize).enumerated():
///         stepper.step(on: data, rows: order[first..<min(first + batchSize, order.count)],
///                      learningRate: c.learningRate(epoch: e), trainHidden: e > c.freezeHiddenEpochs,
///                      epoch: e, minibatch: k)
///
/// The dropout masks of a step are keyed by (`seed`, layer, `epoch`, `minibatch`, row, unit),
/// and every product is split into blocks fixed by its shape: the results do not depend on the
/// number of threads (`Lanes.setThreads`). OpenBLAS is set to one thread during each step and
/// restored after it. Not thread-safe: one caller at a time.
public final class FineTuningStepper {
    /// The sums over one minibatch, measured before its update.
    public struct Statistics: Sendable, Equatable {
        /// The summed loss (cross-entropy) over the minibatch's rows.
        public var lossSum: Double
        /// Misclassified rows (softmax output) or wrong bits (sigmoid output).
        public var errors: Int

        public init(lossSum: Double, errors: Int) {
            self.lossSum = lossSum
            self.errors = errors
        }
    }

    let engine: BackpropEngine
    /// The network the stepper was made from; `network` copies the parameters into it.
    private let template: Network
    /// The training settings (`epochs`, the validation split, early stopping and the schedule
    /// are not used by `step`; the update rule, dropout, weight decay and max-norm are).
    public let configuration: TrainingConfiguration
    /// The seed of the dropout masks.
    public let seed: UInt64
    /// The epoch whose update rule the engine holds (the momentum schedule's).
    private var ruleEpoch = 1

    /// A stepper for `network` with the update rule of `configuration`, for minibatches of at
    /// most `batchSize` rows (default `configuration.batchSize`), drawing dropout masks from
    /// `seed` (default `configuration.seed`). The optimiser's moments start at zero.
    ///
    /// Throws `FineTuningError.invalidConfiguration` for a bad configuration or batch size.
    public init(network: Network, configuration: TrainingConfiguration, batchSize: Int? = nil, seed: UInt64? = nil) throws {
        try configuration.validate()
        let batchSize = batchSize ?? configuration.batchSize
        guard batchSize >= 1 else {
            throw FineTuningError.invalidConfiguration("batchSize must be at least 1, got \(batchSize)")
        }
        let collective = Collectives.current
        guard batchSize >= collective.size else {
            throw FineTuningError.invalidConfiguration(
                "the batch size \(batchSize) is smaller than the number of processes \(collective.size)")
        }
        guard collective.size == 1 || !network.isBatchNormalized else {
            throw FineTuningError.invalidConfiguration(
                "batch normalisation with \(collective.size) processes: the minibatch statistics are not all-reduced across processes; run it in one process")
        }
        guard Collectives.rowGroups == nil || !network.isBatchNormalized else {
            throw FineTuningError.invalidConfiguration(
                "batch normalisation with --reproducible: each row group would normalise with its own statistics; run it without --reproducible")
        }
        if let groups = Collectives.rowGroups {
            try Collectives.checkRowGroups(groups, batchSize: batchSize, processes: collective.size) {
                FineTuningError.invalidConfiguration($0)
            }
        }
        engine = BackpropEngine(network: network, capacity: batchSize, configuration: configuration,
                                collective: collective, rowGroups: Collectives.rowGroups)
        collective.broadcast(engine.weights + engine.biases)  // every process starts from rank 0's
        template = network
        self.configuration = configuration
        self.seed = seed ?? configuration.seed
    }

    /// The largest minibatch `step` accepts.
    public var batchSize: Int { engine.capacity }
    /// The number of inputs n_0 (the columns of the inputs).
    public var inputCount: Int { engine.sizes[0] }
    /// The number of outputs n_L (the columns of the targets).
    public var outputCount: Int { engine.sizes[engine.layerCount] }

    /// One minibatch update on the rows `rows` (1 ... `batchSize` of them) of `inputs`
    /// (row-major, `inputCount` columns) and `targets` (row-major, `outputCount` columns);
    /// both are only read and the indices are not checked. Allocates nothing.
    ///
    /// - `learningRate`: this step's rate (default `configuration.learningRate`); the momentum
    ///   is `configuration.momentum(epoch: epoch)` (the momentum schedule's, if any);
    /// - `trainHidden`: false updates only the output layer (`freezeHiddenEpochs`);
    /// - `epoch`, `minibatch`: where the step sits in the run, the key of its dropout masks
    ///   (steps with the same key draw the same masks).
    ///
    /// Returns the summed loss and errors of the minibatch before the update.
    ///
    /// Data-parallel training (`Collectives.current` with several processes): every process
    /// passes the whole minibatch, computes on its share of the rows (`Collective.share`) and
    /// applies the update of the whole minibatch; the statistics are the whole minibatch's.
    /// In the reproducible mode (`Collectives.rowGroups`) the processes own whole row groups
    /// and the result does not depend on their number (`BackpropEngine.groupedStep`).
    @discardableResult
    public func step(inputs: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: UnsafeBufferPointer<Int>,
                     learningRate: Float? = nil, trainHidden: Bool = true, epoch: Int, minibatch: Int) -> Statistics {
        precondition(rows.count >= 1 && rows.count <= batchSize,
                     "FineTuningStepper: \(rows.count) rows for a batch size of \(batchSize)")
        if configuration.momentumSchedule != nil && epoch != ruleEpoch {
            engine.rule = configuration.optimizerStep(epoch: epoch)
            ruleEpoch = epoch
        }
        if let groups = engine.rowGroups {     // the reproducible mode
            let stats = BLASThreads.singleThreaded {
                engine.groupedStep(groups, indices: rows, inputs: inputs, targets: targets,
                                   learningRate: learningRate ?? configuration.learningRate, trainHidden: trainHidden,
                                   key: StepKey(seed: seed, epoch: epoch, minibatch: minibatch))
            }
            return Statistics(lossSum: stats.lossSum, errors: stats.errors)
        }
        let share = engine.collective.share(ofRows: rows.count, capacity: batchSize)
        engine.loadRows(UnsafeBufferPointer(rebasing: rows[share]), inputs: inputs, targets: targets)
        let key = StepKey(seed: seed, epoch: epoch, minibatch: minibatch, firstRow: share.lowerBound)
        let stats = BLASThreads.singleThreaded {
            engine.step(rows: share.count, batchRows: rows.count, learningRate: learningRate ?? configuration.learningRate,
                        trainHidden: trainHidden, key: key)
        }
        return Statistics(lossSum: stats.lossSum, errors: stats.errors)
    }

    /// `step` on the rows `rows` of `data` (whose shapes must fit the network); the indices
    /// are checked. Allocates nothing.
    @discardableResult
    public func step(on data: LabeledData, rows: ArraySlice<Int>, learningRate: Float? = nil, trainHidden: Bool = true,
                     epoch: Int, minibatch: Int) -> Statistics {
        withRows(of: data, rows) { x, t, indices in
            step(inputs: x, targets: t, rows: indices, learningRate: learningRate, trainHidden: trainHidden,
                 epoch: epoch, minibatch: minibatch)
        }
    }

    /// An observer: the norm of each layer's weight gradient (of the mean loss, without weight
    /// decay) on the rows `rows` of `data` with the current weights and the dropout masks that
    /// `step(on: data, rows: rows, epoch: epoch, minibatch: minibatch)` would draw, for every
    /// layer (frozen ones too). It changes neither the parameters nor the optimiser's state:
    /// a run that calls it gives the same model, bit for bit, as one that does not. Allocates
    /// the returned array.
    public func gradientNorms(on data: LabeledData, rows: ArraySlice<Int>, epoch: Int, minibatch: Int) -> [Double] {
        withRows(of: data, rows) { x, t, indices in
            load(indices, inputs: x, targets: t)
            return BLASThreads.singleThreaded {
                engine.gradientNorms(rows: indices.count, key: StepKey(seed: seed, epoch: epoch, minibatch: minibatch))
            }
        }
    }

    /// Whether every weight and bias is finite (false once training has diverged).
    public var parametersAreFinite: Bool { engine.parametersAreFinite }

    /// The network with the current parameters (a new copy; allocates).
    public var network: Network {
        var network = template
        engine.store(into: &network)
        return network
    }

    private func load(_ rows: UnsafeBufferPointer<Int>, inputs: UnsafePointer<Float>, targets: UnsafePointer<Float>) {
        let b = rows.count
        precondition(b >= 1 && b <= batchSize, "FineTuningStepper: \(b) rows for a batch size of \(batchSize)")
        engine.loadRows(rows, inputs: inputs, targets: targets)
    }

    /// `body(inputs, targets, indices)` for the rows `rows` of `data`, after checking shapes and indices.
    private func withRows<T>(of data: LabeledData, _ rows: ArraySlice<Int>,
                             _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeBufferPointer<Int>) -> T) -> T {
        precondition(data.inputs.columns == inputCount && data.targets.columns == outputCount,
                     "FineTuningStepper: data of \(data.inputs.columns) -> \(data.targets.columns) columns for a "
                     + "\(inputCount) -> \(outputCount) network")
        return rows.withUnsafeBufferPointer { indices in
            for index in indices {
                precondition(index >= 0 && index < data.count, "FineTuningStepper: row \(index) of \(data.count)")
            }
            return data.inputs.elements.withUnsafeBufferPointer { x in
                data.targets.elements.withUnsafeBufferPointer { t in body(x.baseAddress!, t.baseAddress!, indices) }
            }
        }
    }
}

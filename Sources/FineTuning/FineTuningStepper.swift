import Linalg

/// Fine-tuning one minibatch at a time: the engine of `Trainer.train`, for callers that drive
/// the loop themselves (benchmarks, custom schedules, online data).
///
/// All buffers (parameters, optimiser moments, the activations and deltas of a minibatch of up
/// to `batchSize` rows) are allocated once by `init`; `step` gathers the minibatch's rows and
/// runs forward, loss, backward and the update in place without allocating. The update is
/// `Trainer.train`'s, bit for bit: one epoch `e` (1-based) of `train` without a validation set is
///
///     var order = Array(0..<n); generator.shuffle(&order)
///     for each minibatch `order[first..<last]`:
///         stepper.step(on: data, rows: order[first..<last], learningRate: c.learningRate(epoch: e),
///                      trainHidden: e > c.freezeHiddenEpochs, recordGradientNorms: first == 0,
///                      generator: &generator)
///
/// with a stepper made with `batchSize: min(c.batchSize, n)`. Threads: each step is split
/// into one lane per BLAS thread (see `Lanes`), with OpenBLAS set to one thread during the
/// step and restored after it. Not thread-safe: one caller at a time.
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

    private let state: TrainingState
    /// The network the stepper was made from; `network` copies the parameters into it.
    private let template: Network
    /// The training settings (`epochs`, the validation split, early stopping, the schedule and
    /// `seed` are not used by `step`; the update rule, dropout and weight decay are).
    public let configuration: TrainingConfiguration

    /// A stepper for `network` with the update rule of `configuration`, for minibatches of at
    /// most `batchSize` rows (default `configuration.batchSize`). The optimiser's moments
    /// start at zero.
    ///
    /// Throws `FineTuningError.invalidConfiguration` for a bad configuration or batch size.
    public init(network: Network, configuration: TrainingConfiguration, batchSize: Int? = nil) throws {
        try configuration.validate()
        let batchSize = batchSize ?? configuration.batchSize
        guard batchSize >= 1 else {
            throw FineTuningError.invalidConfiguration("batchSize must be at least 1, got \(batchSize)")
        }
        state = TrainingState(network: network, capacity: batchSize, configuration: configuration)
        template = network
        self.configuration = configuration
    }

    /// The largest minibatch `step` accepts.
    public var batchSize: Int { state.capacity }
    /// The number of inputs n_0 (the columns of the inputs).
    public var inputCount: Int { state.sizes[0] }
    /// The number of outputs n_L (the columns of the targets).
    public var outputCount: Int { state.sizes[state.layerCount] }

    /// One minibatch update on the rows `rows` (1 ... `batchSize` of them) of `inputs`
    /// (row-major, `inputCount` columns) and `targets` (row-major, `outputCount` columns);
    /// both are only read and the indices are not checked. Allocates nothing.
    ///
    /// - `learningRate`: this step's rate (default `configuration.learningRate`);
    /// - `trainHidden`: false updates only the output layer (`freezeHiddenEpochs`);
    /// - `recordGradientNorms`: forms every layer's weight gradient explicitly and keeps its
    ///   norm in `gradientNorms` (`Trainer` does so on each epoch's first minibatch; the
    ///   update is the same up to rounding);
    /// - `generator`: draws the dropout masks (untouched without dropout).
    ///
    /// Returns the summed loss and errors of the minibatch before the update.
    @discardableResult
    public func step(inputs: UnsafePointer<Float>, targets: UnsafePointer<Float>, rows: UnsafeBufferPointer<Int>,
                     learningRate: Float? = nil, trainHidden: Bool = true, recordGradientNorms: Bool = false,
                     generator: inout Xoshiro256StarStar) -> Statistics {
        let b = rows.count
        precondition(b >= 1 && b <= batchSize, "FineTuningStepper.step: \(b) rows for a batch size of \(batchSize)")
        state.loadRows(rows, inputs: inputs, targets: targets)
        let stats = Lanes.withSingleThreadedBLAS {
            state.step(rows: b, learningRate: learningRate ?? configuration.learningRate,
                       trainHidden: trainHidden, recordGradientNorms: recordGradientNorms,
                       generator: &generator)
        }
        return Statistics(lossSum: stats.lossSum, errors: stats.errors)
    }

    /// `step` on the rows `rows` of `data` (whose shapes must fit the network); the indices
    /// are checked. Allocates nothing.
    @discardableResult
    public func step(on data: LabeledData, rows: ArraySlice<Int>, learningRate: Float? = nil, trainHidden: Bool = true,
                     recordGradientNorms: Bool = false, generator: inout Xoshiro256StarStar) -> Statistics {
        precondition(data.inputs.columns == inputCount && data.targets.columns == outputCount,
                     "FineTuningStepper.step: data of \(data.inputs.columns) -> \(data.targets.columns) columns for a "
                     + "\(inputCount) -> \(outputCount) network")
        return rows.withUnsafeBufferPointer { indices in
            for index in indices {
                precondition(index >= 0 && index < data.count, "FineTuningStepper.step: row \(index) of \(data.count)")
            }
            return data.inputs.elements.withUnsafeBufferPointer { x in
                data.targets.elements.withUnsafeBufferPointer { t in
                    step(inputs: x.baseAddress!, targets: t.baseAddress!, rows: indices, learningRate: learningRate,
                         trainHidden: trainHidden, recordGradientNorms: recordGradientNorms, generator: &generator)
                }
            }
        }
    }

    /// The norms of each layer's weight gradient (of the mean loss) from the last step that
    /// recorded them (zeros before). Holding the array makes the next recording step copy it.
    public var gradientNorms: [Double] { state.gradientNorms }

    /// Whether every weight and bias is finite (false once training has diverged).
    public var parametersAreFinite: Bool { state.parametersAreFinite }

    /// The network with the current parameters (a new copy; allocates).
    public var network: Network {
        var network = template
        state.store(into: &network)
        return network
    }
}

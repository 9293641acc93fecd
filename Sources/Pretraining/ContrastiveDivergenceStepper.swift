import Linalg

/// Contrastive-divergence training one minibatch at a time: the engine of `RBM.train`, for
/// callers that drive the loop themselves (benchmarks, custom schedules, online data).
///
/// All buffers (parameters, velocities, the minibatch's visible and hidden stacks) are
/// allocated once by `init`; `step` copies the minibatch's rows in and updates the parameters
/// in place without allocating (see `ContrastiveDivergence` for the algorithm and
/// `RBMTrainingConfiguration` for the recipe). `RBM.train` is this loop:
///
///     let stepper = try ContrastiveDivergenceStepper(rbm: rbm, configuration: c, seed: seed)
///     for epoch in 0..<c.epochs {
///         stepper.setEpoch(epoch)                  // its rate, k and momentum; minibatch 0
///         let order = RBM.minibatchOrder(rows: n, seed: seed, layer: 0, epoch: epoch)
///         for each minibatch `order[first..<last]`: stepper.step(on: data, rows: order[first..<last])
///     }
///
/// Every random draw is keyed by (seed, layer, epoch, minibatch, row, unit): the results do not
/// depend on the number of threads (`Lanes.threads`) that run the step's blocks. Not
/// thread-safe: one caller at a time.
public final class ContrastiveDivergenceStepper {
    private let engine: ContrastiveDivergence
    /// The RBM the stepper was made from; `rbm` and `store(into:)` copy the parameters into it.
    private let template: RBM
    /// The training hyper-parameters (`epochs` and `seed` are not used by `step`).
    public var configuration: RBMTrainingConfiguration { engine.configuration }
    /// The seed that keys the stepper's random draws.
    public var seed: UInt64 { engine.seed }

    /// A stepper for `rbm` with the update rule of `configuration`, for minibatches of at most
    /// `batchSize` rows (default `configuration.batchSize`), its draws keyed by `seed` and
    /// `layer` (the RBM's place in a stack). The velocities start at zero; epoch 0 is current.
    ///
    /// With `configuration.centered`, `visibleOffset` is centering's mu: the training data's
    /// column means (`RBM.train` passes them; nil: 0.5 for every unit).
    ///
    /// Throws `PretrainingError.invalidConfiguration` for a bad configuration or batch size.
    public init(rbm: RBM, configuration: RBMTrainingConfiguration, batchSize: Int? = nil, seed: UInt64,
                layer: Int = 0, visibleOffset: [Float]? = nil) throws {
        try configuration.validate()
        let batchSize = batchSize ?? configuration.batchSize
        guard batchSize >= 1 else {
            throw PretrainingError.invalidConfiguration("batchSize must be >= 1, got \(batchSize)")
        }
        if configuration.resampleBinaryData && rbm.visibleUnits != .bernoulli {
            throw PretrainingError.invalidConfiguration(
                "resampleBinaryData needs Bernoulli visible units, this RBM has \(rbm.visibleUnits.rawValue) ones")
        }
        try Self.checkProcesses(Collectives.current, configuration: configuration, batchSize: batchSize)
        if configuration.temperatures > 1 && (rbm.visibleUnits != .bernoulli || rbm.hiddenUnits != .bernoulli) {
            throw PretrainingError.invalidConfiguration(
                "parallel tempering needs Bernoulli visible and hidden units, this RBM has \(rbm.visibleUnits.rawValue) and \(rbm.hiddenUnits.rawValue) ones")
        }
        if let visibleOffset, visibleOffset.count != rbm.visibleCount {
            throw PretrainingError.shapeMismatch(what: "centering's visible offsets", expected: rbm.visibleCount,
                                                 found: visibleOffset.count)
        }
        engine = ContrastiveDivergence(rbm: rbm, configuration: configuration, capacity: batchSize, seed: seed,
                                       layer: layer, visibleOffset: visibleOffset, rowGroups: Collectives.rowGroups)
        template = rbm
    }

    /// Data-parallel training (`Collectives.current` with several processes) needs a share of
    /// every full minibatch on each process, and no sparsity target, centering or parallel
    /// tempering (their running statistics would need the whole minibatch's on every process:
    /// not built yet).
    ///
    /// The reproducible mode (`Collectives.rowGroups`) needs at most as many processes as row
    /// groups, at most as many groups as rows in a minibatch, and none of the three either (on
    /// any number of processes: their statistics run over the whole minibatch).
    static func checkProcesses(_ collective: any Collective, configuration: RBMTrainingConfiguration,
                               batchSize: Int) throws {
        if let groups = Collectives.rowGroups {
            try Collectives.checkRowGroups(groups, batchSize: batchSize, processes: collective.size) {
                PretrainingError.invalidConfiguration($0)
            }
            let refused = [(configuration.sparsityTarget != nil, "a sparsity target"),
                           (configuration.centered, "a centered RBM (--centered)"),
                           (configuration.temperatures > 1, "parallel tempering (--temperatures)")]
            if let (_, what) = refused.first(where: \.0) {
                throw PretrainingError.invalidConfiguration("\(what) is not supported in the reproducible mode (--reproducible)")
            }
        }
        guard collective.size > 1 else { return }
        guard batchSize >= collective.size else {
            throw PretrainingError.invalidConfiguration(
                "the batch size \(batchSize) is smaller than the number of processes \(collective.size)")
        }
        if configuration.sparsityTarget != nil {
            throw PretrainingError.invalidConfiguration(
                "a sparsity target is not supported with more than one process (\(collective.size) here)")
        }
        // Their running statistics (the hidden offsets' mean; the swap counts that adapt the
        // ladder) are per process today: refused rather than silently diverging.
        if configuration.centered {
            throw PretrainingError.invalidConfiguration(
                "a centered RBM (--centered) is not supported with more than one process (\(collective.size) here)")
        }
        if configuration.temperatures > 1 {
            throw PretrainingError.invalidConfiguration(
                "parallel tempering (--temperatures) is not supported with more than one process (\(collective.size) here)")
        }
    }

    /// A stepper whose seed is one draw of `generator`.
    public convenience init(rbm: RBM, configuration: RBMTrainingConfiguration, batchSize: Int? = nil,
                            generator: inout Xoshiro256StarStar) throws {
        try self.init(rbm: rbm, configuration: configuration, batchSize: batchSize, seed: generator.next())
    }

    /// Starts epoch `epoch` (0-based): its learning rate, k of CD-k and momentum, and the
    /// minibatch count at 0 (the count keys the draws). A new stepper is at epoch 0.
    public func setEpoch(_ epoch: Int) { engine.setEpoch(epoch) }

    /// The number of visible units V (the columns of the data).
    public var visibleCount: Int { engine.visibleCount }
    /// The number of hidden units H.
    public var hiddenCount: Int { engine.hiddenCount }
    /// The largest minibatch `step` accepts.
    public var batchSize: Int { engine.capacity }
    /// The number of column blocks a step's products are split into (fixed by the shape).
    public var blocks: Int { engine.hiddenBlocks.count }

    /// One CD-k (or PCD) update on the rows `rows` (1 ... `batchSize` of them) of `data`,
    /// row-major with `visibleCount` columns (only read; indices are not checked), as the next
    /// minibatch of the current epoch. Allocates nothing. Returns the summed squared
    /// reconstruction error of the minibatch (before the update): the sum over rows and pixels
    /// of (v0 - E[v | h])^2 with h ~ p(h | v0). Sets OpenBLAS to one thread for the call (its
    /// own threads would change the bits), restoring the count afterwards.
    @discardableResult
    public func step(data: UnsafePointer<Float>, rows: UnsafeBufferPointer<Int>) -> Double {
        precondition(rows.count >= 1 && rows.count <= batchSize,
                     "ContrastiveDivergenceStepper.step: \(rows.count) rows for a batch size of \(batchSize)")
        return Lanes.withSingleThreadedBLAS { engine.step(data: data, rows: rows) }
    }

    /// The learning rate of the current epoch's steps.
    public var learningRate: Float { engine.learningRate }

    /// An observer: the norm of the next step's weight gradient G (the CD statistics, with the
    /// sparsity terms if any; without the weight cost, momentum and the rate, which the update
    /// adds), measured before its update. Call before `step`, read `measuredGradientNorm` after it; the step's result is
    /// the same bits either way, and nothing is allocated.
    public func measureGradientNormOfNextStep() { engine.measuresGradientNorm = true }

    /// The norm measured by the last step that `measureGradientNormOfNextStep` asked for.
    public var measuredGradientNorm: Double { engine.gradientNorm }

    /// `step` on the rows `rows` of `data` (shape (n, visibleCount)); the indices are checked.
    /// Allocates nothing.
    @discardableResult
    public func step(on data: Matrix, rows: ArraySlice<Int>) -> Double {
        precondition(data.columns == visibleCount,
                     "ContrastiveDivergenceStepper.step: data has \(data.columns) columns, the RBM \(visibleCount)")
        return rows.withUnsafeBufferPointer { indices in
            for index in indices {
                precondition(index >= 0 && index < data.rows, "ContrastiveDivergenceStepper.step: row \(index) of \(data.rows)")
            }
            return data.elements.withUnsafeBufferPointer { step(data: $0.baseAddress!, rows: indices) }
        }
    }

    /// Parallel tempering's inverse temperatures (ascending, ending at 1) and the acceptance rate
    /// of each neighbour pair's swaps in the current epoch; nil without tempering.
    public var tempering: (inverseTemperatures: [Double], swapRates: [Double])? {
        engine.tempering.map { ($0.betas, $0.swapRates) }
    }

    /// Centering's offsets (mu, lambda); nil without centering.
    public var offsets: (visible: [Float], hidden: [Float])? {
        engine.centering.map { ($0.visibleOffset.array, $0.hiddenOffset.array) }
    }

    /// Whether every weight and bias is finite (false once training has diverged).
    public var parametersAreFinite: Bool { engine.parametersAreFinite }

    /// The RBM with the current parameters (a new copy; allocates).
    public var rbm: RBM {
        var rbm = template
        engine.store(into: &rbm)
        return rbm
    }

    /// Copies the current parameters into `rbm`, which must have the stepper's shape.
    public func store(into rbm: inout RBM) {
        precondition(rbm.visibleCount == visibleCount && rbm.hiddenCount == hiddenCount,
                     "ContrastiveDivergenceStepper.store: \(rbm.visibleCount)x\(rbm.hiddenCount) RBM for a "
                     + "\(visibleCount)x\(hiddenCount) stepper")
        engine.store(into: &rbm)
    }

    /// The state to continue training from after `completedEpochs` epochs (see `RBM.train`).
    func progress(completedEpochs: Int, rbm: RBM, rows: Int, reports: [RBMEpochReport]) -> RBMTrainingProgress {
        engine.progress(completedEpochs: completedEpochs, rbm: rbm, rows: rows, reports: reports)
    }

    /// Restores the velocities, chains and running means of a checked progress.
    func restore(_ progress: RBMTrainingProgress) { engine.restore(progress) }
}

extension RBM {
    /// The order in which epoch `epoch` of the run seeded with `seed` visits `rows` rows: a
    /// Fisher-Yates shuffle of 0..<rows with a generator keyed by (seed, layer, epoch).
    public static func minibatchOrder(rows: Int, seed: UInt64, layer: Int, epoch: Int) -> [Int] {
        RandomStream(seed: seed, purpose: .shuffle(layer: layer), epoch: epoch).shuffled(Array(0..<rows))
    }
}

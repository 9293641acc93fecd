import Linalg

/// Everything needed to continue training one RBM after an epoch, bit for bit.
///
/// `RBM.train(on:configuration:monitors:generator:resumeFrom:onEpoch:onProgress:)` hands one
/// to `onProgress` after every epoch; passing it back as `resumeFrom` continues the run, which
/// then ends with exactly the parameters (and the reconstruction errors and monitor values) of
/// the uninterrupted run with the same data, configuration, monitors and number of lanes
/// (BLAS threads). A checkpoint file stores it.
///
/// Shapes, with V visible units, H hidden units and B = min(batchSize, rows):
/// - `weightVelocity` (V*H, row-major like `RBM.weight`), `visibleVelocity` (V) and
///   `hiddenVelocity` (H): the last updates of the parameters.
/// - `fantasy` (B*V, row-major): PCD's persistent chains; nil for CD or before the first update.
/// - `hiddenActivity` (H): the sparsity penalty's running mean activation q; nil without a
///   sparsity target or before the first update.
/// - `tempering`: parallel tempering's chains (M*B*V, chain-major), ladder and the swap counts
///   of the last epoch (which adapt the ladder at the next epoch's start); nil without
///   tempering, before the first update, or read from a checkpoint older than them (the chains
///   and ladder then start again).
/// - `hiddenOffset` (H): centering's hidden offsets lambda; nil when not centered or read from
///   a checkpoint older than them (the offsets then start again at 0.5).
/// - `seed`: the run's seed. Every random draw of the run (the epochs' minibatch orders, the
///   Gibbs samples, the monitors' subsets) is keyed by it and by what it is for, so no
///   generator state is needed, and the number of threads does not matter.
public struct RBMTrainingProgress: Sendable, Equatable {
    /// The number of epochs done (a 1-based count: 3 means epochs 0, 1, 2 are done).
    public var completedEpochs: Int
    /// The parameters after those epochs.
    public var rbm: RBM
    /// The weight velocity, (V*H), pre-multiplied by the next update's momentum (see above).
    public var weightVelocity: [Float]
    /// The visible-bias velocity (V).
    public var visibleVelocity: [Float]
    /// The hidden-bias velocity (H).
    public var hiddenVelocity: [Float]
    /// PCD's persistent chains (B*V), nil if not started or not PCD.
    public var fantasy: [Float]?
    /// The sparsity penalty's running mean activation q (H), nil if not started or no sparsity.
    public var hiddenActivity: [Float]?
    /// Parallel tempering's state (see above), nil if not started or no tempering.
    public var tempering: TemperingState?
    /// Centering's hidden offsets (H), nil if not centered.
    public var hiddenOffset: [Float]?
    /// The run's seed (see above).
    public var seed: UInt64
    /// The number of training rows of the run.
    public var rows: Int
    /// The reports of the completed epochs, in order.
    public var reports: [RBMEpochReport]

    public init(completedEpochs: Int, rbm: RBM, weightVelocity: [Float], visibleVelocity: [Float],
                hiddenVelocity: [Float], fantasy: [Float]?, hiddenActivity: [Float]?,
                tempering: TemperingState? = nil, hiddenOffset: [Float]? = nil, seed: UInt64,
                rows: Int, reports: [RBMEpochReport]) {
        self.tempering = tempering
        self.hiddenOffset = hiddenOffset
        self.completedEpochs = completedEpochs
        self.rbm = rbm
        self.weightVelocity = weightVelocity
        self.visibleVelocity = visibleVelocity
        self.hiddenVelocity = hiddenVelocity
        self.fantasy = fantasy
        self.hiddenActivity = hiddenActivity
        self.seed = seed
        self.rows = rows
        self.reports = reports
    }

    /// Checks that this progress belongs to a run training `rbm` (same shape and units) with
    /// `configuration` on `rows` rows in minibatches of `batchSize` (already clipped to `rows`);
    /// throws `PretrainingError.invalidConfiguration` naming `what` (e.g.
    /// "the checkpoint of layer 2") otherwise.
    func check(fits rbm: RBM, configuration: RBMTrainingConfiguration, rows: Int, batchSize: Int,
               what: String) throws {
        func fail(_ message: String) throws -> Never {
            throw PretrainingError.invalidConfiguration("\(what) \(message)")
        }
        func describe(_ r: RBM) -> String {
            "\(r.visibleCount)x\(r.hiddenCount) (\(r.visibleUnits.rawValue) -> \(r.hiddenUnits.rawValue))"
        }
        let v = rbm.visibleCount, h = rbm.hiddenCount
        if self.rbm.visibleCount != v || self.rbm.hiddenCount != h || self.rbm.visibleUnits != rbm.visibleUnits
            || self.rbm.hiddenUnits != rbm.hiddenUnits {
            try fail("is for an RBM of \(describe(self.rbm)), this run trains one of \(describe(rbm))")
        }
        if completedEpochs < 0 || completedEpochs > configuration.epochs {
            try fail("has \(completedEpochs) completed epochs, this run has \(configuration.epochs) in all")
        }
        if reports.count != completedEpochs {
            try fail("holds \(reports.count) epoch reports for \(completedEpochs) completed epochs")
        }
        if weightVelocity.count != v * h || visibleVelocity.count != v || hiddenVelocity.count != h {
            try fail("holds velocities of \(weightVelocity.count), \(visibleVelocity.count) and \(hiddenVelocity.count) values, this run needs \(v * h), \(v) and \(h)")
        }
        if configuration.persistent {
            if let fantasy, fantasy.count != batchSize * v {
                try fail("holds \(fantasy.count / max(v, 1)) persistent chains, this run needs \(batchSize) (one per minibatch row): the batch size changed")
            }
            if fantasy == nil && completedEpochs > 0 { try fail("has no persistent chains, this run uses PCD") }
        } else if fantasy != nil {
            try fail("has persistent chains (PCD), this run uses CD-\(configuration.cdSteps)")
        }
        if configuration.sparsityTarget != nil {
            if let hiddenActivity, hiddenActivity.count != h {
                try fail("holds \(hiddenActivity.count) running mean activations, this run needs \(h)")
            }
            if hiddenActivity == nil && completedEpochs > 0 {
                try fail("has no running mean activation, this run has a sparsity target")
            }
        } else if hiddenActivity != nil {
            try fail("has a running mean activation (sparsity target), this run has no sparsity target")
        }
        if let tempering {
            let m = configuration.temperatures
            if m < 2 { try fail("has tempered chains (parallel tempering), this run has no --temperatures") }
            if tempering.chains.count != m * batchSize * v || tempering.inverseTemperatures.count != m {
                try fail("holds \(tempering.inverseTemperatures.count) temperatures of \(tempering.chains.count / max(v * batchSize, 1)) x \(batchSize) chains, this run needs \(m) of \(batchSize) (one per minibatch row)")
            }
            let betas = tempering.inverseTemperatures
            if !(betas.allSatisfy { $0 > 0 && $0 <= 1 }) || zip(betas, betas.dropFirst()).contains(where: { $0 >= $1 })
                || betas.last != 1 {
                try fail("holds a temperature ladder that is not ascending in (0, 1] ending at 1")
            }
            if tempering.swapsAttempted.count != m - 1 || tempering.swapsAccepted.count != m - 1
                || zip(tempering.swapsAccepted, tempering.swapsAttempted).contains(where: { $0 < 0 || $0 > $1 }) {
                try fail("holds swap counts that do not fit its \(m) temperatures")
            }
        }
        if let hiddenOffset {
            if !configuration.centered { try fail("has hidden offsets (a centered RBM), this run is not --centered") }
            if hiddenOffset.count != h { try fail("holds \(hiddenOffset.count) hidden offsets, this run needs \(h)") }
        }
        if self.rows != rows { try fail("is for \(self.rows) training rows, this run has \(rows)") }
        for (name, values) in [("weight velocity", weightVelocity), ("visible velocity", visibleVelocity),
                               ("hidden velocity", hiddenVelocity), ("chains", fantasy ?? []),
                               ("running mean activation", hiddenActivity ?? []),
                               ("tempered chain", tempering?.chains ?? []), ("hidden offset", hiddenOffset ?? [])]
        where values.contains(where: { !$0.isFinite }) {
            try fail("holds a \(name) that is not finite")
        }
    }
}

/// Parallel tempering's state between two epochs (see `RBMTrainingProgress.tempering`).
public struct TemperingState: Sendable, Equatable {
    /// The M tempered chains of every minibatch row (M*B*V, chain-major: chain m's B rows, then
    /// chain m + 1's), their visible states after the last sweep.
    public var chains: [Float]
    /// The ladder: M inverse temperatures, ascending, the last 1.
    public var inverseTemperatures: [Double]
    /// Swap attempts and acceptances of each neighbour pair (M - 1) in the last epoch.
    public var swapsAttempted: [Int], swapsAccepted: [Int]

    public init(chains: [Float], inverseTemperatures: [Double], swapsAttempted: [Int], swapsAccepted: [Int]) {
        self.chains = chains
        self.inverseTemperatures = inverseTemperatures
        self.swapsAttempted = swapsAttempted
        self.swapsAccepted = swapsAccepted
    }
}

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
/// - `weightVelocity` (V*H, row-major like `RBM.weight`), as the training workspace keeps it:
///   already multiplied by the momentum of the NEXT update, i.e. it holds m' dW with dW the last
///   update of the weights and m' = `configuration.momentum(forEpoch: completedEpochs)`.
/// - `visibleVelocity` (V) and `hiddenVelocity` (H): the last bias updates, unscaled.
/// - `fantasy` (B*V, row-major): PCD's persistent chains; nil for CD or before the first update.
/// - `hiddenActivity` (H): the sparsity penalty's running mean activation q; nil without a
///   sparsity target or before the first update.
/// - `laneGeneratorStates`: 4 words per lane, lanes in order; the number of lanes follows the
///   BLAS thread count (see `RBM.train`), so a run resumes only with the same thread count.
/// - `monitorGeneratorState`: the root of the monitors' randomness, fixed for the whole run:
///   the monitors' training subset is drawn from its split and each monitored epoch draws from
///   a stream derived from it and the epoch index, so a resumed run redraws the same subset.
/// - `order`: the permutation of the training rows drawn by the last epoch's shuffle (the
///   next epoch shuffles it again).
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
    /// The training generator (minibatch order), 4 words.
    public var generatorState: [UInt64]
    /// The lanes' sampling generators, 4 words per lane, lanes in order.
    public var laneGeneratorStates: [UInt64]
    /// The root of the monitors' generators (constant during a run), 4 words.
    public var monitorGeneratorState: [UInt64]
    /// The row order after the last shuffle (a permutation of 0..<rows).
    public var order: [Int]
    /// The reports of the completed epochs, in order.
    public var reports: [RBMEpochReport]

    public init(completedEpochs: Int, rbm: RBM, weightVelocity: [Float], visibleVelocity: [Float],
                hiddenVelocity: [Float], fantasy: [Float]?, hiddenActivity: [Float]?, generatorState: [UInt64],
                laneGeneratorStates: [UInt64], monitorGeneratorState: [UInt64], order: [Int],
                reports: [RBMEpochReport]) {
        self.completedEpochs = completedEpochs
        self.rbm = rbm
        self.weightVelocity = weightVelocity
        self.visibleVelocity = visibleVelocity
        self.hiddenVelocity = hiddenVelocity
        self.fantasy = fantasy
        self.hiddenActivity = hiddenActivity
        self.generatorState = generatorState
        self.laneGeneratorStates = laneGeneratorStates
        self.monitorGeneratorState = monitorGeneratorState
        self.order = order
        self.reports = reports
    }

    /// The number of lanes the progress was made with (4 generator words per lane).
    public var laneCount: Int { laneGeneratorStates.count / 4 }

    /// Checks that this progress belongs to a run training `rbm` (same shape and units) with
    /// `configuration` on `rows` rows in minibatches of `batchSize` (already clipped to `rows`)
    /// and `lanes` lanes; throws `PretrainingError.invalidConfiguration` naming `what` (e.g.
    /// "the checkpoint of layer 2") otherwise.
    func check(fits rbm: RBM, configuration: RBMTrainingConfiguration, rows: Int, batchSize: Int, lanes: Int,
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
        if !RBMTrainingProgress.isGeneratorState(generatorState) {
            try fail("holds an invalid training generator state (4 words, not all zero): \(generatorState)")
        }
        if !RBMTrainingProgress.isGeneratorState(monitorGeneratorState) {
            try fail("holds an invalid monitor generator state (4 words, not all zero): \(monitorGeneratorState)")
        }
        if laneGeneratorStates.count % 4 != 0 || laneGeneratorStates.isEmpty {
            try fail("holds \(laneGeneratorStates.count) lane generator words, a multiple of 4 (at least 4) is needed")
        }
        if laneCount != lanes {
            try fail("was made with \(laneCount) BLAS threads (lanes), this run has \(lanes): use --threads \(laneCount)")
        }
        for lane in 0..<laneCount
        where !RBMTrainingProgress.isGeneratorState(Array(laneGeneratorStates[(4 * lane)..<(4 * lane + 4)])) {
            try fail("holds an invalid generator state for lane \(lane) (all zero)")
        }
        if order.count != rows { try fail("is for \(order.count) training rows, this run has \(rows)") }
        var seen = [Bool](repeating: false, count: rows)
        for index in order {
            guard index >= 0 && index < rows && !seen[index] else {
                try fail("holds a row order that is not a permutation of 0..<\(rows) (row \(index))")
            }
            seen[index] = true
        }
    }

    /// Whether `words` is a valid xoshiro256** state: 4 words, not all zero.
    static func isGeneratorState(_ words: [UInt64]) -> Bool {
        words.count == 4 && words != [0, 0, 0, 0]
    }
}

extension Xoshiro256StarStar {
    /// The generator with the state `words` (4 words, not all zero: check with
    /// `RBMTrainingProgress.isGeneratorState` first).
    init(words: [UInt64]) {
        self.init(state: (words[0], words[1], words[2], words[3]))
    }
}

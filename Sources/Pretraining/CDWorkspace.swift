import Linalg

/// The buffers of CD-k and persistent CD training, allocated once per training run and reused
/// by every minibatch (no allocation in `step`), with the parameters and their velocities.
///
/// Shapes, with B the largest minibatch, b the current one, V visible and H hidden units:
/// - `visibleStack` (2B, V): rows 0..<b hold the data v0, rows b..<2b the negative visible
///   states v1 (CD: the reconstruction's probabilities; PCD: the fantasy particles).
/// - `hiddenStack` (2B, H): rows 0..<b hold h0 = E[h | v0], rows b..<2b hold -E[h | v1].
/// Stacked this way, the positive minus the negative statistics v0^T h0 - v1^T h1 are ONE gemm,
/// [v0; v1]^T [h0; -h1], with the learning rate as alpha, accumulated onto the weight velocity
/// (kept pre-multiplied by the momentum, see `updateHiddenBlock`).
///
/// Parallelism: the work of a minibatch is split into `lanes` that run side by side, each
/// calling single-threaded BLAS on its own block: a block of hidden columns for the products
/// that produce hidden units (and for the weight update, which then touches only that lane's
/// columns of W), a block of visible columns for the products that produce visible units.
/// Half-width products cost half the time, so this keeps both cores busy without the
/// synchronisation losses of OpenBLAS's threading on products this small; the bias adds,
/// nonlinearities, sampling and statistics run in the lanes too. A minibatch of CD-1 is three
/// parallel phases (hidden, visible, hidden + update). Each lane samples from its own
/// generator, so results depend on the number of lanes but not on thread scheduling.
final class CDWorkspace: LaneTask, @unchecked Sendable {
    // @unchecked Sendable: lanes write disjoint column blocks of the buffers below and each
    // lane owns one slot of `laneGenerators`; phases are separated by the barrier at the end
    // of `Lanes.run`, and the phase settings are written only between phases.
    let visibleCount: Int, hiddenCount: Int, batchSize: Int
    let visibleUnits: VisibleUnits, hiddenUnits: HiddenUnits
    let weightCost: Float, persistent: Bool, resampleBinaryData: Bool
    /// The learning rate and the k of CD-k of the current epoch (see `setEpoch`).
    private(set) var learningRate: Float, cdSteps: Int
    let sparsityTarget: Float?, sparsityCost: Float, sparsityDecay: Float
    /// The number of lanes, and the column blocks of each.
    let lanes: Int
    let hiddenBlocks: [Range<Int>], visibleBlocks: [Range<Int>]
    let laneGenerators: UnsafeMutablePointer<Xoshiro256StarStar>

    // Parameters (copied from the RBM by `load`, back by `store`) and their velocities.
    let weight: UnsafeMutablePointer<Float>          // (V, H)
    let weightVelocity: UnsafeMutablePointer<Float>  // (V, H)
    let visibleBias: UnsafeMutablePointer<Float>     // (V)
    let visibleVelocity: UnsafeMutablePointer<Float> // (V)
    let hiddenBias: UnsafeMutablePointer<Float>      // (H)
    let hiddenVelocity: UnsafeMutablePointer<Float>  // (H)

    // Minibatch buffers.
    let visibleStack: UnsafeMutablePointer<Float>     // (2B, V)
    let hiddenStack: UnsafeMutablePointer<Float>      // (2B, H)
    let hiddenSample: UnsafeMutablePointer<Float>     // (B, H): the sampled states driving the chain
    let reconstruction: UnsafeMutablePointer<Float>   // (B, V): PCD's data reconstruction (error monitor)
    let fantasy: UnsafeMutablePointer<Float>          // (B, V): PCD's persistent chains
    let visibleStatistic: UnsafeMutablePointer<Float> // (V): sum v0 - sum v1 over the minibatch
    let hiddenStatistic: UnsafeMutablePointer<Float>  // (H): sum h0 - sum h1 over the minibatch
    let squaredError: UnsafeMutablePointer<Double>    // (V): per-pixel squared error of the minibatch
    let hiddenActivity: UnsafeMutablePointer<Float>   // (H): q, the running mean activation (sparsity)
    let sparsityGradient: UnsafeMutablePointer<Float> // (H): q - target
    let visibleMean: UnsafeMutablePointer<Float>      // (V): mean of v0 (sparsity's weight term)
    /// Sets the learning rate and k of `epoch` (0-based) from `configuration` (they change
    /// per epoch only with `growCDSteps`).
    func setEpoch(_ epoch: Int, of configuration: RBMTrainingConfiguration) {
        learningRate = configuration.learningRate(forEpoch: epoch)
        cdSteps = configuration.gibbsSteps(forEpoch: epoch)
    }

    /// Whether the persistent chains hold states (set by the first PCD minibatch).
    var fantasyStarted = false
    /// Whether a minibatch has run (the running mean q starts at the first minibatch's mean).
    var sparsityStarted = false
    /// The number of rows of the last minibatch (for the test accessors).
    private(set) var lastBatchRows = 0

    /// What the lanes run next, and the settings of the current minibatch (the lanes read them;
    /// the task form of `Lanes.run` allocates nothing, unlike a closure per phase).
    private enum Phase {
        case positive, reconstruction, hidden, fantasyReconstruction, fantasyHidden, fantasyVisible, finalHidden,
             update
    }
    private var phase = Phase.positive
    private var rows = 0, gibbsStep = 1
    private var momentum: Float = 0, nextMomentum: Float = 0

    /// The default number of lanes: the BLAS thread count, or 1 for RBMs too small to gain.
    static func defaultLanes(visibleCount: Int, hiddenCount: Int) -> Int {
        Lanes.blockCount(productSize: visibleCount * hiddenCount)
    }

    /// The number of lanes a workspace for a V x H RBM uses when `requested` (nil: the default)
    /// lanes are asked for: at least 1, at most min(V, H).
    static func laneCount(requested: Int?, visibleCount v: Int, hiddenCount h: Int) -> Int {
        max(1, min(requested ?? CDWorkspace.defaultLanes(visibleCount: v, hiddenCount: h), v, h))
    }

    /// A workspace for `rbm`, with lane generators split off `generator`.
    init(rbm: RBM, configuration: RBMTrainingConfiguration, batchSize: Int, lanes requestedLanes: Int? = nil,
         generator: inout Xoshiro256StarStar) {
        precondition(batchSize >= 1, "CDWorkspace: batch size \(batchSize)")
        let v = rbm.visibleCount, h = rbm.hiddenCount
        visibleCount = v; hiddenCount = h; self.batchSize = batchSize
        visibleUnits = rbm.visibleUnits; hiddenUnits = rbm.hiddenUnits
        learningRate = configuration.learningRate; weightCost = configuration.weightCost
        cdSteps = configuration.cdSteps; persistent = configuration.persistent
        resampleBinaryData = configuration.resampleBinaryData
        sparsityTarget = configuration.sparsityTarget; sparsityCost = configuration.sparsityCost
        sparsityDecay = configuration.sparsityDecay
        let lanes = CDWorkspace.laneCount(requested: requestedLanes, visibleCount: v, hiddenCount: h)
        self.lanes = lanes
        hiddenBlocks = Lanes.blocks(of: h, count: lanes, aligned: false)
        visibleBlocks = Lanes.blocks(of: v, count: lanes, aligned: false)
        laneGenerators = .allocate(capacity: lanes)
        for lane in 0..<lanes { (laneGenerators + lane).initialize(to: generator.split()) }
        func zeros<T: Numeric>(_ count: Int, _: T.Type) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(count, 1))
            p.initialize(repeating: 0, count: max(count, 1))
            return p
        }
        weight = zeros(v * h, Float.self); weightVelocity = zeros(v * h, Float.self)
        visibleBias = zeros(v, Float.self); visibleVelocity = zeros(v, Float.self)
        hiddenBias = zeros(h, Float.self); hiddenVelocity = zeros(h, Float.self)
        visibleStack = zeros(2 * batchSize * v, Float.self)
        hiddenStack = zeros(2 * batchSize * h, Float.self)
        hiddenSample = zeros(batchSize * h, Float.self)
        reconstruction = zeros(configuration.persistent ? batchSize * v : 0, Float.self)
        fantasy = zeros(configuration.persistent ? batchSize * v : 0, Float.self)
        visibleStatistic = zeros(v, Float.self); hiddenStatistic = zeros(h, Float.self)
        squaredError = zeros(v, Double.self)
        hiddenActivity = zeros(h, Float.self); sparsityGradient = zeros(h, Float.self)
        visibleMean = zeros(v, Float.self)
        load(rbm)
        setEpoch(0, of: configuration)
    }

    deinit {
        for p in [weight, weightVelocity, visibleBias, visibleVelocity, hiddenBias, hiddenVelocity,
                  visibleStack, hiddenStack, hiddenSample, reconstruction, fantasy, visibleStatistic,
                  hiddenStatistic, hiddenActivity, sparsityGradient, visibleMean] { p.deallocate() }
        squaredError.deallocate()
        laneGenerators.deinitialize(count: lanes)
        laneGenerators.deallocate()
    }

    /// Copies the parameters of `rbm` in (the velocities are kept).
    func load(_ rbm: RBM) {
        precondition(rbm.visibleCount == visibleCount && rbm.hiddenCount == hiddenCount, "CDWorkspace: shape changed")
        rbm.weight.elements.withUnsafeBufferPointer { weight.update(from: $0.baseAddress!, count: $0.count) }
        rbm.visibleBias.withUnsafeBufferPointer { visibleBias.update(from: $0.baseAddress!, count: $0.count) }
        rbm.hiddenBias.withUnsafeBufferPointer { hiddenBias.update(from: $0.baseAddress!, count: $0.count) }
    }

    /// Copies the parameters back into `rbm`.
    func store(into rbm: inout RBM) {
        rbm.weight.elements.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: weight, count: $0.count) }
        rbm.visibleBias.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: visibleBias, count: $0.count) }
        rbm.hiddenBias.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: hiddenBias, count: $0.count) }
    }

    /// Whether every weight and bias is finite.
    var parametersAreFinite: Bool {
        func finite(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
            var sum: Float = 0
            for i in 0..<n { sum += p[i] * 0 }  // NaN * 0 and inf * 0 are NaN; vectorisable
            return !sum.isNaN
        }
        return finite(weight, visibleCount * hiddenCount) && finite(visibleBias, visibleCount)
            && finite(hiddenBias, hiddenCount)
    }

    /// Runs the phase `next` in every lane, side by side when there are several, and returns
    /// when all are done (the barrier between phases).
    private func inLanes(_ next: Phase) {
        phase = next
        Lanes.run(lanes, task: self)
    }

    /// Lane `lane`'s share of the current phase.
    func runBlock(_ lane: Int) {
        let last = gibbsStep == cdSteps
        switch phase {
        case .positive: positivePhase(lane: lane, rows: rows)
        case .reconstruction: reconstructionPhase(lane: lane, first: gibbsStep == 1, last: last)
        case .hidden: hiddenPhase(lane: lane, last: last)
        case .fantasyReconstruction: fantasyReconstructionPhase(lane: lane)
        case .fantasyHidden: fantasyHiddenPhase(lane: lane)
        case .fantasyVisible: fantasyVisiblePhase(lane: lane, last: last)
        case .finalHidden: finalHiddenPhase(lane: lane)
        case .update:
            finishVisible(lane: lane, rows: rows, momentum: momentum)
            updateHiddenBlock(lane: lane, rows: rows, momentum: momentum, nextMomentum: nextMomentum)
        }
    }

    // MARK: - One minibatch

    /// One CD-k (or PCD) update on the rows `rows` of `data` (row-major, V columns; only read).
    /// Returns the summed squared reconstruction error of the minibatch (the rbm.m monitor):
    /// sum over rows and pixels of (v0 - E[v | h_sample])^2 with h_sample ~ p(h | v0).
    ///
    /// `nextMomentum` is the momentum of the following update (see `updateHiddenBlock`).
    /// With several lanes, BLAS must be single-threaded during the call (see `train`).
    func step(data: UnsafePointer<Float>, rows: UnsafeBufferPointer<Int>, momentum: Float,
              nextMomentum: Float) -> Double {
        let b = rows.count, nv = visibleCount
        precondition(b >= 1 && b <= batchSize, "CDWorkspace.step: \(b) rows for a batch size of \(batchSize)")
        lastBatchRows = b
        let v0 = visibleStack
        if resampleBinaryData {
            // v0 ~ Bernoulli(data rows), a fresh sample each time (from lane 0's generator).
            for (r, index) in rows.enumerated() {
                UnitKernels.fillBernoulli(data + index * nv, into: v0 + r * nv, count: nv, generator: &laneGenerators[0])
            }
        } else {
            for (r, index) in rows.enumerated() { (v0 + r * nv).update(from: data + index * nv, count: nv) }
        }

        self.rows = b
        self.momentum = momentum
        self.nextMomentum = nextMomentum
        inLanes(.positive)
        if persistent { negativePhasePersistent() } else { negativePhaseCD() }
        var error = 0.0
        for i in 0..<nv { error += squaredError[i] }
        return error
    }

    /// Positive phase on the lane's hidden block hr: h0 = E[h | v0], sum h0, and the sampled
    /// states h_sample ~ p(h | v0), in one pass after the product.
    private func positivePhase(lane: Int, rows b: Int) {
        let nv = visibleCount, nh = hiddenCount, hr = hiddenBlocks[lane], lo = hr.lowerBound
        let h0 = hiddenStack
        (hiddenStatistic + lo).update(repeating: 0, count: hr.count)
        // h0[:, hr] = v0 W[:, hr] : (b, V) * (V, |hr|) -> (b, |hr|)
        sgemm(.none, .none, m: b, n: hr.count, k: nv, alpha: 1, a: visibleStack, lda: nv, b: weight + lo, ldb: nh,
              beta: 0, c: h0 + lo, ldc: nh)
        UnitKernels.hiddenMeansAndSamples(hiddenUnits, h0 + lo, rows: b, bias: hiddenBias + lo, columns: hr.count,
                                          stride: nh, sample: hiddenSample + lo, statistic: hiddenStatistic + lo,
                                          sign: 1, generator: &laneGenerators[lane])
        if let target = sparsityTarget {
            // q = decay q + (1 - decay) mean(h0) (q starts at the first minibatch's mean).
            let decay: Float = sparsityStarted ? sparsityDecay : 0
            for j in hr {
                hiddenActivity[j] = decay * hiddenActivity[j] + (1 - decay) * hiddenStatistic[j] / Float(b)
                sparsityGradient[j] = hiddenActivity[j] - target
            }
        }
    }

    /// CD-k as in rbm.m: the sampled hidden states drive the reconstruction, which uses
    /// probabilities; intermediate steps sample the hidden states again; the negative
    /// statistics are the last reconstruction's probabilities v1 and h1 = E[h | v1].
    private func negativePhaseCD() {
        for step in 1...cdSteps {
            gibbsStep = step
            inLanes(.reconstruction)
            inLanes(.hidden)
        }
        sparsityStarted = true
    }

    /// CD's visible block vr at Gibbs step `gibbsStep`: v1[:, vr] = E[v | h_sample], with the
    /// error at the first step and sum (v0 - v1) plus the visible update at the last.
    private func reconstructionPhase(lane: Int, first: Bool, last: Bool) {
        let nv = visibleCount, nh = hiddenCount, b = rows
        let v0 = visibleStack, v1 = visibleStack + b * nv
        let vr = visibleBlocks[lane], lo = vr.lowerBound
        if first {
            (visibleStatistic + lo).update(repeating: 0, count: vr.count)
            (squaredError + lo).update(repeating: 0, count: vr.count)
        }
        // v1[:, vr] = h_sample W[vr, :]^T : (b, H) * (H, |vr|) -> (b, |vr|); then
        // E[v | h_sample], with sum (v0 - v1) at the last step and the error at the first.
        sgemm(.none, .transposed, m: b, n: vr.count, k: nh, alpha: 1, a: hiddenSample, lda: nh,
              b: weight + lo * nh, ldb: nh, beta: 0, c: v1 + lo, ldc: nv)
        UnitKernels.reconstruction(visibleUnits, v1 + lo, rows: b, bias: visibleBias + lo, columns: vr.count,
                                   stride: nv, data: v0 + lo, statistic: last ? visibleStatistic + lo : nil,
                                   squaredError: first ? squaredError + lo : nil)
        if last { finishVisible(lane: lane, rows: b, momentum: momentum) }
    }

    /// CD's hidden block hr after a reconstruction: h1[:, hr] = v1 W[:, hr], then -E[h | v1]
    /// and sum h1 at the last step (followed by this lane's share of the update), a new
    /// h_sample before it.
    private func hiddenPhase(lane: Int, last: Bool) {
        let nv = visibleCount, nh = hiddenCount, b = rows
        let v1 = visibleStack + b * nv, h1 = hiddenStack + b * nh
        let hr = hiddenBlocks[lane], lo = hr.lowerBound
        // h1[:, hr] = v1 W[:, hr] : (b, V) * (V, |hr|) -> (b, |hr|)
        sgemm(.none, .none, m: b, n: hr.count, k: nv, alpha: 1, a: v1, lda: nv, b: weight + lo, ldb: nh,
              beta: 0, c: h1 + lo, ldc: nh)
        UnitKernels.hiddenMeansAndSamples(hiddenUnits, h1 + lo, rows: b, bias: hiddenBias + lo,
                                          columns: hr.count, stride: nh,
                                          sample: last ? nil : hiddenSample + lo,
                                          statistic: last ? hiddenStatistic + lo : nil, sign: -1,
                                          generator: &laneGenerators[lane])
        if last { updateHiddenBlock(lane: lane, rows: b, momentum: momentum, nextMomentum: nextMomentum) }
    }

    /// PCD (Tieleman 2008): the negative statistics come from persistent fantasy chains, one
    /// per minibatch row, advanced by k full Gibbs steps (sampled h, sampled v) per update;
    /// v1 holds the fantasy states and h1 = E[h | v1]. The data's reconstruction is still
    /// computed, for the error monitor.
    private func negativePhasePersistent() {
        let nv = visibleCount, b = rows
        if !fantasyStarted {
            // Start the chains at data (the first minibatch, repeated if it is short).
            for r in 0..<batchSize { (fantasy + r * nv).update(from: visibleStack + (r % b) * nv, count: nv) }
            fantasyStarted = true
        }
        inLanes(.fantasyReconstruction)
        for step in 1...cdSteps {
            gibbsStep = step
            inLanes(.fantasyHidden)
            inLanes(.fantasyVisible)
        }
        inLanes(.finalHidden)
        sparsityStarted = true
    }

    /// PCD's visible block vr of the data's reconstruction (for the error monitor) and sum v0.
    private func fantasyReconstructionPhase(lane: Int) {
        let nv = visibleCount, nh = hiddenCount, b = rows, v0 = visibleStack
        let vr = visibleBlocks[lane], lo = vr.lowerBound
        (squaredError + lo).update(repeating: 0, count: vr.count)
        (visibleStatistic + lo).update(repeating: 0, count: vr.count)
        // reconstruction[:, vr] = h_sample W[vr, :]^T : (b, H) * (H, |vr|) -> (b, |vr|);
        // E[v | h_sample] and the error; sum v0.
        sgemm(.none, .transposed, m: b, n: vr.count, k: nh, alpha: 1, a: hiddenSample, lda: nh,
              b: weight + lo * nh, ldb: nh, beta: 0, c: reconstruction + lo, ldc: nv)
        UnitKernels.reconstruction(visibleUnits, reconstruction + lo, rows: b, bias: visibleBias + lo,
                                   columns: vr.count, stride: nv, data: v0 + lo, statistic: nil,
                                   squaredError: squaredError + lo)
        UnitKernels.accumulateColumns(v0 + lo, rows: b, columns: vr.count, stride: nv, sign: 1,
                                      into: visibleStatistic + lo)
    }

    /// PCD's hidden block hr of a Gibbs step: h_sample ~ p(h | fantasy).
    private func fantasyHiddenPhase(lane: Int) {
        let nv = visibleCount, nh = hiddenCount, b = rows, h1 = hiddenStack + b * nh
        let hr = hiddenBlocks[lane], lo = hr.lowerBound
        // h1[:, hr] = fantasy W[:, hr] : (b, V) * (V, |hr|) -> (b, |hr|) (scratch)
        sgemm(.none, .none, m: b, n: hr.count, k: nv, alpha: 1, a: fantasy, lda: nv, b: weight + lo, ldb: nh,
              beta: 0, c: h1 + lo, ldc: nh)
        UnitKernels.hiddenMeansAndSamples(hiddenUnits, h1 + lo, rows: b, bias: hiddenBias + lo,
                                          columns: hr.count, stride: nh, sample: hiddenSample + lo,
                                          statistic: nil, sign: 1, generator: &laneGenerators[lane])
    }

    /// PCD's visible block vr of a Gibbs step: fantasy ~ p(v | h_sample); at the last step v1
    /// takes the fantasy states, sum v0 - sum v1 is complete and the visible update runs.
    private func fantasyVisiblePhase(lane: Int, last: Bool) {
        let nv = visibleCount, nh = hiddenCount, b = rows, v1 = visibleStack + b * nv
        let vr = visibleBlocks[lane], lo = vr.lowerBound
        // v1[:, vr] = h_sample W[vr, :]^T : (b, H) * (H, |vr|) -> (b, |vr|) (scratch)
        sgemm(.none, .transposed, m: b, n: vr.count, k: nh, alpha: 1, a: hiddenSample, lda: nh,
              b: weight + lo * nh, ldb: nh, beta: 0, c: v1 + lo, ldc: nv)
        UnitKernels.visibleMeans(visibleUnits, v1 + lo, rows: b, bias: visibleBias + lo, columns: vr.count,
                                 stride: nv)
        UnitKernels.sampleVisible(visibleUnits, means: v1 + lo, rows: b, columns: vr.count, stride: nv,
                                  into: fantasy + lo, generator: &laneGenerators[lane])
        guard last else { return }
        for r in 0..<b { (v1 + r * nv + lo).update(from: fantasy + r * nv + lo, count: vr.count) }
        UnitKernels.accumulateColumns(v1 + lo, rows: b, columns: vr.count, stride: nv, sign: -1,
                                      into: visibleStatistic + lo)
        finishVisible(lane: lane, rows: b, momentum: momentum)
    }

    /// PCD's hidden block hr after the chains moved: h1[:, hr] = E[h | v1] (stored negated),
    /// sum h1, and this lane's share of the update.
    private func finalHiddenPhase(lane: Int) {
        let nv = visibleCount, nh = hiddenCount, b = rows
        let v1 = visibleStack + b * nv, h1 = hiddenStack + b * nh
        let hr = hiddenBlocks[lane], lo = hr.lowerBound
        // h1[:, hr] = v1 W[:, hr] : (b, V) * (V, |hr|) -> (b, |hr|)
        sgemm(.none, .none, m: b, n: hr.count, k: nv, alpha: 1, a: v1, lda: nv, b: weight + lo, ldb: nh,
              beta: 0, c: h1 + lo, ldc: nh)
        UnitKernels.hiddenMeansAndSamples(hiddenUnits, h1 + lo, rows: b, bias: hiddenBias + lo, columns: hr.count,
                                          stride: nh, sample: nil, statistic: hiddenStatistic + lo, sign: -1,
                                          generator: &laneGenerators[lane])
        updateHiddenBlock(lane: lane, rows: b, momentum: momentum, nextMomentum: nextMomentum)
    }

    // MARK: - The update

    /// The lane's visible block vr, once v1 is final: the mean of v0 (for the sparsity term)
    /// and the visible-bias update db = momentum db + (lr / b) (sum v0 - sum v1), b += db.
    private func finishVisible(lane: Int, rows b: Int, momentum: Float) {
        let vr = visibleBlocks[lane]
        if sparsityTarget != nil {
            let lo = vr.lowerBound
            (visibleMean + lo).update(repeating: 0, count: vr.count)
            UnitKernels.accumulateColumns(visibleStack + lo, rows: b, columns: vr.count, stride: visibleCount,
                                          sign: 1 / Float(b), into: visibleMean + lo)
        }
        let rate = learningRate / Float(b)
        for i in vr {
            visibleVelocity[i] = momentum * visibleVelocity[i] + rate * visibleStatistic[i]
            visibleBias[i] += visibleVelocity[i]
        }
    }

    /// The lane's hidden block hr of the update, once v0, v1 (all columns) and h0, -h1 (its
    /// columns) are final:
    ///     dW = momentum dW + (lr / b) [v0; v1]^T [h0; -h1] - lr weightCost W,   W += dW
    ///     dc = momentum dc + (lr / b) (sum h0 - sum h1),                          c += dc
    /// plus the sparsity terms when a target is set. Touches only the columns hr of W and dW.
    ///
    /// The weight velocity is stored already multiplied by the next update's momentum, so that
    /// the gemm adds onto it with beta = 1: OpenBLAS then skips its separate pass that scales C
    /// by beta (3% of an epoch). `weightVelocity` holds nextMomentum * dW between updates.
    private func updateHiddenBlock(lane: Int, rows b: Int, momentum: Float, nextMomentum: Float) {
        let nv = visibleCount, nh = hiddenCount, hr = hiddenBlocks[lane], lo = hr.lowerBound, n = hr.count
        let rate = learningRate / Float(b)
        // dW[:, hr] = (momentum * dW[:, hr], stored) + (lr / b) * [v0; v1]^T [h0; -h1][:, hr]
        //           : (V, 2b) * (2b, |hr|) -> (V, |hr|), i.e. v0^T h0 - v1^T h1 in one gemm.
        sgemm(.transposed, .none, m: nv, n: n, k: 2 * b, alpha: rate, a: visibleStack, lda: nv,
              b: hiddenStack + lo, ldb: nh, beta: 1, c: weightVelocity + lo, ldc: nh)
        if sparsityTarget != nil {
            // dW[:, hr] -= lr * sparsityCost * mean(v0)^T (q - target)[hr] : (V, 1) * (1, |hr|)
            sgemm(.none, .none, m: nv, n: n, k: 1, alpha: -learningRate * sparsityCost, a: visibleMean, lda: 1,
                  b: sparsityGradient + lo, ldb: nh, beta: 1, c: weightVelocity + lo, ldc: nh)
        }
        // dW -= lr * weightCost * W, W += dW, and dW *= the next momentum: one pass over both.
        let decay = learningRate * weightCost
        for i in 0..<nv {
            let w = weight + i * nh + lo, dw = weightVelocity + i * nh + lo
            for j in 0..<n {
                let d = dw[j] - decay * w[j]
                w[j] += d
                dw[j] = nextMomentum * d
            }
        }
        let sparsityRate = sparsityTarget == nil ? 0 : learningRate * sparsityCost
        for j in hr {
            hiddenVelocity[j] = momentum * hiddenVelocity[j] + rate * hiddenStatistic[j]
                - sparsityRate * sparsityGradient[j]
            hiddenBias[j] += hiddenVelocity[j]
        }
    }

    // MARK: - Access for tests

    /// Applies the update to all parameters from the statistics in the stacks (for testing
    /// against a textbook update; `setMinibatchStatistics` fills them; no sparsity).
    func updateParameters(rows b: Int, momentum: Float, nextMomentum: Float) {
        rows = b
        self.momentum = momentum
        self.nextMomentum = nextMomentum
        inLanes(.update)
    }

    /// The stacked buffers of the last minibatch, as matrices: v0, v1 (b, V); h0, -h1 (b, H);
    /// and the last sampled hidden states (b, H).
    func lastMinibatch() -> (v0: Matrix, v1: Matrix, h0: Matrix, negativeH1: Matrix, hiddenSample: Matrix) {
        let b = lastBatchRows, nv = visibleCount, nh = hiddenCount
        func matrix(_ p: UnsafeMutablePointer<Float>, _ rows: Int, _ columns: Int) -> Matrix {
            Matrix(rows: rows, columns: columns, elements: Array(UnsafeBufferPointer(start: p, count: rows * columns)))
        }
        return (matrix(visibleStack, b, nv), matrix(visibleStack + b * nv, b, nv),
                matrix(hiddenStack, b, nh), matrix(hiddenStack + b * nh, b, nh), matrix(hiddenSample, b, nh))
    }

    /// Sets the stacks and the bias statistics from given minibatch statistics.
    func setMinibatchStatistics(v0: Matrix, v1: Matrix, h0: Matrix, h1: Matrix) {
        let b = v0.rows, nv = visibleCount, nh = hiddenCount
        precondition(b <= batchSize && v1.rows == b && h0.rows == b && h1.rows == b)
        lastBatchRows = b
        for i in 0..<(b * nv) { visibleStack[i] = v0.elements[i]; visibleStack[b * nv + i] = v1.elements[i] }
        for i in 0..<(b * nh) { hiddenStack[i] = h0.elements[i]; hiddenStack[b * nh + i] = -h1.elements[i] }
        for i in 0..<nv { visibleStatistic[i] = (0..<b).reduce(0) { $0 + v0[$1, i] - v1[$1, i] } }
        for j in 0..<nh { hiddenStatistic[j] = (0..<b).reduce(0) { $0 + h0[$1, j] - h1[$1, j] } }
    }
}

import Linalg

// Over 300 lines on purpose: the CD step is read top to bottom in one place (the numbered
// phases below, then each phase's block work in the order the step runs them), with the engine's
// buffers and their shapes beside it. PCD, tempering, centering, the discriminative term and progress are in the
// ContrastiveDivergence+*.swift extensions.

/// The engine of CD-k and persistent CD for one RBM: one minibatch update at a time, on buffers
/// allocated once (no allocation per step). `step` is the algorithm, top to bottom:
///
/// 1. the minibatch v0 (the data rows, or a fresh binary sample of them);
/// 2. the positive phase: h0 = E[h | v0] and a sample h ~ p(h | v0);
/// 3. the negative phase: k Gibbs steps, from h (CD: the reconstructions are the visible means
///    as in `rbm.m`, or samples as in Salakhutdinov & Murray 2008, `negativeVisible`; a label
///    group's softmax probabilities included) or from the persistent chains (PCD, Tieleman 2008:
///    sampled states, a label group drawn as one multinomial);
/// 4. the statistics: G = (1/b) [v0; v1]^T [h0; -h1] = (1/b)(v0^T h0 - v1^T h1) in ONE product,
///    and the bias gradients, plus the sparsity terms, plus with `discriminativeWeight` alpha
///    times the exact gradient of log p(label | features) (`ContrastiveDivergence+Discriminative`);
/// 5. with several processes (data-parallel training, `Collective`), ONE in-place sum across
///    them of G, the bias gradients and the error (adjacent in `gradientSlab`): each process
///    computed them on its share of the minibatch's rows, scaled by 1/b of the whole minibatch;
/// 6. the update: d = momentum d + lr (g - weightCost w); w += d (no weight cost on biases).
///
/// Shapes, with B the capacity (largest minibatch), b the current one, V visible, H hidden:
/// `visibleStack` (2B, V) holds v0 in rows 0..<b and v1 in rows b..<2b; `hiddenStack` (2B, H)
/// holds h0 and h1 (negated for the statistics); `hiddenSample` (B, H) the sampled hidden states
/// that drive the chain; `chains` (B, V) PCD's fantasy particles; `weightGradient` (V, H).
///
/// Each phase runs in blocks (`Lanes`): a fixed number of column blocks, chosen from the shape,
/// each one single-threaded `sgemm` plus its elementwise pass. Every random draw comes from a
/// `RandomStream` keyed by (seed, purpose, layer, epoch, minibatch, row, unit), so the results
/// depend neither on the number of threads nor on the split. With P processes, each one takes
/// its share of the rows of every minibatch (`Collective.share`) and draws by global row, so
/// the draws do not depend on P either; PCD's chains are split the same way and never travel.
final class ContrastiveDivergence: LaneTask, @unchecked Sendable {
    // @unchecked Sendable: blocks write disjoint column blocks of the buffers; phases are
    // separated by the barrier at the end of `Lanes.run`; the phase settings are written only
    // between phases.
    let visibleCount: Int, hiddenCount: Int, capacity: Int
    let visibleUnits: VisibleUnits, hiddenUnits: HiddenUnits
    /// The number of label units (the last visible units, one softmax group; 0 for none).
    let labelCount: Int
    let configuration: RBMTrainingConfiguration
    /// The run's seed and the layer of the stack (both key the random streams).
    let seed: UInt64, layer: Int
    /// The fixed column blocks of the hidden and the visible units (the same count); the label
    /// group, if any, lies wholly in the last visible block.
    let hiddenBlocks: [Range<Int>], visibleBlocks: [Range<Int>]
    /// The processes of the run (one, unless data-parallel), read from `Collectives.current`.
    let collective: any Collective
    /// The reproducible mode's row groups (`Collectives.rowGroups`), or nil; and the statistics
    /// of this process's groups, one slab (`gradientSlab`'s layout) each.
    let rowGroups: RowGroups?
    let groupSlabs: FloatBuffer

    /// The epoch (0-based) and the minibatch within it of the next step; the rate, k and
    /// momentum of the epoch (see `setEpoch`).
    private(set) var epoch = 0, stepInEpoch = 0
    private(set) var learningRate: Float = 0, cdSteps = 1, momentum: Float = 0
    /// An observer: when set, the next step measures the norm of its weight gradient G (as the
    /// update uses it: summed across processes, centered if centering) into `gradientNorm`
    /// before the update, and clears the flag. Reading G changes nothing.
    var measuresGradientNorm = false
    private(set) var gradientNorm = 0.0

    // Parameters and their velocities (the last update).
    let weight, weightVelocity: FloatBuffer          // (V, H)
    let visibleBias, visibleVelocity: FloatBuffer    // (V)
    let hiddenBias, hiddenVelocity: FloatBuffer      // (H)
    // The statistics of a minibatch: the gradient estimate, adjacent in `gradientSlab`
    // (V*H + V + H + 1) with the summed squared error last, for one all-reduce.
    let gradientSlab: FloatBuffer
    let weightGradient: FloatBuffer                  // (V, H), zero between steps
    let visibleGradient: FloatBuffer                 // (V)
    let hiddenGradient: FloatBuffer                  // (H)
    let errorSlot: FloatBuffer                       // (1): the squared error, summed across processes
    // Minibatch buffers.
    let visibleStack: FloatBuffer                    // (2B, V): [v0; v1]
    let hiddenStack: FloatBuffer                     // (2B, H): [h0; h1], h1 negated for the statistics
    let hiddenSample: FloatBuffer                    // (B, H)
    let chains: FloatBuffer                          // (B, V): PCD's persistent chains
    let dataReconstruction: FloatBuffer              // (B, V): PCD's reconstruction of the data (error)
    let squaredError: UnsafeMutablePointer<Double>   // (V): per-pixel squared reconstruction error
    // Sparsity (Hinton's practical guide, section 11).
    let hiddenActivity: FloatBuffer                  // (H): q, the running mean activation
    let visibleMean: FloatBuffer                     // (V): mean of v0
    /// Whether the chains hold states, and whether q has been started.
    var chainsStarted = false, sparsityStarted = false
    /// Parallel tempering's chains and ladder (`configuration.temperatures > 1`).
    let tempering: ParallelTempering?
    /// Centering's offsets (`configuration.centered`).
    let centering: CenteringState?
    /// The discriminative gradient's buffers (`configuration.discriminativeWeight` > 0 and label
    /// units; see `ContrastiveDivergence+Discriminative.swift`).
    let discriminative: DiscriminativeBuffers?

    // The phase the blocks run next and its settings.
    enum Phase {
        case load, positive, reconstruction, hidden, dataReconstruction, chainHidden, chainVisible, negativeHidden,
             temperedHidden, temperedVisible, statistics, discriminativeEnergies, discriminativeGradient,
             centeredGradient, update, centeredBiases
    }
    private var phase = Phase.load
    /// This process's rows of the minibatch, the minibatch's rows (all processes), and the
    /// minibatch row of this process's row 0 (its first chain, for PCD).
    var rows = 0, batchRows = 0, firstRow = 0
    var gibbsStep = 0
    private var data: UnsafePointer<Float>?, indices: UnsafeBufferPointer<Int>?

    /// An engine for `rbm` trained with `configuration` on minibatches of at most `capacity`
    /// rows; its random streams are keyed by `seed` and `layer`. The velocities start at zero.
    /// `visibleOffset`: centering's mu (the training data's column means; nil: 0.5 each).
    /// `rowGroups`: the reproducible mode's number of row groups (`Collectives.rowGroups`), or nil.
    init(rbm: RBM, configuration: RBMTrainingConfiguration, capacity: Int, seed: UInt64, layer: Int,
         visibleOffset: [Float]? = nil, rowGroups: Int? = nil) {
        precondition(capacity >= 1, "ContrastiveDivergence: capacity \(capacity)")
        let v = rbm.visibleCount, h = rbm.hiddenCount
        visibleCount = v; hiddenCount = h; self.capacity = capacity
        visibleUnits = rbm.visibleUnits; hiddenUnits = rbm.hiddenUnits; labelCount = rbm.labelCount
        self.configuration = configuration; self.seed = seed; self.layer = layer
        collective = Collectives.current
        self.rowGroups = rowGroups.map { RowGroups(count: $0, capacity: capacity) }
        let blocks = Lanes.blockCount(productSize: v * h)
        hiddenBlocks = Lanes.blocks(of: h, count: blocks)
        var visible = Lanes.blocks(of: v - labelCount, count: blocks)
        visible[visible.count - 1] = visible[visible.count - 1].lowerBound..<v
        visibleBlocks = visible
        weight = FloatBuffer(rbm.weight.elements); weightVelocity = FloatBuffer(count: v * h)
        visibleBias = FloatBuffer(rbm.visibleBias); visibleVelocity = FloatBuffer(count: v)
        hiddenBias = FloatBuffer(rbm.hiddenBias); hiddenVelocity = FloatBuffer(count: h)
        let slab = FloatBuffer.slab([v * h, v, h, 1])
        gradientSlab = slab.whole
        groupSlabs = FloatBuffer(count: (self.rowGroups?.groups(ofRank: collective.rank, size: collective.size).count ?? 0)
                                     * slab.whole.count)
        (weightGradient, visibleGradient, hiddenGradient, errorSlot) = (slab.parts[0], slab.parts[1], slab.parts[2], slab.parts[3])
        visibleStack = FloatBuffer(count: 2 * capacity * v); hiddenStack = FloatBuffer(count: 2 * capacity * h)
        hiddenSample = FloatBuffer(count: capacity * h)
        chains = FloatBuffer(count: configuration.persistent ? capacity * v : 0)
        dataReconstruction = FloatBuffer(count: configuration.persistent ? capacity * v : 0)
        squaredError = .allocate(capacity: max(v, 1))
        squaredError.initialize(repeating: 0, count: max(v, 1))
        hiddenActivity = FloatBuffer(count: h); visibleMean = FloatBuffer(count: v)
        collective.broadcast([weight, visibleBias, hiddenBias])  // every process starts from rank 0's
        tempering = configuration.temperatures > 1
            ? ParallelTempering(chains: configuration.temperatures, rows: capacity, visibleCount: v, hiddenCount: h,
                                blocks: blocks)
            : nil
        centering = configuration.centered
            ? CenteringState(visibleOffset: visibleOffset ?? [Float](repeating: 0.5, count: v), hiddenCount: h,
                             rate: configuration.hiddenOffsetRate)
            : nil
        discriminative = configuration.discriminativeWeight > 0 && labelCount > 0
            ? DiscriminativeBuffers(weight: configuration.discriminativeWeight, features: v - labelCount,
                                    labels: labelCount, capacity: capacity, hidden: h, blocks: blocks)
            : nil
        setEpoch(0)
    }

    deinit { squaredError.deallocate() }

    /// Starts epoch `epoch` (0-based): its learning rate, k and momentum, and minibatch 0.
    /// `cdSteps`, if given, replaces the configuration's k (up-down's schedule).
    /// With several processes, first checks that all hold the same parameters (else the job stops).
    func setEpoch(_ epoch: Int, cdSteps k: Int? = nil) {
        if collective.size > 1 {  // (the array would be an allocation per epoch for one process)
            collective.verifyAgreement([weight, visibleBias, hiddenBias, weightVelocity, visibleVelocity, hiddenVelocity],
                                       what: "parameters of layer \(layer + 1) at the start of epoch \(epoch + 1)")
        }
        self.epoch = epoch
        stepInEpoch = 0
        learningRate = configuration.learningRate(forEpoch: epoch)
        cdSteps = k ?? configuration.gibbsSteps(forEpoch: epoch)
        momentum = configuration.momentum(forEpoch: epoch)
        tempering?.adaptLadder()
    }

    /// The minibatch rows this process owns in a minibatch of `rows` rows (its row groups' in
    /// the reproducible mode); with `rows == capacity`, the PCD chains it advances.
    func share(ofRows rows: Int) -> Range<Int> {
        rowGroups?.share(ofRows: rows, rank: collective.rank, size: collective.size)
            ?? collective.share(ofRows: rows, capacity: capacity)
    }

    /// The number of label units in the visible block `vr`: all of them in the last block.
    func labels(in vr: Range<Int>) -> Int { vr.upperBound == visibleCount ? labelCount : 0 }

    /// The stream of `purpose` for the current minibatch, by minibatch row (this process's row
    /// r is row `firstRow + r`).
    func stream(_ purpose: RandomPurpose) -> RandomStream {
        RandomStream(seed: seed, purpose: purpose, epoch: epoch, step: stepInEpoch).offset(rows: firstRow)
    }

    func run(_ next: Phase) {
        phase = next
        Lanes.run(hiddenBlocks.count, task: self)
    }

    // MARK: - One minibatch

    /// One CD-k (or PCD) update on the rows `rows` of `data` (row-major, V columns; only read).
    /// BLAS must be single-threaded during the call. Returns the summed squared reconstruction
    /// error of the minibatch (the `rbm.m` monitor): the sum over rows and pixels of
    /// (v0 - E[v | h])^2 with h ~ p(h | v0), before the update. With several processes, every
    /// one passes the whole minibatch and works on its share of the rows.
    func step(data: UnsafePointer<Float>, rows: UnsafeBufferPointer<Int>) -> Double {
        precondition(rows.count >= 1 && rows.count <= capacity,
                     "ContrastiveDivergence.step: \(rows.count) rows for a capacity of \(capacity)")
        batchRows = rows.count
        self.data = data
        defer { self.data = nil; indices = nil; stepInEpoch += 1 }
        if let rowGroups { return groupedStep(rowGroups, rows: rows) }
        let share = collective.share(ofRows: rows.count, capacity: capacity)
        guard share.count > 0 else {    // a short last minibatch left this process no rows
            select(share, of: rows)
            squaredError.update(repeating: 0, count: visibleCount)
            if configuration.persistent { chainsStarted = true }
            return statisticsAndUpdate(error: 0)
        }
        select(share, of: rows)
        let error = sweep()
        if configuration.persistent { chainsStarted = true }
        return statisticsAndUpdate(error: error)  // 4.-6.
    }

    /// The reproducible mode (`Collectives.rowGroups`): steps 1 to 4 on each of this process's
    /// row groups on its own (its rows only in every product), each group's statistics set aside
    /// in `groupSlabs`; then the groups' sums added in group order across the processes
    /// (`Collective.orderedSum`) and the update. The bits depend on the groups alone.
    private func groupedStep(_ groups: RowGroups, rows: UnsafeBufferPointer<Int>) -> Double {
        let mine = groups.groups(ofRank: collective.rank, size: collective.size), n = gradientSlab.count
        for (part, group) in mine.enumerated() {
            let range = groups.rows(ofGroup: group, batchRows: rows.count)
            select(range, of: rows)
            let error = range.isEmpty ? 0 : sweep()
            runStatistics()
            errorSlot.pointer[0] = Float(error)
            (groupSlabs.pointer + part * n).update(from: gradientSlab.pointer, count: n)
            weightGradient.fill(0)      // the statistics add onto a zero G
        }
        if configuration.persistent { chainsStarted = true }
        collective.orderedSum(groupSlabs.pointer, partCount: mine.count, count: n, into: gradientSlab.pointer)
        run(.update)
        return Double(errorSlot.pointer[0])
    }

    /// Makes the minibatch rows `share` (of `rows`) the rows the phases work on.
    private func select(_ share: Range<Int>, of rows: UnsafeBufferPointer<Int>) {
        self.rows = share.count
        firstRow = share.lowerBound
        indices = UnsafeBufferPointer(rebasing: rows[share])
    }

    /// Steps 1 to 3 on the selected rows (at least one); returns their summed squared error.
    /// (The caller marks PCD's chains started after all its rows' sweeps.)
    private func sweep() -> Double {
        run(.load)                      // 1. v0
        run(.positive)                  // 2. h0 = E[h | v0], h ~ p(h | v0)
        if let tempering {              // 3. k tempered sweeps with swaps; v1 = the beta = 1 chains
            run(.dataReconstruction)
            temperedSweeps(tempering)
            run(.negativeHidden)        //    h1 = E[h | v1]
        } else if configuration.persistent {
            run(.dataReconstruction)
            for s in 1...cdSteps {
                gibbsStep = s
                run(.chainHidden)       //    h ~ p(h | chains)
                run(.chainVisible)      //    chains ~ p(v | h); v1 = chains after the last step
            }
            run(.negativeHidden)        //    h1 = E[h | v1]
        } else {
            for s in 1...cdSteps {
                gibbsStep = s
                run(.reconstruction)    //    v1 = E[v | h]
                run(.hidden)            //    h1 = E[h | v1]; h ~ p(h | v1) before the last step
            }
        }
        var error = 0.0
        for i in 0..<visibleCount { error += squaredError[i] }
        return error
    }

    /// Steps 4 to 6 on the minibatch in the stacks (`rows`, `batchRows` set); returns `error`
    /// summed across the processes.
    @discardableResult
    func statisticsAndUpdate(error: Double = 0) -> Double {
        runStatistics()                 // 4. G, the bias gradients, the sparsity terms
        sparsityStarted = true
        var error = error
        if collective.size > 1 {        // 5. the sums across processes, in one call
            errorSlot.pointer[0] = Float(error)
            collective.allReduceSum(gradientSlab)
            error = Double(errorSlot.pointer[0])
        }
        if centering != nil { run(.centeredGradient) }  //    centered: new hidden offsets, G centered
        if measuresGradientNorm {       //    (an observer: |G|, read only)
            gradientNorm = weightGradient.norm
            measuresGradientNorm = false
        }
        run(.update)                    // 6. the parameters
        if centering != nil { run(.centeredBiases) }    //    centered: the offsets' share of the step
        return error
    }

    /// Step 4: the statistics, then the discriminative gradient when configured.
    private func runStatistics() {
        run(.statistics)
        if discriminative != nil {
            run(.discriminativeEnergies)
            run(.discriminativeGradient)
        }
    }

    /// Block `block`'s share of the current phase.
    func runBlock(_ block: Int) {
        let vr = visibleBlocks[block], hr = hiddenBlocks[block]
        switch phase {
        case .load: load(vr)
        case .positive: positive(hr, vr)
        case .reconstruction: reconstruction(vr)
        case .hidden: hidden(hr)
        case .dataReconstruction: reconstructData(vr)
        case .chainHidden: chainHidden(hr)
        case .chainVisible: chainVisible(vr)
        case .negativeHidden: negativeHidden(hr)
        case .temperedHidden: temperedHidden(block, hr, vr)
        case .temperedVisible: temperedVisible(vr)
        case .statistics: statistics(hr, vr)
        case .discriminativeEnergies: discriminativeEnergies(block, hr)
        case .discriminativeGradient: discriminativeGradient(block, hr, vr)
        case .update: update(hr, vr)
        case .centeredGradient: centeredGradient(hr)
        case .centeredBiases: centeredBiases(hr, vr)
        }
    }

    // MARK: - The phases, on the block's columns

    /// v0[:, vr] = the data rows (or v0 ~ Bernoulli(data rows) with `resampleBinaryData`).
    private func load(_ vr: Range<Int>) {
        let nv = visibleCount, lo = vr.lowerBound, v0 = visibleStack.pointer
        let sample = configuration.resampleBinaryData ? stream(.dataSample(layer: layer)) : nil
        for (r, index) in indices!.enumerated() {
            let source = data! + index * nv + lo, target = v0 + r * nv + lo
            if let sample {
                sample.sampleBernoulli(row: r, units: vr, probabilities: source, into: target)
            } else {
                target.update(from: source, count: vr.count)
            }
        }
    }

    /// h0[:, hr] = E[h | v0] and h[:, hr] ~ p(h | v0); the mean of v0 over vr (sparsity).
    private func positive(_ hr: Range<Int>, _ vr: Range<Int>) {
        let nv = visibleCount, nh = hiddenCount, lo = hr.lowerBound
        // h0[:, hr] = v0 W[:, hr] : (b, V) * (V, |hr|) -> (b, |hr|)
        sgemm(.none, .none, m: rows, n: hr.count, k: nv, alpha: 1, a: visibleStack.pointer, lda: nv,
              b: weight.pointer + lo, ldb: nh, beta: 0, c: hiddenStack.pointer + lo, ldc: nh)
        if let discriminative {
            UnitKernels.copy(hiddenStack.pointer + lo, into: discriminative.preActivation.pointer + lo, rows: rows,
                             columns: hr.count, stride: nh)
        }
        drivingHidden(hiddenStack.pointer + lo, hr, step: 0)
        if configuration.sparsityTarget != nil {
            UnitKernels.columnSums(visibleStack.pointer + vr.lowerBound, rows: rows, columns: vr.count, stride: nv,
                                   scale: 1 / Float(rows), into: visibleMean.pointer + vr.lowerBound)
        }
    }

    /// CD: v1[:, vr] = E[v | h] (or v1 ~ p(v | h) with `negativeVisible == .sample`), with the
    /// squared error of the means against v0 at the first step.
    private func reconstruction(_ vr: Range<Int>) {
        let nv = visibleCount, nh = hiddenCount, lo = vr.lowerBound
        let v1 = visibleStack.pointer + rows * nv + lo
        // v1[:, vr] = h W[vr, :]^T : (b, H) * (H, |vr|) -> (b, |vr|)
        sgemm(.none, .transposed, m: rows, n: vr.count, k: nh, alpha: 1, a: hiddenSample.pointer, lda: nh,
              b: weight.pointer + lo * nh, ldb: nh, beta: 0, c: v1, ldc: nv)
        let first = gibbsStep == 1
        if first { (squaredError + lo).update(repeating: 0, count: vr.count) }
        UnitKernels.visibleMeans(visibleUnits, v1, rows: rows, bias: visibleBias.pointer + lo, columns: vr.count,
                                 stride: nv, labels: labels(in: vr), data: first ? visibleStack.pointer + lo : nil,
                                 squaredError: first ? squaredError + lo : nil)
        if configuration.negativeVisible == .sample {   // v1 ~ p(v | h), in place of its means
            UnitKernels.sampleVisible(visibleUnits, means: v1, rows: rows, columns: vr.count, first: lo, stride: nv,
                                      into: v1, stream: stream(.visibleSample(layer: layer, step: gibbsStep)))
        }
    }

    /// CD: h1[:, hr] = E[h | v1], and before the last step the states that drive the next
    /// reconstruction (see `drivingHidden`).
    private func hidden(_ hr: Range<Int>) {
        let nv = visibleCount, nh = hiddenCount, lo = hr.lowerBound
        let h1 = hiddenStack.pointer + rows * nh + lo
        sgemm(.none, .none, m: rows, n: hr.count, k: nv, alpha: 1, a: visibleStack.pointer + rows * nv, lda: nv,
              b: weight.pointer + lo, ldb: nh, beta: 0, c: h1, ldc: nh)
        if gibbsStep == cdSteps {
            UnitKernels.hiddenMeans(hiddenUnits, h1, rows: rows, bias: hiddenBias.pointer + lo, columns: hr.count,
                                    first: lo, stride: nh)
        } else {
            drivingHidden(h1, hr, step: gibbsStep)
        }
    }

    /// x[:, hr] = E[h | v] from the pre-activation x = v W[:, hr], and the states that drive the
    /// next reconstruction into `hiddenSample[:, hr]`: h ~ p(h | v) drawn from the stream of
    /// Gibbs step `step`, or the means themselves (`gibbsHidden == .mean`).
    private func drivingHidden(_ x: UnsafeMutablePointer<Float>, _ hr: Range<Int>, step: Int) {
        let nh = hiddenCount, lo = hr.lowerBound
        let sampled = configuration.gibbsHidden == .sample
        UnitKernels.hiddenMeans(hiddenUnits, x, rows: rows, bias: hiddenBias.pointer + lo, columns: hr.count,
                                first: lo, stride: nh, sample: sampled ? hiddenSample.pointer + lo : nil,
                                stream: sampled ? stream(.hiddenSample(layer: layer, step: step)) : nil)
        if !sampled { UnitKernels.copy(x, into: hiddenSample.pointer + lo, rows: rows, columns: hr.count, stride: nh) }
    }

    /// G[:, hr] = (1/b) [v0; v1]^T [h0; -h1][:, hr]; the hidden gradient (1/b)(sum h0 - sum h1)
    /// over hr; the visible gradient (1/b)(sum v0 - sum v1) over vr; and with a sparsity target,
    /// q = decay q + (1 - decay) mean(h0) (q starts at the first minibatch's mean), then
    /// G -= cost mean(v0)^T (q - target) and the hidden gradient -= cost (q - target).
    private func statistics(_ hr: Range<Int>, _ vr: Range<Int>) {
        let nv = visibleCount, nh = hiddenCount, b = rows, lo = hr.lowerBound, scale = 1 / Float(batchRows)
        guard b > 0 else {              // no rows here: this process adds nothing to the sums
            (hiddenGradient.pointer + lo).update(repeating: 0, count: hr.count)
            (visibleGradient.pointer + vr.lowerBound).update(repeating: 0, count: vr.count)
            return
        }
        let h0 = hiddenStack.pointer + lo, h1 = hiddenStack.pointer + b * nh + lo
        UnitKernels.negate(h1, rows: b, columns: hr.count, stride: nh)
        // G[:, hr] = (1/b) [v0; v1]^T [h0; -h1][:, hr] : (V, 2b) * (2b, |hr|) -> (V, |hr|), added
        // onto G, which the update leaves at zero (beta 1 spares OpenBLAS a pass over G).
        sgemm(.transposed, .none, m: nv, n: hr.count, k: 2 * b, alpha: scale, a: visibleStack.pointer, lda: nv,
              b: h0, ldb: nh, beta: 1, c: weightGradient.pointer + lo, ldc: nh)
        UnitKernels.columnSums(h0, rows: 2 * b, columns: hr.count, stride: nh, scale: scale,
                               into: hiddenGradient.pointer + lo)
        let v0 = visibleStack.pointer + vr.lowerBound, g = visibleGradient.pointer + vr.lowerBound
        UnitKernels.columnSums(v0, rows: b, columns: vr.count, stride: nv, scale: scale, into: g)
        for r in 0..<b {
            let v1 = v0 + (b + r) * nv
            for i in 0..<vr.count { g[i] -= scale * v1[i] }
        }
        guard let target = configuration.sparsityTarget else { return }
        let decay: Float = sparsityStarted ? configuration.sparsityDecay : 0, cost = configuration.sparsityCost
        let q = hiddenActivity.pointer + lo
        for j in 0..<hr.count {
            var mean: Float = 0
            for r in 0..<b { mean += h0[r * nh + j] }
            q[j] = decay * q[j] + (1 - decay) * mean * scale
            hiddenGradient.pointer[lo + j] -= cost * (q[j] - target)
        }
        for i in 0..<nv {
            let row = weightGradient.pointer + i * nh + lo, m = cost * visibleMean.pointer[i]
            for j in 0..<hr.count { row[j] -= m * (q[j] - target) }
        }
    }

    /// The update of W[:, hr], the hidden biases hr and the visible biases vr:
    /// d = momentum d + lr (g - weightCost w), w += d (no weight cost on the biases).
    private func update(_ hr: Range<Int>, _ vr: Range<Int>) {
        let nh = hiddenCount, lo = hr.lowerBound, n = hr.count
        let rate = learningRate, m = momentum, decay = learningRate * configuration.weightCost
        for i in 0..<visibleCount {
            Kernels.momentumAscent(weight.pointer + i * nh + lo, velocity: weightVelocity.pointer + i * nh + lo,
                                   gradient: weightGradient.pointer + i * nh + lo, count: n, rate: rate,
                                   momentum: m, decay: decay, clearGradient: true)
        }
        func biases(_ p: FloatBuffer, _ velocity: FloatBuffer, _ gradient: FloatBuffer, _ r: Range<Int>) {
            Kernels.momentumAscent(p.pointer + r.lowerBound, velocity: velocity.pointer + r.lowerBound,
                                   gradient: gradient.pointer + r.lowerBound, count: r.count, rate: rate, momentum: m,
                                   decay: 0, clearGradient: false)
        }
        biases(hiddenBias, hiddenVelocity, hiddenGradient, hr)
        biases(visibleBias, visibleVelocity, visibleGradient, vr)
    }
}

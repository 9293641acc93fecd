import Linalg

extension ContrastiveDivergence {
    /// Copies the parameters back into `rbm` (same shape).
    func store(into rbm: inout RBM) {
        precondition(rbm.visibleCount == visibleCount && rbm.hiddenCount == hiddenCount,
                     "ContrastiveDivergence.store: shape changed")
        rbm.weight.elements = weight.array
        rbm.visibleBias = visibleBias.array
        rbm.hiddenBias = hiddenBias.array
    }

    /// Whether every weight and bias is finite.
    var parametersAreFinite: Bool { weight.isFinite && visibleBias.isFinite && hiddenBias.isFinite }

    /// The training state between two epochs (the parameters must have been stored into `rbm`).
    func progress(completedEpochs: Int, rbm: RBM, rows: Int, reports: [RBMEpochReport]) -> RBMTrainingProgress {
        RBMTrainingProgress(
            completedEpochs: completedEpochs, rbm: rbm, weightVelocity: weightVelocity.array,
            visibleVelocity: visibleVelocity.array, hiddenVelocity: hiddenVelocity.array,
            fantasy: configuration.persistent && chainsStarted ? gatheredChains() : nil,
            hiddenActivity: configuration.sparsityTarget != nil && sparsityStarted ? hiddenActivity.array : nil,
            tempering: tempering.flatMap { pt in
                pt.started ? TemperingState(chains: pt.visible.array, inverseTemperatures: pt.betas,
                                            swapsAttempted: pt.attempted, swapsAccepted: pt.accepted) : nil
            },
            hiddenOffset: centering?.hiddenOffset.array,
            seed: seed, rows: rows, reports: reports)
    }

    /// All the chains (B*V): with several processes each holds only its share up to date, so
    /// every process contributes its share (zeros elsewhere) to a sum (at epoch ends only).
    private func gatheredChains() -> [Float] {
        guard collective.size > 1 else { return chains.array }
        let all = FloatBuffer(count: chains.count), owned = share(ofRows: capacity)
        let nv = visibleCount
        (all.pointer + owned.lowerBound * nv).update(from: chains.pointer + owned.lowerBound * nv, count: owned.count * nv)
        collective.allReduceSum(all)
        return all.array
    }

    /// Restores the velocities, the persistent chains, the running mean activation, parallel
    /// tempering's chains, ladder and swap counts, and centering's hidden offsets from
    /// `progress` (checked with `RBMTrainingProgress.check` against this engine's shapes); the
    /// parameters come with the RBM the engine was made from.
    func restore(_ progress: RBMTrainingProgress) {
        precondition(progress.weightVelocity.count == visibleCount * hiddenCount,
                     "ContrastiveDivergence.restore: unchecked progress")
        weightVelocity.copy(from: progress.weightVelocity)
        visibleVelocity.copy(from: progress.visibleVelocity)
        hiddenVelocity.copy(from: progress.hiddenVelocity)
        if let chains = progress.fantasy {
            self.chains.copy(from: chains)
            chainsStarted = true
        }
        if let activity = progress.hiddenActivity { hiddenActivity.copy(from: activity) }
        if let saved = progress.tempering, let pt = tempering {
            pt.visible.copy(from: saved.chains)
            pt.setLadder(saved.inverseTemperatures)
            (pt.attempted, pt.accepted) = (saved.swapsAttempted, saved.swapsAccepted)
            pt.started = true
        }
        if let offset = progress.hiddenOffset, let centering { centering.hiddenOffset.copy(from: offset) }
        sparsityStarted = progress.completedEpochs > 0 || progress.hiddenActivity != nil
    }

    // MARK: - Access for tests

    /// Steps 4 to 6 (statistics and update) on given minibatch statistics v0, v1 (b, V) and
    /// h0, h1 (b, H).
    func update(v0: Matrix, v1: Matrix, h0: Matrix, h1: Matrix) {
        let b = v0.rows, nv = visibleCount, nh = hiddenCount
        precondition(b <= capacity && v1.rows == b && h0.rows == b && h1.rows == b)
        for i in 0..<(b * nv) { visibleStack.pointer[i] = v0.elements[i]; visibleStack.pointer[b * nv + i] = v1.elements[i] }
        for i in 0..<(b * nh) { hiddenStack.pointer[i] = h0.elements[i]; hiddenStack.pointer[b * nh + i] = h1.elements[i] }
        rows = b; batchRows = b; firstRow = 0
        statisticsAndUpdate()
    }

    /// The buffers of the last minibatch, as matrices: v0, v1 (b, V); h0, h1 (b, H; h1 as the
    /// statistics left it, negated); the last sampled hidden states (b, H).
    func lastMinibatch(rows b: Int) -> (v0: Matrix, v1: Matrix, h0: Matrix, negativeH1: Matrix, hiddenSample: Matrix) {
        let nv = visibleCount, nh = hiddenCount
        func matrix(_ p: UnsafeMutablePointer<Float>, _ rows: Int, _ columns: Int) -> Matrix {
            Matrix(rows: rows, columns: columns, elements: Array(UnsafeBufferPointer(start: p, count: rows * columns)))
        }
        return (matrix(visibleStack.pointer, b, nv), matrix(visibleStack.pointer + b * nv, b, nv),
                matrix(hiddenStack.pointer, b, nh), matrix(hiddenStack.pointer + b * nh, b, nh),
                matrix(hiddenSample.pointer, b, nh))
    }
}

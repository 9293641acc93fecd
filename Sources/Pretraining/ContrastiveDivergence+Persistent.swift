import Linalg

// The phases of persistent CD (Tieleman 2008): the negative statistics come from fantasy
// chains, one per minibatch row, kept across minibatches and advanced by k full Gibbs steps
// (sampled h, sampled v) per update; v1 holds the chains' states and h1 = E[h | v1]. The data's
// reconstruction is still computed, for the error monitor. Each runs on a block's columns
// (see `ContrastiveDivergence.step` for the order). With several processes, each advances the
// chains of its rows of the minibatch (from `firstRow`); the chains never travel.
extension ContrastiveDivergence {
    /// PCD: the data's reconstruction E[v | h] (for the error monitor only); the chains start
    /// at the first minibatch's data (repeated if it is short).
    func reconstructData(_ vr: Range<Int>) {
        let nv = visibleCount, nh = hiddenCount, lo = vr.lowerBound
        sgemm(.none, .transposed, m: rows, n: vr.count, k: nh, alpha: 1, a: hiddenSample.pointer, lda: nh,
              b: weight.pointer + lo * nh, ldb: nh, beta: 0, c: dataReconstruction.pointer + lo, ldc: nv)
        (squaredError + lo).update(repeating: 0, count: vr.count)
        UnitKernels.visibleMeans(visibleUnits, dataReconstruction.pointer + lo, rows: rows,
                                 bias: visibleBias.pointer + lo, columns: vr.count, stride: nv, labels: labels(in: vr),
                                 data: visibleStack.pointer + lo, squaredError: squaredError + lo)
        guard !chainsStarted else { return }
        // This process's chains (the minibatch rows it owns) start at its rows of the first
        // minibatch, which is a full one when there are several processes or row groups (then
        // each group starts its own chains).
        let owned = rowGroups == nil ? share(ofRows: capacity) : firstRow..<(firstRow + rows)
        precondition((collective.size == 1 && rowGroups == nil) || batchRows == capacity,
                     "PCD: the first minibatch must be full")
        for r in owned {
            (chains.pointer + r * nv + lo).update(from: visibleStack.pointer + (r % batchRows - firstRow) * nv + lo,
                                                  count: vr.count)
        }
    }

    /// PCD: h[:, hr] ~ p(h | chains) (h1 is scratch here).
    func chainHidden(_ hr: Range<Int>) {
        let nv = visibleCount, nh = hiddenCount, lo = hr.lowerBound, scratch = hiddenStack.pointer + rows * nh + lo
        sgemm(.none, .none, m: rows, n: hr.count, k: nv, alpha: 1, a: chains.pointer + firstRow * nv, lda: nv,
              b: weight.pointer + lo, ldb: nh, beta: 0, c: scratch, ldc: nh)
        UnitKernels.hiddenMeans(hiddenUnits, scratch, rows: rows, bias: hiddenBias.pointer + lo, columns: hr.count,
                                first: lo, stride: nh, sample: hiddenSample.pointer + lo,
                                stream: stream(.hiddenSample(layer: layer, step: gibbsStep)))
    }

    /// PCD: chains[:, vr] ~ p(v | h); after the last step v1[:, vr] = chains[:, vr].
    func chainVisible(_ vr: Range<Int>) {
        let nv = visibleCount, nh = hiddenCount, lo = vr.lowerBound, v1 = visibleStack.pointer + rows * nv + lo
        sgemm(.none, .transposed, m: rows, n: vr.count, k: nh, alpha: 1, a: hiddenSample.pointer, lda: nh,
              b: weight.pointer + lo * nh, ldb: nh, beta: 0, c: v1, ldc: nv)
        UnitKernels.visibleMeans(visibleUnits, v1, rows: rows, bias: visibleBias.pointer + lo, columns: vr.count,
                                 stride: nv, labels: labels(in: vr))
        UnitKernels.sampleVisible(visibleUnits, means: v1, rows: rows, columns: vr.count, first: lo, stride: nv,
                                  labels: labels(in: vr), into: chains.pointer + firstRow * nv + lo,
                                  stream: stream(.visibleSample(layer: layer, step: gibbsStep)))
        if gibbsStep == cdSteps {
            UnitKernels.copy(chains.pointer + firstRow * nv + lo, into: v1, rows: rows, columns: vr.count, stride: nv)
        }
    }

    /// PCD: h1[:, hr] = E[h | v1].
    func negativeHidden(_ hr: Range<Int>) {
        let nv = visibleCount, nh = hiddenCount, lo = hr.lowerBound, h1 = hiddenStack.pointer + rows * nh + lo
        sgemm(.none, .none, m: rows, n: hr.count, k: nv, alpha: 1, a: visibleStack.pointer + rows * nv, lda: nv,
              b: weight.pointer + lo, ldb: nh, beta: 0, c: h1, ldc: nh)
        UnitKernels.hiddenMeans(hiddenUnits, h1, rows: rows, bias: hiddenBias.pointer + lo, columns: hr.count,
                                first: lo, stride: nh)
    }
}

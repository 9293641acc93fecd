import Linalg

// The phases of parallel tempering (see `ParallelTempering`): the negative phase of a PCD
// step with M tempered chains per row instead of one. A sweep is: hidden states of every chain
// (and each column block's share of the chains' energies), the neighbour swaps (serial, in a
// fixed order), visible states of every chain; after the last sweep v1 = the beta = 1 chains.
// Chain m draws from its own streams (`.temperedHiddenSample`/`.temperedVisibleSample` with
// chain m), so the results depend neither on threads nor on the split.
extension ContrastiveDivergence {
    /// k tempered sweeps with swaps; the chains start at the first minibatch's data.
    func temperedSweeps(_ pt: ParallelTempering) {
        let nv = visibleCount
        if !pt.started {
            pt.started = true
            for m in 0..<pt.chainCount {
                for r in 0..<capacity {
                    (pt.visible.pointer + (m * capacity + r) * nv).update(from: visibleStack.pointer + (r % rows) * nv,
                                                                          count: nv)
                }
            }
        }
        pt.scaleBiases(hidden: hiddenBias.pointer, visible: visibleBias.pointer, hiddenCount: hiddenCount,
                       visibleCount: nv)
        for s in 1...cdSteps {
            gibbsStep = s
            run(.temperedHidden)        // h ~ p_beta(h | v) for every chain; energies E(v, h)
            pt.swap(rows: rows, hiddenCount: hiddenCount,
                    stream: stream(.temperingSwap(layer: layer, step: s)))
            run(.temperedVisible)       // v ~ p_beta(v | h); v1 = the beta = 1 chains after the last sweep
        }
    }

    /// For every chain m: pre[:, hr] = beta_m v_m W[:, hr], h_m[:, hr] ~ sigmoid(pre + beta_m c),
    /// and the block's share of E(v, h) = -v.b - h.c - h.(v W) over hr and vr.
    func temperedHidden(_ block: Int, _ hr: Range<Int>, _ vr: Range<Int>) {
        guard let pt = tempering else { return }
        let nv = visibleCount, nh = hiddenCount, lo = hr.lowerBound
        for m in 0..<pt.chainCount {
            let first = m * capacity, beta = Float(pt.betas[m])
            let v = pt.visible.pointer + first * nv, pre = pt.preActivation.pointer + first * nh + lo
            let means = pt.hiddenMeans.pointer + first * nh + lo, states = pt.hiddenStates.pointer + first * nh + lo
            // pre = beta_m v_m W[:, hr] : (b, V) * (V, |hr|) -> (b, |hr|)
            sgemm(.none, .none, m: rows, n: hr.count, k: nv, alpha: beta, a: v, lda: nv, b: weight.pointer + lo, ldb: nh,
                  beta: 0, c: pre, ldc: nh)
            UnitKernels.copy(pre, into: means, rows: rows, columns: hr.count, stride: nh)
            UnitKernels.hiddenMeans(.bernoulli, means, rows: rows, bias: pt.scaledHiddenBias.pointer + m * nh + lo,
                                    columns: hr.count, first: lo, stride: nh, sample: states,
                                    stream: stream(.temperedHiddenSample(layer: layer, chain: m, step: gibbsStep)))
            let c = hiddenBias.pointer + lo, b = visibleBias.pointer + vr.lowerBound
            for r in 0..<rows {
                var e = 0.0
                let h = states + r * nh, x = pre + r * nh, vRow = v + r * nv + vr.lowerBound
                for j in 0..<hr.count where h[j] != 0 { e -= Double(x[j]) / Double(beta) + Double(c[j]) }
                for i in 0..<vr.count where vRow[i] != 0 { e -= Double(b[i]) }
                pt.partialEnergy[(first + r) * pt.blockCount + block] = e
            }
        }
    }

    /// For every chain m: v_m[:, vr] ~ sigmoid(beta_m (h_m W[vr, :]^T + b)); after the last
    /// sweep v1[:, vr] = the beta = 1 chain's states.
    func temperedVisible(_ vr: Range<Int>) {
        guard let pt = tempering else { return }
        let nv = visibleCount, nh = hiddenCount, lo = vr.lowerBound
        for m in 0..<pt.chainCount {
            let first = m * capacity, beta = Float(pt.betas[m])
            let means = pt.visibleMeans.pointer + first * nv + lo
            // means = beta_m h_m W[vr, :]^T : (b, H) * (H, |vr|) -> (b, |vr|)
            sgemm(.none, .transposed, m: rows, n: vr.count, k: nh, alpha: beta, a: pt.hiddenStates.pointer + first * nh,
                  lda: nh, b: weight.pointer + lo * nh, ldb: nh, beta: 0, c: means, ldc: nv)
            UnitKernels.visibleMeans(.bernoulli, means, rows: rows, bias: pt.scaledVisibleBias.pointer + m * nv + lo,
                                     columns: vr.count, stride: nv)
            UnitKernels.sampleVisible(.bernoulli, means: means, rows: rows, columns: vr.count, first: lo, stride: nv,
                                      into: pt.visible.pointer + first * nv + lo,
                                      stream: stream(.temperedVisibleSample(layer: layer, chain: m, step: gibbsStep)))
        }
        if gibbsStep == cdSteps {
            let top = pt.visible.pointer + (pt.chainCount - 1) * capacity * nv + lo
            UnitKernels.copy(top, into: visibleStack.pointer + rows * nv + lo, rows: rows, columns: vr.count, stride: nv)
        }
    }
}

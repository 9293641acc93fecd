import Linalg

/// Alternating Gibbs sampling in one RBM, one independent chain per row, with keyed draws: the
/// one chain runner behind `DeepBeliefNetwork.sample` (`dbn sample`), generation with a clamped
/// label (`GenerativeDeepBeliefNetwork.dream`, `dbn dream`) and classification by letting the
/// label units settle (`GenerativeDeepBeliefNetwork.settledLabelProbabilities`).
///
/// From the visible start v_0 (clamped units set): h_0 ~ p(h | v_0); then for s = 1 ... steps:
/// v_s ~ p(v | h_{s-1}) (a label group drawn as one multinomial), the clamped units reset,
/// h_s ~ p(h | v_s). The result is the visible means p(v | h_steps).
///
/// Draws: every state is drawn from `RandomStream(seed:purpose: .gibbsChain(layer:step:hidden:))`
/// keyed by the row (the chain) and the unit, so a chain's states depend on its start and the
/// seed only: not on the chains beside it, nor on the number of threads (the products are
/// `gemmInRowChunks`, fixed chunks of single-threaded `sgemm`). The buffers are allocated once
/// per run, not per step.
public struct GibbsChains: Sendable {
    /// What stays fixed in the visible layer while the chains run.
    public enum Clamp: Sendable, Equatable {
        /// Nothing: every visible unit is resampled.
        case none
        /// The label group held at one-hot `label` (generating images of a class).
        case label(Int)
        /// The units below the labels held at the start's values, the label group free
        /// (classification by letting the labels settle).
        case features
    }

    /// The RBM the chains run in.
    public let rbm: RBM
    /// The clamped units.
    public let clamp: Clamp
    /// The seed of the draws and the layer index that keys them (beside the step).
    public let seed: UInt64, layer: Int

    /// Precondition: a label clamp needs an RBM with label units and a label in range.
    public init(rbm: RBM, clamp: Clamp = .none, seed: UInt64, layer: Int = 0) {
        switch clamp {
        case .none: break
        case .label(let label):
            precondition((0..<rbm.labelCount).contains(label), "GibbsChains: label \(label) of \(rbm.labelCount)")
        case .features:
            precondition(rbm.labelCount > 0, "GibbsChains: clamping the features needs label units")
        }
        self.rbm = rbm
        self.clamp = clamp
        self.seed = seed
        self.layer = layer
    }

    /// Runs `steps` steps of every chain from the rows of `start` (n x V, states or
    /// probabilities; clamped label columns are overwritten). After each step s = 0 ... steps
    /// (0: the hidden state drawn from the start) `observe(s, means)` receives the visible
    /// means p(v | h_s) of every chain (n x V; valid during the call). Returns p(v | h_steps).
    ///
    /// With `annealing` A > 0 (simulated annealing; Bernoulli units only), the first A steps
    /// sample at inverse temperatures beta_s = (s + 1) / (A + 1) for s = 0 ..< A, i.e. from the
    /// RBM whose weights and biases are all multiplied by beta_s, whose flatter landscape lets a
    /// chain leave the basin it started in; the steps after them sample the RBM itself.
    public func run(from start: Matrix, steps: Int, annealing: Int = 0,
                    observe: (Int, Matrix) -> Void = { _, _ in }) -> Matrix {
        precondition(start.columns == rbm.visibleCount,
                     "GibbsChains.run: \(start.columns) columns for \(rbm.visibleCount) visible units")
        precondition(steps >= 0, "GibbsChains.run: \(steps) steps")
        let n = start.rows, visible = rbm.visibleCount, hidden = rbm.hiddenCount
        let labels = rbm.labelCount
        var v = start, h = Matrix(rows: n, columns: hidden), means = Matrix(rows: n, columns: visible)
        applyClamp(&v, start: start)
        let hiddenUnits = rbm.hiddenUnits, visibleUnits = rbm.visibleUnits
        precondition(annealing == 0 || (hiddenUnits == .bernoulli && visibleUnits == .bernoulli),
                     "GibbsChains.run: annealing needs Bernoulli units")
        var annealed = self.rbm     // the annealed steps' RBM, rescaled in place at each of them
        for s in 0...steps {
            if s < annealing { annealed.setScaled(self.rbm, by: Float(s + 1) / Float(annealing + 1)) }
            let rbm = s < annealing ? annealed : self.rbm
            if s > 0 {
                // v_s ~ p(v | h_{s-1}) (the means of the last step), the clamped units reset.
                let stream = RandomStream(seed: seed, purpose: .gibbsChain(layer: layer, step: s, hidden: false))
                means.elements.withUnsafeBufferPointer { p in
                    v.elements.withUnsafeMutableBufferPointer { out in
                        UnitKernels.sampleVisible(visibleUnits, means: p.baseAddress!, rows: n, columns: visible,
                                                  first: 0, stride: visible, labels: labels, into: out.baseAddress!,
                                                  stream: stream)
                    }
                }
                applyClamp(&v, start: start)
            }
            // h_s ~ p(h | v_s), in place of its means.
            gemmInRowChunks(v, rbm.weight, .none, into: &h)
            let hiddenStream = RandomStream(seed: seed, purpose: .gibbsChain(layer: layer, step: s, hidden: true))
            rbm.hiddenBias.withUnsafeBufferPointer { c in
                h.elements.withUnsafeMutableBufferPointer { x in
                    UnitKernels.hiddenMeans(hiddenUnits, x.baseAddress!, rows: n, bias: c.baseAddress!, columns: hidden,
                                            first: 0, stride: hidden, sample: x.baseAddress!, stream: hiddenStream)
                }
            }
            rbm.visibleProbabilities(h, into: &means)
            observe(s, means)
        }
        return means
    }

    /// Sets the clamped units of `v` (the label columns to the one-hot label, or the feature
    /// columns to the start's).
    private func applyClamp(_ v: inout Matrix, start: Matrix) {
        let visible = rbm.visibleCount, labels = rbm.labelCount, features = visible - labels
        switch clamp {
        case .none: return
        case .label(let label):
            for r in 0..<v.rows {
                for k in 0..<labels { v[r, features + k] = k == label ? 1 : 0 }
            }
        case .features:
            v.elements.withUnsafeMutableBufferPointer { out in
                start.elements.withUnsafeBufferPointer { from in
                    for r in 0..<v.rows {
                        (out.baseAddress! + r * visible).update(from: from.baseAddress! + r * visible, count: features)
                    }
                }
            }
        }
    }
}

import Linalg

/// The discriminative half of the hybrid objective of Larochelle & Bengio (2008),
/// "Classification using discriminative restricted Boltzmann machines", for an RBM whose visible
/// layer is [x, y]: F feature units x and a softmax group of K label units y (one-hot e_y).
///
/// With o_kj = c_j + x W_j + U_kj (W the feature rows of the weight, U its label rows, c the
/// hidden biases, d the label biases), p(y | x) = exp(d_y + sum_j softplus(o_yj)) / sum_k (same
/// for k), and the exact gradient of log p(y | x) is
///
///     d/d d_k  = 1[k = y] - p(k | x)
///     d/d U_kj = (1[k = y] - p(k | x)) sigmoid(o_kj)
///     d/d c_j  = D_j := sigmoid(o_yj) - sum_k p(k | x) sigmoid(o_kj)
///     d/d W_ij = x_i D_j
///
/// (nothing for the feature biases). `discriminativeWeight` alpha times its mean over the
/// minibatch is added to the CD statistics before the sum across processes and the update, so
/// the update ascends CD's estimate of log p(x, y) plus alpha log p(y | x).
///
/// It runs in the engine's column blocks, in two phases after the statistics: `.discriminativeEnergies`
/// sums softplus(o_kj) over each block's hidden units (per row and label, in double precision);
/// `.discriminativeGradient` adds the blocks' sums in block order (the same bits with any number
/// of threads), takes p(k | x), and adds the gradient of its own hidden columns (and, in the
/// block that holds the labels, of the label biases). No random draws; buffers allocated once.
final class DiscriminativeBuffers: @unchecked Sendable {
    // @unchecked Sendable: each block writes its own slices (see the phases).
    /// alpha, the features F and the labels K.
    let weight: Float, features: Int, labels: Int
    /// (B, H): v0 W before the hidden bias, saved by the positive phase.
    let preActivation: FloatBuffer
    /// (B, H): D of every row.
    let delta: FloatBuffer
    /// (blocks, B, K): sum over the block's hidden units of softplus(o_kj).
    let partialSums: UnsafeMutablePointer<Double>
    /// (blocks, K): each block's p(k | x) of the current row, then its label-bias sums.
    let probabilities: UnsafeMutablePointer<Double>, labelBiasSums: UnsafeMutablePointer<Double>
    /// (blocks, K): sigmoid(o_kj) of the current row and unit.
    let sigmoids: UnsafeMutablePointer<Float>

    init(weight: Float, features: Int, labels: Int, capacity: Int, hidden: Int, blocks: Int) {
        self.weight = weight
        self.features = features
        self.labels = labels
        preActivation = FloatBuffer(count: capacity * hidden)
        delta = FloatBuffer(count: capacity * hidden)
        partialSums = .allocate(capacity: blocks * capacity * labels)
        partialSums.initialize(repeating: 0, count: blocks * capacity * labels)
        probabilities = .allocate(capacity: blocks * labels)
        probabilities.initialize(repeating: 0, count: blocks * labels)
        labelBiasSums = .allocate(capacity: blocks * labels)
        labelBiasSums.initialize(repeating: 0, count: blocks * labels)
        sigmoids = .allocate(capacity: blocks * labels)
        sigmoids.initialize(repeating: 0, count: blocks * labels)
    }

    deinit {
        partialSums.deallocate()
        probabilities.deallocate()
        labelBiasSums.deallocate()
        sigmoids.deallocate()
    }
}

extension ContrastiveDivergence {
    /// The label y of minibatch row r: the largest of v0's label columns (one-hot in the data).
    func label(ofRow r: Int) -> Int {
        let row = visibleStack.pointer + r * visibleCount + (visibleCount - labelCount)
        var best = 0
        for k in 1..<labelCount where row[k] > row[best] { best = k }
        return best
    }

    /// Phase 1 in block `block` (hidden units hr): partialSums[block, r, k] = sum over j in hr
    /// of softplus(o_kj), with o_kj = pre_j + c_j - U_yj + U_kj (pre = v0 W holds U_yj).
    func discriminativeEnergies(_ block: Int, _ hr: Range<Int>) {
        guard let buffers = discriminative, rows > 0 else { return }
        let nh = hiddenCount, k = labelCount, f = visibleCount - labelCount
        let sums = buffers.partialSums + block * capacity * k
        sums.update(repeating: 0, count: rows * k)
        let u = weight.pointer + f * nh, c = hiddenBias.pointer
        for r in 0..<rows {
            let y = label(ofRow: r), pre = buffers.preActivation.pointer + r * nh, rowSums = sums + r * k
            for j in hr {
                let a = pre[j] + c[j] - u[y * nh + j]
                for label in 0..<k { rowSums[label] += softplus(Double(a + u[label * nh + j])) }
            }
        }
    }

    /// Phase 2 in block `block` (hidden units hr, visible units vr): p(k | x) per row from the
    /// blocks' sums (in block order), then alpha/b times the gradient of log p(y | x) added to
    /// G's columns hr (feature rows by one product x^T D, label rows directly), to the hidden
    /// gradient over hr and, in the block holding the labels, to the label-bias gradient.
    func discriminativeGradient(_ block: Int, _ hr: Range<Int>, _ vr: Range<Int>) {
        guard let buffers = discriminative, rows > 0 else { return }
        let nh = hiddenCount, nv = visibleCount, k = labelCount, f = visibleCount - labelCount
        let scale = buffers.weight / Float(batchRows), blockCount = hiddenBlocks.count
        let u = weight.pointer + f * nh, c = hiddenBias.pointer, d = visibleBias.pointer + f
        let p = buffers.probabilities + block * k, s = buffers.sigmoids + block * k
        let biasSums = buffers.labelBiasSums + block * k
        biasSums.update(repeating: 0, count: k)
        let labelGradient = weightGradient.pointer + f * nh
        for r in 0..<rows {
            let y = label(ofRow: r)
            // log p(k | x) up to a constant: d_k + sum_j softplus(o_kj), the blocks in order.
            var largest = -Double.infinity
            for label in 0..<k {
                var logit = Double(d[label])
                for b in 0..<blockCount { logit += buffers.partialSums[(b * capacity + r) * k + label] }
                p[label] = logit
                largest = max(largest, logit)
            }
            var total = 0.0
            for label in 0..<k { p[label] = Libm.exp(p[label] - largest); total += p[label] }
            for label in 0..<k { p[label] /= total }
            for label in 0..<k { biasSums[label] += (label == y ? 1 : 0) - p[label] }
            let pre = buffers.preActivation.pointer + r * nh, delta = buffers.delta.pointer + r * nh
            for j in hr {
                let a = pre[j] + c[j] - u[y * nh + j]
                var mixture: Float = 0
                for label in 0..<k {
                    s[label] = sigmoid(a + u[label * nh + j])
                    mixture += Float(p[label]) * s[label]
                }
                delta[j] = s[y] - mixture
                for label in 0..<k {
                    labelGradient[label * nh + j] += scale * ((label == y ? 1 : 0) - Float(p[label])) * s[label]
                }
                hiddenGradient.pointer[j] += scale * delta[j]
            }
        }
        // G[0..<F, hr] += (alpha/b) x^T D[:, hr] : (F, b) * (b, |hr|) -> (F, |hr|), x = v0's feature columns.
        sgemm(.transposed, .none, m: f, n: hr.count, k: rows, alpha: scale, a: visibleStack.pointer, lda: nv,
              b: buffers.delta.pointer + hr.lowerBound, ldb: nh, beta: 1, c: weightGradient.pointer + hr.lowerBound,
              ldc: nh)
        if vr.upperBound == nv {
            for label in 0..<k { visibleGradient.pointer[f + label] += scale * Float(biasSums[label]) }
        }
    }
}

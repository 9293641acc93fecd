import Linalg

/// The raw state of one fine-tuning run: the parameters, the optimiser's moments and the
/// workspace of a minibatch, all allocated once and reused for every minibatch.
///
/// Shapes (B = rows of the current minibatch, at most `capacity`; n_l = sizes[l]):
/// - `weights[l]` n_l x n_{l+1}, `biases[l]` n_{l+1}; moments and gradients alike;
/// - `input` B x n_0, `target` B x n_L;
/// - `activations[l]` B x n_{l+1}: hidden outputs f(X W + b); for the last layer the logits,
///   which the output pass overwrites with the output delta (so `deltas[L-1]` is the same buffer);
/// - `dropped[l]`, `masks[l]` B x n_{l+1} for hidden layers when hidden dropout is on;
/// - `deltas[l]` B x n_{l+1}: the gradient of the summed loss w.r.t. layer l's pre-activation.
final class TrainingState: LaneTask {
    let sizes: [Int]
    let layerCount: Int
    let activation: Activation
    let output: OutputKind
    let configuration: TrainingConfiguration
    let capacity: Int
    /// The lanes a minibatch is split into (see `Lanes`): per layer, the column blocks of its
    /// output (forward pass, bias updates) and the row blocks of its weight matrix (backward
    /// pass and weight update), one block per lane. With several lanes, BLAS must be
    /// single-threaded during `step` (the trainer sees to it).
    let lanes: Int
    let outputBlocks: [[Range<Int>]]
    let inputBlocks: [[Range<Int>]]

    /// What the lanes run next and its settings, written between phases (the task form of
    /// `Lanes.run` allocates nothing, unlike a closure per phase).
    private enum Phase { case forward, backwardAndUpdate, maxNorm }
    private var phase = Phase.forward
    private var phaseLayer = 0, phaseRows = 0, phaseLowest = 0, phaseLowestUpdated = 0
    private var phaseExplicit = false, phaseRate: Float = 0

    let weights: [FloatBuffer]
    let biases: [FloatBuffer]
    /// SGD's velocity, or Adam's first moment.
    let weightMoments: [FloatBuffer]
    let biasMoments: [FloatBuffer]
    /// Adam's second moment (empty buffers for SGD).
    let weightSecondMoments: [FloatBuffer]
    let biasSecondMoments: [FloatBuffer]
    /// The gradient of the mean loss, for the explicit update path.
    let weightGradients: [FloatBuffer]
    let biasGradients: [FloatBuffer]
    /// Updates applied to each layer (Adam's t).
    var updateCounts: [Int]
    /// The norms of the weight gradients of the last minibatch that recorded them.
    var gradientNorms: [Double]

    let input: FloatBuffer
    let target: FloatBuffer
    let activations: [FloatBuffer]
    let dropped: [FloatBuffer?]
    let masks: [FloatBuffer?]
    let deltas: [FloatBuffer]
    /// Per layer, the scale of each unit's incoming weights under the max-norm constraint
    /// (fanOut values; empty without a constraint).
    let columnScales: [FloatBuffer]

    /// A state for `network` with room for `capacity` rows per minibatch, split into `lanes`
    /// lanes (nil: `Lanes.defaultCount` for the largest layer).
    init(network: Network, capacity: Int, configuration: TrainingConfiguration, lanes requestedLanes: Int? = nil) {
        precondition(capacity >= 1, "TrainingState: capacity must be positive")
        sizes = network.sizes
        layerCount = network.layers.count
        activation = network.hiddenActivation
        output = network.output
        self.configuration = configuration
        self.capacity = capacity
        let sizes = self.sizes, layerCount = self.layerCount
        let largest = (0..<layerCount).map { sizes[$0] * sizes[$0 + 1] }.max() ?? 0
        let lanes = max(1, requestedLanes ?? Lanes.blockCount(productSize: largest))
        self.lanes = lanes
        outputBlocks = (0..<layerCount).map { Lanes.blocks(of: sizes[$0 + 1], count: lanes) }
        inputBlocks = (0..<layerCount).map { Lanes.blocks(of: sizes[$0], count: lanes) }
        func perLayer(_ count: (Int) -> Int) -> [FloatBuffer] { (0..<layerCount).map { FloatBuffer(count: count($0)) } }
        let weightCount = { (l: Int) in sizes[l] * sizes[l + 1] }
        let biasCount = { (l: Int) in sizes[l + 1] }
        weights = network.layers.map { FloatBuffer($0.weight.elements) }
        biases = network.layers.map { FloatBuffer($0.bias) }
        weightMoments = perLayer(weightCount)
        biasMoments = perLayer(biasCount)
        let adam: Bool = if case .adam = configuration.optimizer { true } else { false }
        weightSecondMoments = perLayer { adam ? weightCount($0) : 0 }
        biasSecondMoments = perLayer { adam ? biasCount($0) : 0 }
        weightGradients = perLayer(weightCount)
        biasGradients = perLayer(biasCount)
        updateCounts = Array(repeating: 0, count: layerCount)
        gradientNorms = Array(repeating: 0, count: layerCount)

        input = FloatBuffer(count: capacity * sizes[0])
        target = FloatBuffer(count: capacity * sizes[layerCount])
        let activations = perLayer { capacity * sizes[$0 + 1] }
        self.activations = activations
        let dropout = configuration.hiddenDropout > 0
        dropped = (0..<layerCount).map { dropout && $0 < layerCount - 1 ? FloatBuffer(count: capacity * sizes[$0 + 1]) : nil }
        masks = (0..<layerCount).map { dropout && $0 < layerCount - 1 ? FloatBuffer(count: capacity * sizes[$0 + 1]) : nil }
        deltas = (0..<layerCount).map { $0 == layerCount - 1 ? activations[$0] : FloatBuffer(count: capacity * sizes[$0 + 1]) }
        columnScales = perLayer { configuration.maxNorm == nil ? 0 : sizes[$0 + 1] }
    }

    /// Copies the parameters back into `network` (same architecture).
    func store(into network: inout Network) {
        for l in 0..<layerCount {
            network.layers[l].weight.elements = weights[l].array
            network.layers[l].bias = biases[l].array
        }
    }

    /// Whether every weight and bias is finite.
    var parametersAreFinite: Bool {
        weights.allSatisfy(\.isFinite) && biases.allSatisfy(\.isFinite)
    }

    /// The input of layer l in the training forward pass: the minibatch, or the previous
    /// layer's output after dropout.
    func layerInput(_ l: Int) -> UnsafeMutablePointer<Float> {
        l == 0 ? input.pointer : (dropped[l - 1] ?? activations[l - 1]).pointer
    }

    /// Copies the samples `indices` of `inputs` (N x n_0) and `targets` (N x n_L) into the
    /// minibatch buffers.
    func loadRows(_ indices: some Collection<Int>, inputs: UnsafePointer<Float>, targets: UnsafePointer<Float>) {
        precondition(indices.count <= capacity, "loadRows: \(indices.count) rows for a capacity of \(capacity)")
        let n0 = sizes[0], nL = sizes[layerCount]
        for (row, index) in indices.enumerated() {
            (input.pointer + row * n0).update(from: inputs + index * n0, count: n0)
            (target.pointer + row * nL).update(from: targets + index * nL, count: nL)
        }
    }

    // MARK: - One minibatch

    /// One training step on the `rows` samples in `input`/`target`: forward (with dropout),
    /// loss and output delta, backward, update. Only the output layer is updated unless
    /// `trainHidden`. With `recordGradientNorms` the weight gradients of every layer are formed
    /// explicitly (also for frozen layers) and their norms kept in `gradientNorms`.
    /// Returns the summed loss and errors of the minibatch (before the update).
    ///
    /// Per layer, from the top: one phase in lanes forms the lane's block of the lower delta
    /// (reading the lane's rows of W_l, not yet updated) and then updates those rows of W_l
    /// (and the lane's columns of b_l), so no lane reads what another writes.
    func step(rows: Int, learningRate: Float, trainHidden: Bool, recordGradientNorms: Bool,
              generator: inout Xoshiro256StarStar) -> OutputStatistics {
        if configuration.inputDropout > 0 {
            FusedKernels.dropout(input.pointer, into: input.pointer, mask: nil, count: rows * sizes[0],
                                 rate: configuration.inputDropout, generator: &generator)
        }
        forward(rows: rows, generator: &generator)
        let last = layerCount - 1
        let stats = output.outputPass(activations[last].pointer, targets: target.pointer,
                                      rows: rows, columns: sizes[layerCount], write: .delta)
        let lowestUpdated = trainHidden ? 0 : last
        let lowest = recordGradientNorms ? 0 : lowestUpdated
        let explicit = recordGradientNorms || needsExplicitGradient
        if case .adam = configuration.optimizer {
            for l in lowestUpdated...last { updateCounts[l] += 1 }
        }
        (phaseRows, phaseLowest, phaseLowestUpdated, phaseExplicit, phaseRate) =
            (rows, lowest, lowestUpdated, explicit, learningRate)
        phase = .backwardAndUpdate
        for l in stride(from: last, through: lowest, by: -1) {
            phaseLayer = l
            Lanes.run(lanes, task: self)
            if configuration.maxNorm != nil && l >= lowestUpdated {
                phase = .maxNorm
                Lanes.run(lanes, task: self)
                phase = .backwardAndUpdate
            }
            if recordGradientNorms { gradientNorms[l] = weightGradients[l].norm }
        }
        return stats
    }

    /// Lane `lane`'s share of the current phase: its output columns of layer `phaseLayer`
    /// (forward), or its block of the lower delta and its rows of the layer's update.
    func runBlock(_ lane: Int) {
        let l = phaseLayer, rows = phaseRows
        switch phase {
        case .forward:
            forward(layer: l, rows: rows, block: outputBlocks[l][lane])
        case .maxNorm:
            constrainNorms(layer: l, block: outputBlocks[l][lane])
        case .backwardAndUpdate:
            let inputBlock = inputBlocks[l][lane], outputBlock = outputBlocks[l][lane]
            if l > phaseLowest { backward(layer: l, rows: rows, block: inputBlock) }
            if phaseExplicit {
                computeGradient(layer: l, rows: rows, inputBlock: inputBlock, outputBlock: outputBlock)
                if l >= phaseLowestUpdated {
                    applyGradient(layer: l, learningRate: phaseRate, inputBlock: inputBlock, outputBlock: outputBlock)
                }
            } else if l >= phaseLowestUpdated {
                foldedMomentumUpdate(layer: l, rows: rows, learningRate: phaseRate,
                                     inputBlock: inputBlock, outputBlock: outputBlock)
            }
        }
    }

    /// Forward pass in training mode: every layer's output into `activations` (hidden dropout
    /// into `dropped`, remembering `masks`); the output layer's logits stay un-normalised.
    /// Hidden layers run in lanes (a block of output columns each); the small output layer and
    /// the dropout masks (one generator) run on the calling thread.
    func forward(rows: Int, generator: inout Xoshiro256StarStar) {
        for l in 0..<layerCount {
            let fanOut = sizes[l + 1]
            if l == layerCount - 1 {
                forward(layer: l, rows: rows, block: 0..<fanOut)
            } else {
                (phase, phaseLayer, phaseRows) = (.forward, l, rows)
                Lanes.run(lanes, task: self)
            }
            if let d = dropped[l], let mask = masks[l] {
                FusedKernels.dropout(activations[l].pointer, into: d.pointer, mask: mask.pointer, count: rows * fanOut,
                                     rate: configuration.hiddenDropout, generator: &generator)
            }
        }
    }

    /// The columns `block` of layer l's output: Y_l[:, block] = f(X_l W_l[:, block] + b_l[block]).
    private func forward(layer l: Int, rows: Int, block: Range<Int>) {
        guard !block.isEmpty else { return }
        let fanIn = sizes[l], fanOut = sizes[l + 1], lo = block.lowerBound
        let y = activations[l].pointer + lo
        // Y_l[:, block] (rows x |block|) = X_l (rows x fanIn) * W_l[:, block] (fanIn x |block|)
        sgemm(.none, .none, m: rows, n: block.count, k: fanIn, alpha: 1, a: layerInput(l), lda: fanIn,
              b: weights[l].pointer + lo, ldb: fanOut, beta: 0, c: y, ldc: fanOut)
        // Y_l = f(Y_l + b_l), fused; the output layer keeps its logits.
        FusedKernels.addBiasActivate(y, rows: rows, columns: block.count, stride: fanOut, bias: biases[l].pointer + lo,
                                     activation: l == layerCount - 1 ? .identity : activation)
    }

    /// Backward pass from the output delta down to `deltas[lowest]`, on the calling thread. No
    /// gradient with respect to the network's input is formed.
    func backward(rows: Int, downTo lowest: Int) {
        for l in stride(from: layerCount - 1, to: lowest, by: -1) {
            backward(layer: l, rows: rows, block: 0..<sizes[l])
        }
    }

    /// The columns `block` of delta_{l-1} (the rows `block` of W_l are read).
    private func backward(layer l: Int, rows: Int, block: Range<Int>) {
        guard !block.isEmpty else { return }
        let fanIn = sizes[l], fanOut = sizes[l + 1], lo = block.lowerBound
        // delta_{l-1}[:, block] (rows x |block|) = delta_l (rows x fanOut) * W_l[block, :]^T (fanOut x |block|)
        sgemm(.none, .transposed, m: rows, n: block.count, k: fanOut, alpha: 1, a: deltas[l].pointer, lda: fanOut,
              b: weights[l].pointer + lo * fanOut, ldb: fanOut, beta: 0, c: deltas[l - 1].pointer + lo, ldc: fanIn)
        // delta_{l-1} *= mask_{l-1} * f'(y_{l-1}), fused
        FusedKernels.backpropActivation(deltas[l - 1].pointer + lo, output: activations[l - 1].pointer + lo,
                                        mask: masks[l - 1].map { $0.pointer + lo }, rows: rows, columns: block.count,
                                        stride: fanIn, activation: activation)
    }

    // MARK: - Updates

    /// The max-norm constraint on the units `block` of layer l: each column of W_l (a unit's
    /// incoming weights) longer than `configuration.maxNorm` is scaled back to that length.
    private func constrainNorms(layer l: Int, block: Range<Int>) {
        guard let limit = configuration.maxNorm, !block.isEmpty else { return }
        let fanIn = sizes[l], fanOut = sizes[l + 1], lo = block.lowerBound, n = block.count
        let w = weights[l].pointer + lo, scales = columnScales[l].pointer + lo
        scales.update(repeating: 0, count: n)
        for i in 0..<fanIn {
            let row = w + i * fanOut
            for j in 0..<n { scales[j] += row[j] * row[j] }
        }
        var any = false
        for j in 0..<n {
            let length = scales[j].squareRoot()
            scales[j] = length > limit ? limit / length : 1
            any = any || length > limit
        }
        guard any else { return }
        for i in 0..<fanIn {
            let row = w + i * fanOut
            for j in 0..<n { row[j] *= scales[j] }
        }
    }

    /// Whether the update rule needs the gradient on its own (Adam, Nesterov) rather than
    /// folded into the velocity's gemm.
    var needsExplicitGradient: Bool {
        if case .adam = configuration.optimizer { return true }
        return configuration.nesterov
    }

    /// The gradient of the mean loss of the minibatch for layer l, into `weightGradients[l]`
    /// and `biasGradients[l]` (without weight decay).
    func computeGradient(layer l: Int, rows: Int) {
        computeGradient(layer: l, rows: rows, inputBlock: 0..<sizes[l], outputBlock: 0..<sizes[l + 1])
    }

    /// `computeGradient` for the weight rows `inputBlock` and the bias entries `outputBlock`.
    private func computeGradient(layer l: Int, rows: Int, inputBlock: Range<Int>, outputBlock: Range<Int>) {
        let fanIn = sizes[l], fanOut = sizes[l + 1], lo = inputBlock.lowerBound
        let inverse = 1 / Float(rows)
        if !inputBlock.isEmpty {
            // G_l[block, :] (|block| x fanOut) = (1/rows) X_l[:, block]^T (|block| x rows) * delta_l (rows x fanOut)
            sgemm(.transposed, .none, m: inputBlock.count, n: fanOut, k: rows, alpha: inverse, a: layerInput(l) + lo,
                  lda: fanIn, b: deltas[l].pointer, ldb: fanOut, beta: 0,
                  c: weightGradients[l].pointer + lo * fanOut, ldc: fanOut)
        }
        // g_b = (1/rows) * column sums of delta_l
        FusedKernels.accumulateColumnSums(deltas[l].pointer + outputBlock.lowerBound, rows: rows,
                                          columns: outputBlock.count, stride: fanOut,
                                          into: biasGradients[l].pointer + outputBlock.lowerBound, scale: inverse, beta: 0)
    }

    /// Applies the update rule to layer l from its explicit gradient (Adam's step count is
    /// advanced by the caller).
    func applyGradient(layer l: Int, learningRate: Float) {
        if case .adam = configuration.optimizer { updateCounts[l] += 1 }
        applyGradient(layer: l, learningRate: learningRate, inputBlock: 0..<sizes[l], outputBlock: 0..<sizes[l + 1])
    }

    /// `applyGradient` on the weight rows `inputBlock` and the bias entries `outputBlock`.
    private func applyGradient(layer l: Int, learningRate: Float, inputBlock: Range<Int>, outputBlock: Range<Int>) {
        let c = configuration, fanOut = sizes[l + 1]
        let w = inputBlock.lowerBound * fanOut, wCount = inputBlock.count * fanOut
        let b = outputBlock.lowerBound, bCount = outputBlock.count
        switch c.optimizer {
        case .sgd:
            UpdateRules.momentum(weights[l].pointer + w, velocity: weightMoments[l].pointer + w,
                                 gradient: weightGradients[l].pointer + w, count: wCount, rate: learningRate,
                                 momentum: c.momentum, decay: c.weightDecay, nesterov: c.nesterov)
            UpdateRules.momentum(biases[l].pointer + b, velocity: biasMoments[l].pointer + b,
                                 gradient: biasGradients[l].pointer + b, count: bCount, rate: learningRate,
                                 momentum: c.momentum, decay: 0, nesterov: c.nesterov)
        case .adam(let beta1, let beta2, let epsilon):
            let t = updateCounts[l]
            UpdateRules.adam(weights[l].pointer + w, first: weightMoments[l].pointer + w,
                             second: weightSecondMoments[l].pointer + w, gradient: weightGradients[l].pointer + w,
                             count: wCount, rate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, step: t,
                             decay: c.weightDecay)
            UpdateRules.adam(biases[l].pointer + b, first: biasMoments[l].pointer + b,
                             second: biasSecondMoments[l].pointer + b, gradient: biasGradients[l].pointer + b,
                             count: bCount, rate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, step: t,
                             decay: 0)
        }
    }

    /// Classical momentum (or plain SGD) with the gradient folded into one gemm:
    /// the same result as `UpdateRules.momentum` without forming the gradient.
    func foldedMomentumUpdate(layer l: Int, rows: Int, learningRate: Float) {
        foldedMomentumUpdate(layer: l, rows: rows, learningRate: learningRate, inputBlock: 0..<sizes[l],
                             outputBlock: 0..<sizes[l + 1])
    }

    /// `foldedMomentumUpdate` on the weight rows `inputBlock` and the bias entries `outputBlock`.
    private func foldedMomentumUpdate(layer l: Int, rows: Int, learningRate: Float, inputBlock: Range<Int>,
                                      outputBlock: Range<Int>) {
        let fanIn = sizes[l], fanOut = sizes[l + 1], lo = inputBlock.lowerBound
        let momentum = configuration.momentum, decay = learningRate * configuration.weightDecay
        let alpha = -learningRate / Float(rows)
        let w = weights[l].pointer + lo * fanOut, v = weightMoments[l].pointer + lo * fanOut
        let x = layerInput(l) + lo, delta = deltas[l].pointer
        let b = outputBlock.lowerBound, bCount = outputBlock.count
        if !inputBlock.isEmpty {
            // momentum 0: W[block, :] (|block| x fanOut) = (1 - rate lambda) W[block, :] - (rate/rows) X_l[:, block]^T delta_l,
            // the decay in beta; else V[block, :] = momentum V[block, :] - (rate/rows) X_l[:, block]^T delta_l.
            sgemm(.transposed, .none, m: inputBlock.count, n: fanOut, k: rows, alpha: alpha, a: x, lda: fanIn,
                  b: delta, ldb: fanOut, beta: momentum == 0 ? 1 - decay : momentum, c: momentum == 0 ? w : v,
                  ldc: fanOut)
            // V -= rate lambda W; W += V (one pass)
            if momentum != 0 { UpdateRules.applyVelocity(w, velocity: v, count: inputBlock.count * fanOut, decay: decay) }
        }
        if momentum == 0 {
            // b -= (rate/rows) * column sums of delta_l
            FusedKernels.accumulateColumnSums(delta + b, rows: rows, columns: bCount, stride: fanOut,
                                              into: biases[l].pointer + b, scale: alpha, beta: 1)
        } else {
            // v_b = momentum v_b - (rate/rows) * column sums of delta_l; b += v_b
            FusedKernels.accumulateColumnSums(delta + b, rows: rows, columns: bCount, stride: fanOut,
                                              into: biasMoments[l].pointer + b, scale: alpha, beta: momentum)
            UpdateRules.applyVelocity(biases[l].pointer + b, velocity: biasMoments[l].pointer + b, count: bCount, decay: 0)
        }
    }
}

/// The textbook update rules on raw parameter blocks (written elementwise, one pass each).
enum UpdateRules {
    /// Classical momentum with L2 decay: `g' = g + decay w; v = momentum v - rate g'; w += v`;
    /// Nesterov's form: `w += momentum v - rate g'` with the new `v` (Sutskever et al. 2013,
    /// as in PyTorch and Keras). `momentum = 0` is plain SGD.
    static func momentum(_ w: UnsafeMutablePointer<Float>, velocity v: UnsafeMutablePointer<Float>,
                         gradient g: UnsafePointer<Float>, count: Int, rate: Float, momentum: Float,
                         decay: Float, nesterov: Bool) {
        if nesterov {
            for i in 0..<count {
                let step = -rate * (g[i] + decay * w[i])
                let velocity = momentum * v[i] + step
                v[i] = velocity
                w[i] += momentum * velocity + step
            }
        } else {
            for i in 0..<count {
                let velocity = momentum * v[i] - rate * (g[i] + decay * w[i])
                v[i] = velocity
                w[i] += velocity
            }
        }
    }

    /// `v -= decay * w; w += v` (decay = rate x lambda): the rest of the folded momentum update.
    static func applyVelocity(_ w: UnsafeMutablePointer<Float>, velocity v: UnsafeMutablePointer<Float>,
                              count: Int, decay: Float) {
        if decay == 0 {
            for i in 0..<count { w[i] += v[i] }
        } else {
            for i in 0..<count {
                let velocity = v[i] - decay * w[i]
                v[i] = velocity
                w[i] += velocity
            }
        }
    }

    /// Adam (Kingma & Ba 2015, Algorithm 1) with L2 decay added to the gradient; `step` is t >= 1.
    static func adam(_ w: UnsafeMutablePointer<Float>, first m: UnsafeMutablePointer<Float>,
                     second s: UnsafeMutablePointer<Float>, gradient g: UnsafePointer<Float>, count: Int,
                     rate: Float, beta1: Float, beta2: Float, epsilon: Float, step: Int, decay: Float) {
        let correction1 = Float(1 - Libm.pow(Double(beta1), Double(step)))
        let correction2 = Float(1 - Libm.pow(Double(beta2), Double(step)))
        let inverse1 = 1 / correction1, inverse2 = 1 / correction2
        // Lane-wise in blocks of 8 with `sqrt8` (the scalar loop did not vectorise), then the tail.
        @inline(__always) func update(_ w: SIMD8<Float>, _ m: SIMD8<Float>, _ s: SIMD8<Float>, _ g: SIMD8<Float>)
            -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
            let gradient = g + decay * w
            let first = beta1 * m + (1 - beta1) * gradient
            let second = beta2 * s + (1 - beta2) * gradient * gradient
            return (w - rate * (first * inverse1) / (sqrt8(second * inverse2) + epsilon), first, second)
        }
        var i = 0
        while i + 8 <= count {
            let (wi, mi, si) = update(load8(w + i), load8(m + i), load8(s + i), load8(g + i))
            store8(wi, w + i)
            store8(mi, m + i)
            store8(si, s + i)
            i += 8
        }
        while i < count {
            let gradient = g[i] + decay * w[i]
            let first = beta1 * m[i] + (1 - beta1) * gradient
            let second = beta2 * s[i] + (1 - beta2) * gradient * gradient
            m[i] = first
            s[i] = second
            w[i] -= rate * (first * inverse1) / ((second * inverse2).squareRoot() + epsilon)
            i += 1
        }
    }
}

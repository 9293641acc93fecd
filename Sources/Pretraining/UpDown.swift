import Linalg

/// The engine of up-down fine-tuning (contrastive wake-sleep; Hinton, Osindero & Teh 2006,
/// appendix B) for one minibatch at a time, on buffers allocated once. With D directed layers
/// below the top RBM (layer d: recognition weight R_d and bias c_d up, generative weight G_d
/// and bias b_d down; s_0 the pixels, s_D the units below the labels), `step` is:
///
/// 1. wake: s_0 = the data rows; s_{d+1} ~ Bernoulli(sigmoid(s_d R_d + c_d)) (sampled states);
/// 2. the top RBM: one CD-k update of the existing CD engine on [s_D, one-hot labels] (the
///    label clamped from the data in the positive phase; k from the schedule), or with
///    `persistent` one PCD update (k Gibbs steps of the fantasy chains, labels free);
/// 3. sleep: from the top RBM's negative phase, t_D ~ Bernoulli(E[s_D | h_k]) (PCD: the
///    chains' sampled states, which the draw leaves as they are); then
///    t_d ~ Bernoulli(sigmoid(t_{d+1} G_d^T + b_d)), the pixels t_0 as probabilities;
/// 4. the generative statistics: the error of predicting each wake layer from the one above,
///    e_d = s_d - sigmoid(s_{d+1} G_d^T + b_d): dG_d = e_d^T s_{d+1} / b, db_d = mean(e_d);
/// 5. the recognition statistics: the error of inferring each sleep layer from the one below,
///    f_d = t_{d+1} - sigmoid(t_d R_d + c_d): dR_d = t_d^T f_d / b, dc_d = mean(f_d);
/// 6. the update of every directed parameter from 4-5 (computed with the weights before it):
///    v = momentum v + lr (g - weightCost w), w += v (no weight cost on biases).
///
/// Draws: `RandomStream` keyed by (seed, purpose, epoch, minibatch, row, unit): wake states by
/// `.wakeSample(layer: d)`, sleep states by `.sleepSample(layer: d)`, the top RBM's by its
/// engine (layer D). The directed products are single `sgemm` calls on single-threaded BLAS
/// and the top RBM's blocks are fixed by its shape, so the result does not depend on the
/// number of threads.
final class UpDownEngine {
    let configuration: UpDownConfiguration
    let seed: UInt64
    /// Unit counts n_0 ... n_D (pixels first, the units below the labels last), K labels.
    let sizes: [Int], labelCount: Int, capacity: Int
    /// The top RBM's CD engine (its own parameters and velocities).
    let top: ContrastiveDivergence
    private(set) var epoch = 0, stepInEpoch = 0
    /// The epoch's sums so far: per directed layer d, the squared error of predicting the wake
    /// states of layer d from layer d + 1 (index 0: the pixels); the top RBM's squared
    /// reconstruction error. Summed over rows and units; cleared by `setEpoch`.
    private(set) var wakeErrorSums: [Double] = [], topErrorSum = 0.0
    private var learningRate: Float = 0, momentum: Float = 0

    // Directed parameters, their velocities and gradients (layer d: R_d, G_d (n_d, n_{d+1}),
    // c_d (n_{d+1}), b_d (n_d)).
    let recognition, recognitionVelocity, recognitionGradient: [FloatBuffer]
    let recognitionBias, recognitionBiasVelocity, recognitionBiasGradient: [FloatBuffer]
    let generative, generativeVelocity, generativeGradient: [FloatBuffer]
    let generativeBias, generativeBiasVelocity, generativeBiasGradient: [FloatBuffer]
    // Minibatch buffers: wake and sleep states of layers 0...D (B, n_d); predictions (B, n_d).
    let wake, sleep, prediction: [FloatBuffer]
    let topInput: FloatBuffer                          // (B, n_D + K)
    let indices: UnsafeMutableBufferPointer<Int>       // 0 ..< B

    var depth: Int { sizes.count - 1 }

    init(model: GenerativeDeepBeliefNetwork, configuration: UpDownConfiguration, capacity: Int, seed: UInt64) {
        self.configuration = configuration
        self.seed = seed
        self.capacity = capacity
        let layers = model.stack.layers
        sizes = layers.dropLast().map(\.visibleCount) + [model.top.featureCount]
        labelCount = model.labelCount
        top = ContrastiveDivergence(rbm: model.top, configuration: configuration.training, capacity: capacity,
                                    seed: seed, layer: layers.count - 1)
        let directed = Array(layers.dropLast())
        func zeros(_ counts: [Int]) -> [FloatBuffer] { counts.map { FloatBuffer(count: $0) } }
        let weightCounts = directed.map { $0.visibleCount * $0.hiddenCount }
        recognition = directed.map { FloatBuffer($0.weight.elements) }
        recognitionVelocity = zeros(weightCounts); recognitionGradient = zeros(weightCounts)
        recognitionBias = directed.map { FloatBuffer($0.hiddenBias) }
        recognitionBiasVelocity = zeros(directed.map(\.hiddenCount))
        recognitionBiasGradient = zeros(directed.map(\.hiddenCount))
        generative = model.generativeWeights.map { FloatBuffer($0.elements) }
        generativeVelocity = zeros(weightCounts); generativeGradient = zeros(weightCounts)
        generativeBias = directed.map { FloatBuffer($0.visibleBias) }
        generativeBiasVelocity = zeros(directed.map(\.visibleCount))
        generativeBiasGradient = zeros(directed.map(\.visibleCount))
        wake = zeros(sizes.map { $0 * capacity }); sleep = zeros(sizes.map { $0 * capacity })
        prediction = zeros(sizes.map { $0 * capacity })
        topInput = FloatBuffer(count: capacity * (sizes[sizes.count - 1] + model.labelCount))
        indices = .allocate(capacity: capacity)
        for r in 0..<capacity { indices[r] = r }
        setEpoch(0)
    }

    deinit { indices.deallocate() }

    /// Starts epoch `epoch` (0-based): its rate, momentum and k, and minibatch 0.
    func setEpoch(_ epoch: Int) {
        self.epoch = epoch
        stepInEpoch = 0
        wakeErrorSums = Array(repeating: 0, count: depth)
        topErrorSum = 0
        learningRate = configuration.learningRate
        momentum = configuration.momentum(forEpoch: epoch)
        top.setEpoch(epoch, cdSteps: configuration.cdSteps(forEpoch: epoch))
    }

    private func stream(_ purpose: RandomPurpose) -> RandomStream {
        RandomStream(seed: seed, purpose: purpose, epoch: epoch, step: stepInEpoch)
    }

    /// x (rows x n) = sigmoid(x + bias) row by row; with a stream, x is then replaced by a
    /// Bernoulli sample of itself.
    private func sigmoidLayer(_ x: UnsafeMutablePointer<Float>, rows: Int, columns n: Int,
                              bias: UnsafePointer<Float>, sample stream: RandomStream?) {
        UnitKernels.hiddenMeans(.bernoulli, x, rows: rows, bias: bias, columns: n, first: 0, stride: n,
                                sample: stream == nil ? nil : x, stream: stream)
    }

    // MARK: - One minibatch

    /// One up-down update on the rows `rows` of `data` (row-major, n_0 columns) with their
    /// labels `labels[row]` (0 ..< K). BLAS must be single-threaded during the call. Returns
    /// the summed squared error of the pixels predicted from the wake states of the layer
    /// above (sum over rows and pixels, before the update); adds every layer's to
    /// `wakeErrorSums` and the top RBM's reconstruction error to `topErrorSum`.
    func step(data: UnsafePointer<Float>, labels: UnsafePointer<Int>, rows: UnsafeBufferPointer<Int>) -> Double {
        let b = rows.count, d = depth, n = sizes
        precondition(b >= 1 && b <= capacity, "UpDownEngine.step: \(b) rows for a capacity of \(capacity)")
        defer { stepInEpoch += 1 }
        // 1. Wake: the data, then sampled states up to layer D.
        for (r, index) in rows.enumerated() {
            (wake[0].pointer + r * n[0]).update(from: data + index * n[0], count: n[0])
        }
        for l in 0..<d {
            // s_{l+1} = s_l R_l : (b, n_l) * (n_l, n_{l+1}), then sigmoid(. + c_l) sampled.
            sgemm(.none, .none, m: b, n: n[l + 1], k: n[l], alpha: 1, a: wake[l].pointer, lda: n[l],
                  b: recognition[l].pointer, ldb: n[l + 1], beta: 0, c: wake[l + 1].pointer, ldc: n[l + 1])
            sigmoidLayer(wake[l + 1].pointer, rows: b, columns: n[l + 1], bias: recognitionBias[l].pointer,
                         sample: stream(.wakeSample(layer: l + 1)))
        }
        // 2. The top RBM: CD-k on [s_D, one-hot labels].
        let topWidth = n[d] + labelCount
        for r in 0..<b {
            let row = topInput.pointer + r * topWidth
            row.update(from: wake[d].pointer + r * n[d], count: n[d])
            (row + n[d]).update(repeating: 0, count: labelCount)
            let label = labels[rows[r]]
            precondition(label >= 0 && label < labelCount, "UpDownEngine.step: label \(label) of \(labelCount)")
            row[n[d] + label] = 1
        }
        // (The top engine counts its minibatches like this one: both start at 0 in setEpoch.)
        topErrorSum += top.step(data: topInput.pointer, rows: UnsafeBufferPointer(rebasing: indices[0..<b]))
        // 3. Sleep: t_D ~ the top's negative visible means (below the labels), then down.
        let negative = top.visibleStack.pointer + b * topWidth
        let topStream = stream(.sleepSample(layer: d))
        for r in 0..<b {
            topStream.sampleBernoulli(row: r, units: 0..<n[d], probabilities: negative + r * topWidth,
                                      into: sleep[d].pointer + r * n[d])
        }
        for l in stride(from: d - 1, through: 0, by: -1) {
            // t_l = t_{l+1} G_l^T : (b, n_{l+1}) * (n_{l+1}, n_l), then sigmoid(. + b_l), sampled above 0.
            sgemm(.none, .transposed, m: b, n: n[l], k: n[l + 1], alpha: 1, a: sleep[l + 1].pointer, lda: n[l + 1],
                  b: generative[l].pointer, ldb: n[l + 1], beta: 0, c: sleep[l].pointer, ldc: n[l])
            sigmoidLayer(sleep[l].pointer, rows: b, columns: n[l], bias: generativeBias[l].pointer,
                         sample: l > 0 ? stream(.sleepSample(layer: l)) : nil)
        }
        // 4. Generative statistics: e_l = s_l - sigmoid(s_{l+1} G_l^T + b_l).
        let scale = 1 / Float(b)
        var pixelError = 0.0
        for l in 0..<d {
            let e = prediction[l].pointer
            sgemm(.none, .transposed, m: b, n: n[l], k: n[l + 1], alpha: 1, a: wake[l + 1].pointer, lda: n[l + 1],
                  b: generative[l].pointer, ldb: n[l + 1], beta: 0, c: e, ldc: n[l])
            sigmoidLayer(e, rows: b, columns: n[l], bias: generativeBias[l].pointer, sample: nil)
            let s = wake[l].pointer
            var error = 0.0
            for i in 0..<(b * n[l]) {
                e[i] = s[i] - e[i]
                error += Double(e[i]) * Double(e[i])
            }
            wakeErrorSums[l] += error
            if l == 0 { pixelError = error }
            // dG_l = e_l^T s_{l+1} / b : (n_l, b) * (b, n_{l+1})
            sgemm(.transposed, .none, m: n[l], n: n[l + 1], k: b, alpha: scale, a: e, lda: n[l],
                  b: wake[l + 1].pointer, ldb: n[l + 1], beta: 0, c: generativeGradient[l].pointer, ldc: n[l + 1])
            UnitKernels.columnSums(e, rows: b, columns: n[l], stride: n[l], scale: scale,
                                   into: generativeBiasGradient[l].pointer)
        }
        // 5. Recognition statistics: f_l = t_{l+1} - sigmoid(t_l R_l + c_l).
        for l in 0..<d {
            let f = prediction[l + 1].pointer
            sgemm(.none, .none, m: b, n: n[l + 1], k: n[l], alpha: 1, a: sleep[l].pointer, lda: n[l],
                  b: recognition[l].pointer, ldb: n[l + 1], beta: 0, c: f, ldc: n[l + 1])
            sigmoidLayer(f, rows: b, columns: n[l + 1], bias: recognitionBias[l].pointer, sample: nil)
            let t = sleep[l + 1].pointer
            for i in 0..<(b * n[l + 1]) { f[i] = t[i] - f[i] }
            // dR_l = t_l^T f_l / b : (n_l, b) * (b, n_{l+1})
            sgemm(.transposed, .none, m: n[l], n: n[l + 1], k: b, alpha: scale, a: sleep[l].pointer, lda: n[l],
                  b: f, ldb: n[l + 1], beta: 0, c: recognitionGradient[l].pointer, ldc: n[l + 1])
            UnitKernels.columnSums(f, rows: b, columns: n[l + 1], stride: n[l + 1], scale: scale,
                                   into: recognitionBiasGradient[l].pointer)
        }
        // 6. The update of the directed parameters.
        let rate = learningRate, m = momentum, decay = learningRate * configuration.weightCost
        func ascend(_ w: FloatBuffer, _ v: FloatBuffer, _ g: FloatBuffer, decay: Float) {
            Kernels.momentumAscent(w.pointer, velocity: v.pointer, gradient: g.pointer, count: w.count, rate: rate,
                                   momentum: m, decay: decay, clearGradient: false)
        }
        for l in 0..<d {
            ascend(generative[l], generativeVelocity[l], generativeGradient[l], decay: decay)
            ascend(generativeBias[l], generativeBiasVelocity[l], generativeBiasGradient[l], decay: 0)
            ascend(recognition[l], recognitionVelocity[l], recognitionGradient[l], decay: decay)
            ascend(recognitionBias[l], recognitionBiasVelocity[l], recognitionBiasGradient[l], decay: 0)
        }
        return pixelError
    }

    // MARK: - Parameters

    /// Whether every parameter is finite.
    var parametersAreFinite: Bool {
        top.parametersAreFinite
            && [recognition, recognitionBias, generative, generativeBias].allSatisfy { $0.allSatisfy(\.isFinite) }
    }

    /// Copies the parameters into `model` (same shape).
    func store(into model: inout GenerativeDeepBeliefNetwork) {
        let last = model.stack.layers.count - 1
        top.store(into: &model.stack.layers[last])
        for l in 0..<depth {
            model.stack.layers[l].weight.elements = recognition[l].array
            model.stack.layers[l].hiddenBias = recognitionBias[l].array
            model.stack.layers[l].visibleBias = generativeBias[l].array
            model.generativeWeights[l].elements = generative[l].array
        }
    }

    /// Every velocity, in a fixed order: for each directed layer R, c, G, b; then the top RBM's
    /// weight, visible and hidden velocities.
    var velocities: [[Float]] {
        var all: [[Float]] = []
        for l in 0..<depth {
            all += [recognitionVelocity[l].array, recognitionBiasVelocity[l].array, generativeVelocity[l].array,
                    generativeBiasVelocity[l].array]
        }
        return all + [top.weightVelocity.array, top.visibleVelocity.array, top.hiddenVelocity.array]
    }

    /// The buffers of `velocities`, in its order.
    private var velocityBuffers: [FloatBuffer] {
        (0..<depth).flatMap { l in
            [recognitionVelocity[l], recognitionBiasVelocity[l], generativeVelocity[l], generativeBiasVelocity[l]]
        } + [top.weightVelocity, top.visibleVelocity, top.hiddenVelocity]
    }

    /// Whether `velocities` fit this engine's shapes.
    func fits(velocities: [[Float]]) -> Bool {
        let buffers = velocityBuffers
        return velocities.count == buffers.count && zip(velocities, buffers).allSatisfy { $0.count == $1.count }
    }

    /// Restores velocities saved by `velocities` (checked with `fits`).
    func restore(velocities: [[Float]]) {
        precondition(fits(velocities: velocities), "UpDownEngine.restore: velocities of another shape")
        for (values, buffer) in zip(velocities, velocityBuffers) { buffer.copy(from: values) }
    }

    /// The top RBM's persistent chains (capacity x (n_D + K), row-major) once started; nil
    /// without `persistent` or before the first step.
    var topChains: [Float]? { configuration.persistent && top.chainsStarted ? top.chains.array : nil }

    /// Whether `chains` (from `topChains`) fit this engine: one chain per minibatch row, each
    /// of n_D + K units, and the engine uses persistent chains.
    func fits(topChains chains: [Float]) -> Bool { configuration.persistent && chains.count == top.chains.count }

    /// Restores the top RBM's persistent chains saved by `topChains` (checked with `fits`).
    func restore(topChains chains: [Float]) {
        precondition(fits(topChains: chains), "UpDownEngine.restore: chains of another shape")
        top.chains.copy(from: chains)
        top.chainsStarted = true
    }
}

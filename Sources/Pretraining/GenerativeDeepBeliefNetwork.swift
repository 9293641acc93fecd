import Linalg

/// The generative deep belief net of Hinton, Osindero & Teh (2006): a top RBM (the
/// associative memory) whose visible layer joins the units of the layer below with K softmax
/// label units, above directed sigmoid layers that have separate recognition (up) and
/// generative (down) weights once up-down fine-tuning has untied them.
///
/// `stack` holds the recognition weights and biases of the directed layers (each RBM's `weight`
/// and `hiddenBias`), their generative biases (each RBM's `visibleBias`) and the top RBM;
/// `generativeWeights[i]` is the generative weight of layer i, of the shape of the recognition
/// weight (V_i, H_i): the down pass of layer i is E[v | h] = sigmoid(h G_i^T + b_i). After
/// greedy pre-training both are the RBMs' tied weights.
public struct GenerativeDeepBeliefNetwork: Sendable, Equatable {
    /// The recognition weights and biases, the generative biases and the top RBM with labels.
    public var stack: DeepBeliefNetwork
    /// The generative weights of the directed layers below the top RBM, bottom first.
    public var generativeWeights: [Matrix]

    /// A generative DBN from a greedily trained stack whose top RBM has labels: the generative
    /// weights are the recognition weights (tied), or `generativeWeights` when given.
    /// Precondition: the top RBM has label units, every unit is Bernoulli, the weights fit.
    public init(stack: DeepBeliefNetwork, generativeWeights: [Matrix]? = nil) {
        precondition(stack.labelCount > 0, "GenerativeDeepBeliefNetwork: the top RBM has no label units")
        precondition(stack.layers.allSatisfy { $0.visibleUnits == .bernoulli && $0.hiddenUnits == .bernoulli },
                     "GenerativeDeepBeliefNetwork: needs Bernoulli units throughout")
        let directed = stack.layers.dropLast()
        let weights = generativeWeights ?? directed.map(\.weight)
        precondition(weights.count == directed.count
                     && zip(weights, directed).allSatisfy { $0.rows == $1.visibleCount && $0.columns == $1.hiddenCount },
                     "GenerativeDeepBeliefNetwork: generative weights do not fit the stack")
        self.stack = stack
        self.generativeWeights = weights
    }

    /// Why `stack` cannot be a generative DBN, or nil if it can.
    public static func unsuitability(of stack: DeepBeliefNetwork) -> String? {
        if stack.labelCount == 0 { return "its top RBM has no label units" }
        if let rbm = stack.layers.first(where: { $0.visibleUnits != .bernoulli || $0.hiddenUnits != .bernoulli }) {
            return "it has \(rbm.visibleUnits.rawValue) visible and \(rbm.hiddenUnits.rawValue) hidden units (needs Bernoulli units throughout)"
        }
        return nil
    }

    /// The top RBM (with the labels).
    public var top: RBM { stack.layers[stack.layers.count - 1] }
    /// The number of label units K.
    public var labelCount: Int { stack.labelCount }
    /// The number of pixels (the bottom layer's units).
    public var inputCount: Int { stack.layerSizes[0] }
    /// Whether the generative weights differ from the recognition weights (up-down ran).
    public var isUntied: Bool { !zip(generativeWeights, stack.layers).allSatisfy { $0 == $1.weight } }

    /// The up pass with the recognition weights: the probabilities of the units below the
    /// labels (the top RBM's other visible units) given the pixels `v` (shape (n, inputs)).
    public func upPass(_ v: Matrix) -> Matrix {
        precondition(v.columns == inputCount, "upPass: \(v.columns) columns for \(inputCount) inputs")
        var x = v
        for rbm in stack.layers.dropLast() { x = rbm.hiddenProbabilities(x) }
        return x
    }

    /// The down pass with the generative weights: the pixel probabilities given the
    /// probabilities (or states) `h` of the units below the labels (mean-field, as the paper's
    /// figures).
    public func downPass(_ h: Matrix) -> Matrix {
        var x = h
        for i in stride(from: stack.layers.count - 2, through: 0, by: -1) {
            x = generativeLayer(i).visibleProbabilities(x)
        }
        return x
    }

    /// Directed layer i seen from above: an RBM with the generative weight and bias (only its
    /// visible conditionals are used).
    func generativeLayer(_ i: Int) -> RBM {
        let rbm = stack.layers[i]
        return RBM(weight: generativeWeights[i], visibleBias: rbm.visibleBias, hiddenBias: rbm.hiddenBias)
    }

    // MARK: - Classification

    /// The free energy of the top RBM for every label clamped in turn: element (r, k) is
    /// F([x_r, e_k]) with x_r the up pass of row r of `v` (shape (n, inputs)), in double precision
    /// (row-major, n x K). p(label = k | x) is proportional to exp(-F([x, e_k])).
    public func labelFreeEnergies(_ v: Matrix) -> [Double] {
        let x = upPass(v)
        let top = self.top, f = top.featureCount, k = top.labelCount, h = top.hiddenCount
        // pre = x W_f + c : (n, F) * (F, H) -> (n, H), the label rows added per label below.
        var features = top
        features.weight = Matrix(rows: f, columns: h, elements: Array(top.weight.elements[0..<(f * h)]))
        features.visibleBias = Array(top.visibleBias[0..<f])
        features.labelCount = 0
        let pre = features.hiddenPreActivations(x)
        var result = [Double](repeating: 0, count: x.rows * k)
        for r in 0..<x.rows {
            var featureTerm = 0.0
            for i in 0..<f { featureTerm -= Double(x[r, i]) * Double(top.visibleBias[i]) }
            for label in 0..<k {
                var hiddenTerm = 0.0
                for j in 0..<h { hiddenTerm += softplus(Double(pre[r, j]) + Double(top.weight[f + label, j])) }
                result[r * k + label] = featureTerm - Double(top.visibleBias[f + label]) - hiddenTerm
            }
        }
        return result
    }

    /// The most probable label of each row of `v` under the top RBM given the up pass: the
    /// label of least free energy (exact; ties go to the smaller label).
    public func classify(_ v: Matrix) -> [Int] {
        let energies = labelFreeEnergies(v), k = labelCount
        return (0..<v.rows).map { r in
            var best = 0
            for label in 1..<k where energies[r * k + label] < energies[r * k + best] { best = label }
            return best
        }
    }

    // MARK: - Generation

    /// Images of `label` dreamt by the model: `count` independent Gibbs chains in the top RBM
    /// with the label clamped, run for `steps` steps (h ~ p(h | x, label), x ~ p(x | h)) from
    /// x ~ p(x | h = 0), then the mean of x given the last hidden state passed down through the
    /// generative weights. Returns (count, inputs) pixel probabilities; with `frames`, also
    /// the images after each listed step of the chains (in the order given).
    ///
    /// Randomness: every draw comes from a `RandomStream` keyed by `seed`, the step and the
    /// chain (row), so chain r is the same however many chains run beside it.
    public func dream(label: Int, count: Int, steps: Int, seed: UInt64,
                      frames: [Int] = []) -> (images: Matrix, frames: [Matrix]) {
        precondition((0..<labelCount).contains(label), "dream: label \(label) of \(labelCount)")
        precondition(count >= 1 && steps >= 0, "dream: \(count) chains of \(steps) steps")
        let top = self.top, f = top.featureCount, k = top.labelCount, h = top.hiddenCount
        // v: the top RBM's visible states, the label columns clamped to e_label.
        var v = Matrix(rows: count, columns: f + k)
        var means = Matrix(rows: count, columns: f + k)
        var hidden = Matrix(rows: count, columns: h)
        let zero = Matrix(rows: count, columns: h)
        func sampleFeatures(_ mean: Matrix, step: Int) {
            let stream = RandomStream(seed: seed, purpose: .dream(step: step, hidden: false))
            mean.elements.withUnsafeBufferPointer { p in
                v.elements.withUnsafeMutableBufferPointer { out in
                    for r in 0..<count {
                        stream.sampleBernoulli(row: r, units: 0..<f, probabilities: p.baseAddress! + r * (f + k),
                                               into: out.baseAddress! + r * (f + k))
                        for c in 0..<k { out[r * (f + k) + f + c] = c == label ? 1 : 0 }
                    }
                }
            }
        }
        sampleFeatures(top.visibleProbabilities(zero), step: 0)
        var images: [Matrix] = []
        let wanted = Set(frames)
        var frameImages: [Int: Matrix] = [:]
        for s in 1...max(steps, 1) {
            hidden = top.hiddenProbabilities(v)
            let stream = RandomStream(seed: seed, purpose: .dream(step: s, hidden: true))
            hidden.elements.withUnsafeMutableBufferPointer { p in
                for r in 0..<count {
                    stream.sampleBernoulli(row: r, units: 0..<h, probabilities: p.baseAddress! + r * h,
                                           into: p.baseAddress! + r * h)
                }
            }
            means = top.visibleProbabilities(hidden)
            if wanted.contains(s) { frameImages[s] = downPass(means.columns(0..<f)) }
            if s < steps { sampleFeatures(means, step: s) }
        }
        images = frames.map { frameImages[$0] ?? downPass(means.columns(0..<f)) }
        return (downPass(means.columns(0..<f)), images)
    }
}

extension Matrix {
    /// The columns `range` of every row, as a new matrix.
    public func columns(_ range: Range<Int>) -> Matrix {
        var result = Matrix(rows: rows, columns: range.count)
        for r in 0..<rows { for (c, source) in range.enumerated() { result[r, c] = self[r, source] } }
        return result
    }
}

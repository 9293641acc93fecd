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

    /// How a label is read off the top RBM.
    public enum LabelRule: Sendable, Equatable {
        /// The label of least free energy (exact).
        case freeEnergy
        /// The labels left to settle (`settledLabelProbabilities`): `steps` Gibbs steps with the
        /// units below the labels clamped, draws keyed by `seed`.
        case settling(steps: Int, seed: UInt64)
    }

    /// p(label | v) estimated by letting the label units settle, as the paper's classification
    /// by the associative memory: the up pass x of each row of `v`, then one Gibbs chain per row
    /// in the top RBM with x clamped and the label units free (`GibbsChains`, clamp `.features`,
    /// label started at 1/K each), run for `steps` steps; the estimate is the mean over the steps
    /// s = 1 ... steps of p(label | h_s) (row-major, n x K, in double precision). The chain's
    /// stationary distribution of the label is exactly softmax(-F([x, e_k])) over k
    /// (`labelFreeEnergies`); a few steps estimate it with noise and a bias from the start.
    /// Precondition: steps >= 1.
    public func settledLabelProbabilities(_ v: Matrix, steps: Int, seed: UInt64) -> [Double] {
        precondition(steps >= 1, "settledLabelProbabilities: \(steps) steps")
        let x = upPass(v), top = self.top, f = top.featureCount, k = top.labelCount
        var start = Matrix(rows: x.rows, columns: f + k, repeating: 1 / Float(k))
        for r in 0..<x.rows { for i in 0..<f { start[r, i] = x[r, i] } }
        var sums = [Double](repeating: 0, count: x.rows * k)
        let chains = GibbsChains(rbm: top, clamp: .features, seed: seed, layer: stack.layers.count - 1)
        _ = chains.run(from: start, steps: steps) { s, means in
            guard s >= 1 else { return }
            for r in 0..<x.rows { for c in 0..<k { sums[r * k + c] += Double(means[r, f + c]) } }
        }
        return sums.map { $0 / Double(steps) }
    }

    /// The label of each row of `v` by `rule`: the least free energy, or the most probable
    /// settled label (ties go to the smaller label).
    public func classify(_ v: Matrix, by rule: LabelRule) -> [Int] {
        switch rule {
        case .freeEnergy: return classify(v)
        case .settling(let steps, let seed):
            let p = settledLabelProbabilities(v, steps: steps, seed: seed), k = labelCount
            return (0..<v.rows).map { r in
                var best = 0
                for label in 1..<k where p[r * k + label] > p[r * k + best] { best = label }
                return best
            }
        }
    }

    // MARK: - Generation

    /// Where the chains of `dream` start.
    public enum DreamStart: String, Sendable, CaseIterable {
        /// The up pass of a random binary image (each pixel on with probability 0.5), as the
        /// paper's figure 9.
        case noise
        /// The visible means of the top RBM given all hidden units off (its visible biases).
        case biases
    }

    /// Images of `label` dreamt by the model: `count` independent Gibbs chains in the top RBM
    /// with the label clamped (`GibbsChains`, clamp `.label`), run for `steps` steps from
    /// `start`, then the means of the units below the labels given the last hidden state passed
    /// down through the generative weights. Returns (count, inputs) pixel probabilities; with
    /// `frames`, also the images after each listed step of the chains (in the order given; a
    /// step beyond `steps` gives the last). With `annealing` A, the first A steps sample the top
    /// RBM at rising inverse temperatures (simulated annealing, see `GibbsChains.run`).
    ///
    /// Randomness: every draw is keyed by `seed`, the step and the chain (row), so chain r is
    /// the same however many chains run beside it and with any number of threads (the noise
    /// image of `.noise` by the chain purpose of layer -1, step 0).
    public func dream(label: Int, count: Int, steps: Int, seed: UInt64, start: DreamStart = .noise,
                      annealing: Int = 0, frames: [Int] = []) -> (images: Matrix, frames: [Matrix]) {
        precondition((0..<labelCount).contains(label), "dream: label \(label) of \(labelCount)")
        precondition(count >= 1 && steps >= 0, "dream: \(count) chains of \(steps) steps")
        let top = self.top, f = top.featureCount
        var v = Matrix(rows: count, columns: top.visibleCount)
        switch start {
        case .biases:
            for r in 0..<count { for i in 0..<f { v[r, i] = sigmoid(top.visibleBias[i]) } }
        case .noise:
            let stream = RandomStream(seed: seed, purpose: .gibbsChain(layer: -1, step: 0, hidden: false))
            var noise = Matrix(rows: count, columns: inputCount)
            for r in 0..<count { for i in 0..<inputCount { noise[r, i] = stream.uniform(row: r, unit: i) < 0.5 ? 1 : 0 } }
            let x = upPass(noise)
            for r in 0..<count { for i in 0..<f { v[r, i] = x[r, i] } }
        }
        let wanted = Set(frames)
        var frameImages: [Int: Matrix] = [:]
        let chains = GibbsChains(rbm: top, clamp: .label(label), seed: seed, layer: stack.layers.count - 1)
        let means = chains.run(from: v, steps: steps, annealing: min(annealing, steps)) { s, means in
            if wanted.contains(s) { frameImages[s] = downPass(means.columns(0..<f)) }
        }
        let images = downPass(means.columns(0..<f))
        return (images, frames.map { frameImages[$0] ?? images })
    }
}

extension DeepBeliefNetwork {
    /// Greedy training of the top RBM alone, on the layers below as they are (trained before,
    /// e.g. those of an earlier greedy model): its input is the up pass of `data` through them
    /// (hidden probabilities) with the one-hot `labels` appended when the top RBM has label
    /// units; its visible biases start from that input when the configuration says so
    /// (`visibleBiasStart`), and the run's seed is one draw of `generator`. This is exactly the
    /// last layer of `pretrain(on:configuration:labels:generator:)` with the same generator, when
    /// the layers below equal those `pretrain` would have trained and their configuration passes
    /// probabilities up (so a change that concerns the top RBM only is measured without training
    /// the layers below again). Throws like `pretrain`.
    public mutating func pretrainTop(on data: Matrix, configuration: RBMTrainingConfiguration, labels: [Int]? = nil,
                                     generator: inout Xoshiro256StarStar,
                                     onEpoch: (RBMEpochReport) -> Void = { _ in }) throws {
        let seed = generator.next()
        guard let first = layers.first else { return }
        guard data.columns == first.visibleCount else {
            throw PretrainingError.shapeMismatch(what: "training data", expected: first.visibleCount, found: data.columns)
        }
        guard configuration.nextLayerInput == .probabilities else {
            throw PretrainingError.invalidConfiguration("training the top RBM alone needs probabilities passed up (nextLayerInput)")
        }
        try Self.checkLabels(labels, count: labelCount, rows: data.rows)
        let top = layers.count - 1
        var input = data
        for i in 0..<top { input = layers[i].hiddenProbabilities(input) }
        if let labels, labelCount > 0 { input = input.appendingOneHot(labels, classes: labelCount) }
        if configuration.visibleBiasStart == .fromData { layers[top].initializeVisibleBias(from: input) }
        try layers[top].train(on: input, configuration: configuration, monitors: .none, layer: top, seed: seed,
                              onEpoch: onEpoch)
    }
}

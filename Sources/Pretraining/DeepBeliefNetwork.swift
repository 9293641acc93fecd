import Linalg

/// A stack of RBMs trained greedily, layer by layer (Hinton, Osindero & Teh 2006): layer i+1
/// models the hidden activities of layer i. `layers[0]` sees the data.
public struct DeepBeliefNetwork: Sendable, Equatable {
    /// The RBMs, bottom (data) first. `layers[i].hiddenCount == layers[i + 1].featureCount`:
    /// only the top RBM may have label units besides the units of the layer below (the
    /// associative memory of Hinton, Osindero & Teh 2006).
    public var layers: [RBM]

    /// A stack of the given RBMs (their sizes must chain; only the top one may have labels).
    public init(layers: [RBM]) {
        for i in layers.indices.dropFirst() {
            precondition(layers[i - 1].hiddenCount == layers[i].featureCount,
                         "DeepBeliefNetwork: layer \(i) has \(layers[i - 1].hiddenCount) hidden units, layer \(i + 1) \(layers[i].featureCount) visible units")
        }
        precondition(layers.dropLast().allSatisfy { $0.labelCount == 0 }, "DeepBeliefNetwork: labels below the top RBM")
        self.layers = layers
    }

    /// The number of label units of the top RBM (0 for a stack without labels).
    public var labelCount: Int { layers.last?.labelCount ?? 0 }

    /// A new stack for `layerSizes` (e.g. [784, 500, 500, 2000]: three RBMs).
    ///
    /// The first RBM has `visibleUnits`; the visible units of each higher RBM match the hidden
    /// units below (Bernoulli for Bernoulli hidden units, Gaussian for rectified ones). Weights
    /// and hidden biases start as `initialization` says; visible biases start at zero and are
    /// set from each layer's training input by `pretrain` (its `visibleBias` argument).
    /// With `labelCount` K > 0 the top RBM also has K softmax label units (its weight has
    /// layerSizes[last - 1] + K rows, the label rows last); `pretrain` then needs the labels.
    public init(layerSizes: [Int], visibleUnits: VisibleUnits = .bernoulli, hiddenUnits: HiddenUnits = .bernoulli,
                initialization: RBMInitialization = .practicalGuide, labelCount: Int = 0,
                generator: inout Xoshiro256StarStar) {
        precondition(layerSizes.count >= 2, "DeepBeliefNetwork: needs at least 2 layer sizes, got \(layerSizes)")
        var layers: [RBM] = []
        for i in 0..<(layerSizes.count - 1) {
            let visible: VisibleUnits = i == 0 ? visibleUnits : (hiddenUnits == .bernoulli ? .bernoulli : .gaussian)
            let labels = i == layerSizes.count - 2 ? labelCount : 0
            var rbm = RBM(visibleCount: layerSizes[i] + labels, hiddenCount: layerSizes[i + 1], visibleUnits: visible,
                          hiddenUnits: hiddenUnits, initialization: initialization, data: nil, generator: &generator)
            rbm.labelCount = labels
            layers.append(rbm)
        }
        self.layers = layers
    }

    /// The unit counts, data first: [layers[0].visibleCount, layers[0].hiddenCount, ...].
    public var layerSizes: [Int] {
        guard let first = layers.first else { return [] }
        return [first.visibleCount] + layers.map(\.hiddenCount)
    }

    /// The up-pass: each layer's hidden probabilities given the one below, starting from `v`
    /// (shape (n, layerSizes[0])). Element i has shape (n, layerSizes[i + 1]).
    public func upPass(_ v: Matrix) -> [Matrix] {
        var outputs: [Matrix] = []
        var input = v
        for layer in layers {
            input = layer.hiddenProbabilities(input)
            outputs.append(input)
        }
        return outputs
    }
}

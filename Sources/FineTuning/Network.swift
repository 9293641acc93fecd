import Linalg

/// A feed-forward network of dense layers (a value type).
///
/// Layer `l` maps its input `X` (batch x fanIn, one sample per row) to `X W_l + b_l`; hidden
/// layers then apply `hiddenActivation`, the last layer is the output (`output`: softmax or
/// sigmoid). A network unrolled from a pre-trained stack has the RBMs' weights (visible x
/// hidden) and hidden biases as its hidden layers and a fresh output layer on top.
public struct Network: Sendable, Equatable {
    /// The layers, input side first; the last one is the output layer.
    public var layers: [DenseParameters]
    /// The nonlinearity of every hidden layer.
    public var hiddenActivation: Activation
    /// The output units and their loss.
    public var output: OutputKind

    /// A network from its layers; each layer's fanIn must equal the previous layer's fanOut.
    public init(layers: [DenseParameters], hiddenActivation: Activation = .sigmoid, output: OutputKind = .softmax) {
        precondition(!layers.isEmpty, "Network: needs at least one layer")
        for l in 1..<layers.count {
            precondition(layers[l].fanIn == layers[l - 1].fanOut,
                         "Network: layer \(l) takes \(layers[l].fanIn) inputs, layer \(l - 1) gives \(layers[l - 1].fanOut)")
        }
        self.layers = layers
        self.hiddenActivation = hiddenActivation
        self.output = output
    }

    /// The layer sizes, input first: `[fanIn of layer 0, fanOut of layer 0, ..., outputs]`.
    public var sizes: [Int] { [layers[0].fanIn] + layers.map(\.fanOut) }
    /// Number of inputs.
    public var inputCount: Int { layers[0].fanIn }
    /// Number of outputs.
    public var outputCount: Int { layers[layers.count - 1].fanOut }
    /// Number of weights and biases.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.weight.count + $1.bias.count } }
    /// Whether every parameter is finite.
    public var isFinite: Bool { layers.allSatisfy(\.isFinite) }

    /// The activation of layer `l`: the hidden activation, or identity for the output layer
    /// (whose nonlinearity belongs to the loss).
    func activation(ofLayer l: Int) -> Activation {
        l == layers.count - 1 ? .identity : hiddenActivation
    }

    /// Checks that `sizes` describe a network: at least an input and an output size, all positive.
    static func validate(sizes: [Int]) throws {
        guard sizes.count >= 2 else {
            throw FineTuningError.invalidArchitecture("needs at least an input and an output size, got \(sizes)")
        }
        guard sizes.allSatisfy({ $0 > 0 }) else {
            throw FineTuningError.invalidArchitecture("every layer size must be positive, got \(sizes)")
        }
    }
}

import Linalg

/// A feed-forward network of dense layers (a value type).
///
/// Layer `l` maps its input `X` (batch x fanIn, one sample per row) to `X W_l + b_l`; hidden
/// layers then apply `hiddenActivation`, the last layer is the output (`output`: softmax or
/// sigmoid). A network unrolled from a pre-trained stack has the RBMs' weights (visible x
/// hidden) and hidden biases as its hidden layers and a fresh output layer on top.
///
/// Maxout (`hiddenActivation == .maxout`): a hidden layer of n units has k n affine columns
/// (k = `maxoutPieces`), unit u's pieces in columns u k ..< (u + 1) k, and each unit outputs the
/// maximum of its pieces. Batch normalisation (`batchNorm` not empty): each hidden layer's
/// affine map `X W` is normalised per column and scaled and shifted,
/// `gamma (z - mean) / sqrt(var + eps) + beta`, before the nonlinearity (and before maxout's
/// pooling); the layer's `bias` is the shift beta (a bias before the mean subtraction would
/// cancel). Training uses the minibatch's mean and variance, evaluation the running ones.
public struct Network: Sendable, Equatable {
    /// The layers, input side first; the last one is the output layer.
    public var layers: [DenseParameters]
    /// The nonlinearity of every hidden layer.
    public var hiddenActivation: Activation
    /// The output units and their loss.
    public var output: OutputKind
    /// Pieces per unit of a maxout network (1 for other activations).
    public var maxoutPieces: Int
    /// Batch normalisation of each hidden layer (empty: none).
    public var batchNorm: [BatchNormalization]

    /// A network from its layers; each layer's fanIn must equal the previous layer's units
    /// (its fanOut, or its fanOut / `maxoutPieces` for a maxout hidden layer); `batchNorm` is
    /// empty or holds one entry per hidden layer, as wide as its fanOut.
    public init(layers: [DenseParameters], hiddenActivation: Activation = .sigmoid, output: OutputKind = .softmax,
                maxoutPieces: Int = 2, batchNorm: [BatchNormalization] = []) {
        precondition(!layers.isEmpty, "Network: needs at least one layer")
        let pieces = hiddenActivation == .maxout ? maxoutPieces : 1
        precondition(pieces >= 1, "Network: maxout needs at least one piece, got \(maxoutPieces)")
        for l in 1..<layers.count {
            precondition(layers[l - 1].fanOut % pieces == 0 && layers[l].fanIn * pieces == layers[l - 1].fanOut,
                         "Network: layer \(l) takes \(layers[l].fanIn) inputs, layer \(l - 1) gives \(layers[l - 1].fanOut) columns (\(pieces) per unit)")
        }
        precondition(batchNorm.isEmpty || (batchNorm.count == layers.count - 1
                                           && batchNorm.indices.allSatisfy { batchNorm[$0].count == layers[$0].fanOut }),
                     "Network: batch normalisation needs one entry per hidden layer, as wide as the layer")
        self.layers = layers
        self.hiddenActivation = hiddenActivation
        self.output = output
        self.maxoutPieces = pieces
        self.batchNorm = batchNorm
    }

    /// The layer sizes, input first: `[inputs, units of layer 0, ..., outputs]`.
    public var sizes: [Int] { [layers[0].fanIn] + layers.indices.map(units(ofLayer:)) }
    /// Whether the hidden layers are batch-normalised.
    public var isBatchNormalized: Bool { !batchNorm.isEmpty }
    /// Affine columns per unit of layer l: `maxoutPieces` for a maxout hidden layer, else 1.
    public func pieces(ofLayer l: Int) -> Int { l < layers.count - 1 ? maxoutPieces : 1 }
    /// The units (outputs) of layer l.
    public func units(ofLayer l: Int) -> Int { layers[l].fanOut / pieces(ofLayer: l) }

    /// The network with batch normalisation on every hidden layer, started as the identity
    /// (gamma 1, running mean 0, running variance 1); the layers' biases become the shifts.
    public func withBatchNormalization() -> Network {
        var copy = self
        copy.batchNorm = layers.dropLast().map { BatchNormalization(count: $0.fanOut) }
        return copy
    }
    /// Number of inputs.
    public var inputCount: Int { layers[0].fanIn }
    /// Number of outputs.
    public var outputCount: Int { layers[layers.count - 1].fanOut }
    /// Number of weights and biases.
    public var parameterCount: Int {
        layers.reduce(0) { $0 + $1.weight.count + $1.bias.count } + batchNorm.reduce(0) { $0 + $1.count }
    }
    /// Whether every parameter is finite.
    public var isFinite: Bool { layers.allSatisfy(\.isFinite) && batchNorm.allSatisfy(\.isFinite) }

    /// The activation of layer `l`: the hidden activation, or identity for the output layer
    /// (whose nonlinearity belongs to the loss).
    func activation(ofLayer l: Int) -> Activation {
        l == layers.count - 1 ? .identity : hiddenActivation
    }

    /// Layer l's output from its affine columns `z` (rows x fanOut, after bias or batch
    /// normalisation): the activation, and maxout's pooling (a naive path for LSUV).
    func nonlinearity(ofLayer l: Int, _ z: Matrix) -> Matrix {
        var z = z
        activation(ofLayer: l).apply(&z)
        let k = pieces(ofLayer: l)
        guard k > 1 else { return z }
        var y = Matrix(rows: z.rows, columns: z.columns / k)
        z.elements.withUnsafeBufferPointer { zb in
            y.elements.withUnsafeMutableBufferPointer { yb in
                FusedKernels.maxoutPool(zb.baseAddress!, into: yb.baseAddress!, rows: z.rows, units: 0..<y.columns,
                                        pieces: k, inputStride: z.columns, outputStride: y.columns)
            }
        }
        return y
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

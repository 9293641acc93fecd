import Linalg

/// The parameters of one dense (fully connected) layer: `Y = X W + b`.
///
/// `weight` has shape (fanIn x fanOut) so that a minibatch `X` of shape (batch x fanIn), one
/// sample per row, maps to `X W` of shape (batch x fanOut); `bias` has `fanOut` entries.
/// This is also the orientation of an RBM's weights (visible x hidden) with its hidden biases,
/// so a pre-trained stack hands its layers over unchanged.
public struct DenseParameters: Sendable, Equatable {
    /// Weights, shape (fanIn x fanOut).
    public var weight: Matrix
    /// Biases, `fanOut` entries.
    public var bias: [Float]

    /// A layer from its weights (fanIn x fanOut) and biases (fanOut entries).
    public init(weight: Matrix, bias: [Float]) {
        precondition(bias.count == weight.columns,
                     "DenseParameters: \(bias.count) biases for a \(weight.rows)x\(weight.columns) weight")
        self.weight = weight
        self.bias = bias
    }

    /// A layer of zeros.
    public init(fanIn: Int, fanOut: Int) {
        self.init(weight: Matrix(rows: fanIn, columns: fanOut), bias: [Float](repeating: 0, count: fanOut))
    }

    /// Number of inputs.
    public var fanIn: Int { weight.rows }
    /// Number of outputs (units).
    public var fanOut: Int { weight.columns }
    /// Whether every weight and bias is finite.
    public var isFinite: Bool { weight.isFinite && bias.allSatisfy(\.isFinite) }
}

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

/// The batch normalisation of one hidden layer (Ioffe & Szegedy 2015) apart from its shift,
/// which is the layer's bias: per affine column a learned scale gamma and the running mean
/// and variance that evaluation uses in place of the minibatch's.
public struct BatchNormalization: Sendable, Equatable {
    /// The learned scales, one per column (start: 1).
    public var gamma: [Float]
    /// Running averages of the minibatch means and (unbiased) variances: after each training
    /// step `running = momentum running + (1 - momentum) batch` (start: 0 and 1).
    public var runningMean: [Float]
    public var runningVariance: [Float]

    /// The epsilon added to the variance before its square root (as PyTorch's default).
    public static let epsilon: Float = 1e-5
    /// The running averages' momentum: the weight of the old value (PyTorch's momentum 0.1
    /// for the new value).
    public static let momentum: Float = 0.9

    public init(gamma: [Float], runningMean: [Float], runningVariance: [Float]) {
        precondition(runningMean.count == gamma.count && runningVariance.count == gamma.count,
                     "BatchNormalization: \(gamma.count) scales, \(runningMean.count) means, \(runningVariance.count) variances")
        self.gamma = gamma
        self.runningMean = runningMean
        self.runningVariance = runningVariance
    }

    /// The identity start of `count` columns.
    public init(count: Int) {
        self.init(gamma: Array(repeating: 1, count: count), runningMean: Array(repeating: 0, count: count),
                  runningVariance: Array(repeating: 1, count: count))
    }

    /// Number of columns.
    public var count: Int { gamma.count }
    /// Whether every scale and running statistic is finite.
    public var isFinite: Bool {
        gamma.allSatisfy(\.isFinite) && runningMean.allSatisfy(\.isFinite) && runningVariance.allSatisfy(\.isFinite)
    }
}

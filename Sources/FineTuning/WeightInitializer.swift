import Linalg

/// How the weights of a network start. For a layer with `fanIn` inputs and `fanOut` outputs
/// (weight of shape fanIn x fanOut); biases start at 0 unless stated. Normal draws are plain
/// (not truncated) Gaussians.
public indirect enum WeightInitializer: Sendable, Equatable {
    /// All weights 0. Every hidden unit of a layer then computes the same function and gets
    /// the same gradient, so the symmetry never breaks (kept as the classic counter-example).
    case zeros
    /// All weights `c`.
    case constant(Float)
    /// `U(-a, a)`: variance a^2 / 3.
    case uniform(Float)
    /// `N(0, sigma^2)`, a plain (not truncated) normal; e.g. `normal(0.01)`, the "small random"
    /// start of Hinton's practical guide (2010).
    case normal(Float)
    /// Glorot & Bengio (2010), normal form: `N(0, 2 / (fanIn + fanOut))` (plain normal).
    case xavierNormal
    /// Glorot & Bengio (2010), "normalised initialisation":
    /// `U(-limit, limit)` with `limit = sqrt(6 / (fanIn + fanOut))`, i.e. variance 2 / (fanIn + fanOut).
    case xavierUniform
    /// The lecture form `randn / sqrt(fanIn)`: `N(0, 1 / fanIn)` (the same distribution as
    /// `lecunNormal`, written the way the lecture writes it).
    case lecture
    /// He, Zhang, Ren & Sun (2015), for ReLU: `N(0, 2 / fanIn)` (plain normal).
    case heNormal
    /// He et al. (2015), uniform form: `U(-limit, limit)` with `limit = sqrt(6 / fanIn)`,
    /// i.e. variance 2 / fanIn.
    case heUniform
    /// LeCun, Bottou, Orr & Mueller (1998), "Efficient BackProp": `N(0, 1 / fanIn)` (plain normal).
    case lecunNormal
    /// Saxe, McClelland & Ganguli (2014): `gain * Q` with Q from the QR factorisation of a
    /// Gaussian matrix (Linalg's `orthonormalColumns(of:)`, LAPACKE). For fanIn >= fanOut the
    /// columns are orthonormal (`W^T W = I`); for fanIn < fanOut the Gaussian is drawn
    /// transposed and the rows are orthonormal (`W W^T = I`). Each weight has mean square
    /// gain^2 / max(fanIn, fanOut).
    case orthogonal(gain: Float = 1)
    /// Mishkin & Matas (2016), "All you need is a good init" (layer-sequential unit variance):
    /// an orthogonal start, then, layer by layer from the input, the weights are divided by the
    /// standard deviation of the layer's pre-activation output `X W + b` on a data batch, until
    /// its variance is within `tolerance` of 1 or after `maxIterations` rescalings. Applied
    /// to every layer, the output layer included. Needs a calibration batch.
    case lsuv(tolerance: Float = 0.1, maxIterations: Int = 10)
    /// The hidden layers of a pre-trained stack (each RBM's weights, visible x hidden, and its
    /// hidden biases), unchanged, with a fresh output layer drawn from `outputLayer` (default
    /// `xavierUniform` with zero biases; Hinton & Salakhutdinov's released code uses
    /// `normal(0.1)` for this layer).
    case pretrained([DenseParameters], outputLayer: WeightInitializer = .xavierUniform)

    /// Whether this start is the pre-trained one (possibly still without layers).
    public var isPretrained: Bool {
        if case .pretrained = self { return true }
        return false
    }

    /// This start with the pre-trained `layers` filled in (other starts are returned unchanged).
    public func withPretrainedLayers(_ layers: [DenseParameters]) -> WeightInitializer {
        if case .pretrained(_, let outputLayer) = self { return .pretrained(layers, outputLayer: outputLayer) }
        return self
    }

    /// Draws the weights and biases of one (fanIn x fanOut) layer. `lsuv` draws its orthogonal
    /// start here (the rescaling needs the whole network and data, see `Network.init`);
    /// `pretrained` has no single-layer form and throws `missingPretrainedLayers`.
    public func makeLayer(fanIn: Int, fanOut: Int, generator: inout Xoshiro256StarStar) throws -> DenseParameters {
        precondition(fanIn > 0 && fanOut > 0, "makeLayer: sizes must be positive, got \(fanIn)x\(fanOut)")
        var layer = DenseParameters(fanIn: fanIn, fanOut: fanOut)
        let sumOfFans = Float(fanIn + fanOut), n = Float(fanIn)
        switch self {
        case .zeros: break
        case .constant(let c): layer.weight = Matrix(rows: fanIn, columns: fanOut, repeating: c)
        case .uniform(let a): generator.fillUniform(&layer.weight.elements, low: -a, high: a)
        case .normal(let sigma): generator.fillNormal(&layer.weight.elements, standardDeviation: sigma)
        case .xavierNormal:
            generator.fillNormal(&layer.weight.elements, standardDeviation: (2 / sumOfFans).squareRoot())
        case .xavierUniform:
            let limit = (6 / sumOfFans).squareRoot()
            generator.fillUniform(&layer.weight.elements, low: -limit, high: limit)
        case .lecture, .lecunNormal:
            generator.fillNormal(&layer.weight.elements, standardDeviation: (1 / n).squareRoot())
        case .heNormal: generator.fillNormal(&layer.weight.elements, standardDeviation: (2 / n).squareRoot())
        case .heUniform:
            let limit = (6 / n).squareRoot()
            generator.fillUniform(&layer.weight.elements, low: -limit, high: limit)
        case .orthogonal(let gain): layer.weight = try orthogonalMatrix(fanIn, fanOut, gain: gain, generator: &generator)
        case .lsuv: layer.weight = try orthogonalMatrix(fanIn, fanOut, gain: 1, generator: &generator)
        case .pretrained: throw FineTuningError.missingPretrainedLayers
        }
        return layer
    }
}

/// A (rows x columns) matrix with orthonormal columns (rows >= columns) or orthonormal rows
/// (rows < columns), times `gain`: the Q factor of a Gaussian matrix.
func orthogonalMatrix(_ rows: Int, _ columns: Int, gain: Float,
                      generator: inout Xoshiro256StarStar) throws -> Matrix {
    let tall = rows >= columns
    let gaussian = Matrix.normal(rows: max(rows, columns), columns: min(rows, columns), using: &generator)
    var q = try orthonormalColumns(of: gaussian)
    if !tall { q = q.transposed() }
    if gain != 1 { scale(&q.elements, by: gain) }
    return q
}

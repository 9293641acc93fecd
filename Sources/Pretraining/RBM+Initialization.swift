import Linalg

/// How the visible biases of a new RBM are set.
public enum VisibleBiasInitialization: String, Sendable, Codable, CaseIterable, Equatable {
    /// From the training data (Hinton's practical guide, section 8): Bernoulli visible units get
    /// b_i = log(p_i / (1 - p_i)) with p_i the mean of column i clipped to [1e-3, 1 - 1e-3];
    /// Gaussian visible units get b_i = the column mean (0 for standardised data).
    case fromData
    /// All zero (as in the Matlab code of Hinton & Salakhutdinov 2006).
    case zero
}

/// The starting point of an RBM's parameters.
///
/// The default follows Hinton's practical guide (2010): weights drawn from a plain (not
/// truncated) normal N(0, 0.01^2), hidden biases 0, visible biases log(p / (1 - p)) from the
/// training data. `.hintonSalakhutdinov2006` reproduces `rbm.m`: weights 0.1 * N(0, 1), all
/// biases 0.
public struct RBMInitialization: Sendable, Codable, Equatable {
    /// The standard deviation of the normal the weights are drawn from.
    public var weightStandardDeviation: Float
    /// The value every hidden bias starts at (the guide suggests about -4 to encourage sparsity).
    public var hiddenBias: Float
    /// How the visible biases start.
    public var visibleBias: VisibleBiasInitialization

    public init(weightStandardDeviation: Float = 0.01, hiddenBias: Float = 0,
                visibleBias: VisibleBiasInitialization = .fromData) {
        self.weightStandardDeviation = weightStandardDeviation
        self.hiddenBias = hiddenBias
        self.visibleBias = visibleBias
    }

    /// Hinton's practical guide: N(0, 0.01^2) weights, zero hidden biases, visible log-odds.
    public static let practicalGuide = RBMInitialization()
    /// The released code of Hinton & Salakhutdinov (2006), `rbm.m`: 0.1 * N(0, 1), biases 0.
    public static let hintonSalakhutdinov2006 = RBMInitialization(
        weightStandardDeviation: 0.1, hiddenBias: 0, visibleBias: .zero)
}

extension RBM {
    /// The bounds p is clipped to before taking log(p / (1 - p)) for a visible bias.
    public static let visibleProbabilityClip: Float = 1e-3

    /// A new RBM of `visibleCount` x `hiddenCount` units initialised by `initialization`.
    ///
    /// `data` (shape (n, visibleCount)) is read only when the visible biases start `.fromData`;
    /// without data they start at zero.
    public init(visibleCount: Int, hiddenCount: Int,
                visibleUnits: VisibleUnits = .bernoulli, hiddenUnits: HiddenUnits = .bernoulli,
                initialization: RBMInitialization = .practicalGuide, data: Matrix? = nil,
                generator: inout Xoshiro256StarStar) {
        precondition(visibleCount > 0 && hiddenCount > 0,
                     "RBM: needs at least one unit per layer, got \(visibleCount)x\(hiddenCount)")
        let weight = Matrix.normal(rows: visibleCount, columns: hiddenCount, mean: 0,
                                   standardDeviation: initialization.weightStandardDeviation,
                                   using: &generator)
        self.init(weight: weight,
                  visibleBias: [Float](repeating: 0, count: visibleCount),
                  hiddenBias: [Float](repeating: initialization.hiddenBias, count: hiddenCount),
                  visibleUnits: visibleUnits, hiddenUnits: hiddenUnits)
        if initialization.visibleBias == .fromData, let data {
            initializeVisibleBias(from: data)
        }
    }

    /// Sets the visible biases from the column means of `data` (shape (n, visibleCount)):
    /// log(p / (1 - p)) with p clipped to [1e-3, 1 - 1e-3] for Bernoulli units, the mean itself
    /// for Gaussian units.
    public mutating func initializeVisibleBias(from data: Matrix) {
        precondition(data.columns == visibleCount,
                     "initializeVisibleBias: data has \(data.columns) columns, RBM has \(visibleCount) visible units")
        let means = data.columnMeans()
        switch visibleUnits {
        case .bernoulli:
            let lo = RBM.visibleProbabilityClip, hi = 1 - RBM.visibleProbabilityClip
            visibleBias = means.map { m in
                let p = Double(min(max(m, lo), hi))
                return Float(Libm.log(p / (1 - p)))
            }
        case .gaussian:
            visibleBias = means
        }
    }
}

import Linalg

/// A restricted Boltzmann machine: one layer of visible units, one layer of hidden units, and
/// symmetric weights between them (Smolensky 1986; Hinton 2002).
///
/// The energy of a joint state, with samples as rows (`v` of shape (1, V), `h` of shape (1, H)):
/// - Bernoulli visible: E(v, h) = -v.b - h.c - v W h
/// - Gaussian visible (unit variance): E(v, h) = |v - b|^2 / 2 - h.c - v W h
///
/// The functions follow scikit-learn's `_rbm.py`: one job each (`hiddenProbabilities`,
/// `sampleHidden`, `visibleProbabilities`, `sampleVisible`, `gibbsStep`, `freeEnergy`).
public struct RBM: Sendable, Equatable {
    /// The weights, of shape (visibleCount, hiddenCount).
    public var weight: Matrix
    /// The visible biases b, of length visibleCount.
    public var visibleBias: [Float]
    /// The hidden biases c, of length hiddenCount.
    public var hiddenBias: [Float]
    /// The kind of the visible units.
    public var visibleUnits: VisibleUnits
    /// The kind of the hidden units.
    public var hiddenUnits: HiddenUnits

    /// The number of visible units V.
    public var visibleCount: Int { weight.rows }
    /// The number of hidden units H.
    public var hiddenCount: Int { weight.columns }

    /// An RBM with the given parameters. `weight` is (V, H); the bias lengths must match.
    public init(weight: Matrix, visibleBias: [Float], hiddenBias: [Float],
                visibleUnits: VisibleUnits = .bernoulli, hiddenUnits: HiddenUnits = .bernoulli) {
        precondition(visibleBias.count == weight.rows,
                     "RBM: \(visibleBias.count) visible biases for a \(weight.rows)x\(weight.columns) weight")
        precondition(hiddenBias.count == weight.columns,
                     "RBM: \(hiddenBias.count) hidden biases for a \(weight.rows)x\(weight.columns) weight")
        self.weight = weight
        self.visibleBias = visibleBias
        self.hiddenBias = hiddenBias
        self.visibleUnits = visibleUnits
        self.hiddenUnits = hiddenUnits
    }
}

extension RBM: CustomStringConvertible {
    /// e.g. `RBM(784 bernoulli -> 500 bernoulli)`.
    public var description: String {
        "RBM(\(visibleCount) \(visibleUnits.rawValue) -> \(hiddenCount) \(hiddenUnits.rawValue))"
    }
}

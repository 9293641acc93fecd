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
    /// The number K of label units: the last K visible units form one softmax (one-of-K) group
    /// beside the other visible units, as in the top RBM of Hinton, Osindero & Teh (2006);
    /// 0 for an RBM without labels. `visibleUnits` is the kind of the other visible units.
    public var labelCount: Int

    /// The number of visible units V.
    public var visibleCount: Int { weight.rows }
    /// The number of hidden units H.
    public var hiddenCount: Int { weight.columns }
    /// The number of visible units that are not labels (V - K).
    public var featureCount: Int { weight.rows - labelCount }

    /// An RBM with the given parameters. `weight` is (V, H); the bias lengths must match.
    public init(weight: Matrix, visibleBias: [Float], hiddenBias: [Float],
                visibleUnits: VisibleUnits = .bernoulli, hiddenUnits: HiddenUnits = .bernoulli, labelCount: Int = 0) {
        precondition(visibleBias.count == weight.rows,
                     "RBM: \(visibleBias.count) visible biases for a \(weight.rows)x\(weight.columns) weight")
        precondition(hiddenBias.count == weight.columns,
                     "RBM: \(hiddenBias.count) hidden biases for a \(weight.rows)x\(weight.columns) weight")
        precondition(labelCount >= 0 && labelCount < weight.rows,
                     "RBM: \(labelCount) label units for \(weight.rows) visible units")
        self.weight = weight
        self.labelCount = labelCount
        self.visibleBias = visibleBias
        self.hiddenBias = hiddenBias
        self.visibleUnits = visibleUnits
        self.hiddenUnits = hiddenUnits
    }
}

extension RBM {
    /// The RBM at inverse temperature `beta`: every weight and bias multiplied by `beta`, so
    /// that with Bernoulli units its distribution is p(v, h)^beta, normalised.
    public func scaled(by beta: Float) -> RBM {
        var copy = self
        copy.setScaled(self, by: beta)
        return copy
    }

    /// Makes this RBM `source.scaled(by: beta)` in place (the same shape): no allocation once
    /// its arrays are held by it alone, so a loop over temperatures reuses one copy.
    mutating func setScaled(_ source: RBM, by beta: Float) {
        precondition(source.weight.rows == weight.rows && source.weight.columns == weight.columns,
                     "RBM.setScaled: another shape")
        func scale(_ from: [Float], into to: inout [Float]) {
            to.withUnsafeMutableBufferPointer { out in for i in out.indices { out[i] = from[i] * beta } }
        }
        scale(source.weight.elements, into: &weight.elements)
        scale(source.visibleBias, into: &visibleBias)
        scale(source.hiddenBias, into: &hiddenBias)
    }
}

extension RBM: CustomStringConvertible {
    /// e.g. `RBM(784 bernoulli -> 500 bernoulli)`.
    public var description: String {
        "RBM(\(featureCount) \(visibleUnits.rawValue)\(labelCount > 0 ? " + \(labelCount) softmax" : "") -> \(hiddenCount) \(hiddenUnits.rawValue))"
    }
}

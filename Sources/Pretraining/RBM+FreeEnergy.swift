import Linalg

extension RBM {
    /// The free energy F(v) = -log sum_h exp(-E(v, h)) of each row of `v` (shape
    /// (n, visibleCount)), in double precision; p(v) = exp(-F(v)) / Z.
    ///
    /// With x = v W + c (computed by a Float gemm, accumulated in Double from there):
    /// - Bernoulli visible, Bernoulli hidden: F(v) = -v.b - sum_j softplus(x_j)
    /// - Gaussian visible (unit variance): the term -v.b becomes + |v - b|^2 / 2
    /// - label units (a softmax group, one-hot rows): -v.b over the group, as for Bernoulli units
    /// - rectified hidden: NReLU has no closed-form free energy. We use the free energy of the
    ///   model NReLU approximates (Nair & Hinton 2010): each hidden unit an infinite stack of
    ///   binary copies with biases x - 0.5, x - 1.5, ..., so softplus(x_j) becomes
    ///   sum_{i >= 1} softplus(x_j - i + 0.5), about x_j^2 / 2 for large x_j. Monitors built on
    ///   it (free-energy gap, pseudo-likelihood) are therefore approximate for rectified units.
    public func freeEnergy(_ v: Matrix) -> [Double] {
        precondition(v.columns == visibleCount,
                     "freeEnergy: v has \(v.columns) columns, RBM has \(visibleCount) visible units")
        let x = hiddenPreActivations(v)
        let visibleCount = self.visibleCount, hiddenCount = self.hiddenCount, features = featureCount
        var result = [Double](repeating: 0, count: v.rows)
        v.elements.withUnsafeBufferPointer { pv in
            x.elements.withUnsafeBufferPointer { px in
                visibleBias.withUnsafeBufferPointer { b in
                    for r in 0..<v.rows {
                        let row = pv.baseAddress! + r * visibleCount
                        var visibleTerm = 0.0
                        switch visibleUnits {
                        case .bernoulli:
                            for i in 0..<features { visibleTerm -= Double(row[i]) * Double(b[i]) }
                        case .gaussian:
                            for i in 0..<features {
                                let d = Double(row[i]) - Double(b[i])
                                visibleTerm += 0.5 * d * d
                            }
                        }
                        // Label units (one-hot rows): -v.b, as for Bernoulli units.
                        for i in features..<visibleCount { visibleTerm -= Double(row[i]) * Double(b[i]) }
                        let hx = px.baseAddress! + r * hiddenCount
                        var hiddenTerm = 0.0
                        switch hiddenUnits {
                        case .bernoulli: for j in 0..<hiddenCount { hiddenTerm += softplus(Double(hx[j])) }
                        case .rectified: for j in 0..<hiddenCount { hiddenTerm += steppedSoftplus(Double(hx[j])) }
                        }
                        result[r] = visibleTerm - hiddenTerm
                    }
                }
            }
        }
        return result
    }
}

/// sum_{i >= 1} softplus(x - i + 0.5): the log partition function of an infinite stack of
/// stepped sigmoid units with total input x (Nair & Hinton 2010). Exact to double precision:
/// with y_i = x - i + 0.5 and n the number of positive y_i, it equals
/// sum_{i<=n} y_i (= n x - n^2 / 2) + sum_{i<=n} softplus(-y_i) + sum_{i>n} softplus(y_i),
/// and both correction sums decay geometrically (60 terms each suffice).
func steppedSoftplus(_ x: Double) -> Double {
    guard x.isFinite else { return x > 0 ? .infinity : (x.isNaN ? .nan : 0) }
    let n = max(0, (x + 0.5).rounded(.up) - 1)
    let last = x + 0.5 - n  // y_n when n > 0 (in (0, 1]); y_{n+1} = last - 1 is <= 0
    var sum = n * x - n * n / 2
    let terms = 60
    if n > 0 {
        for k in 0..<min(terms, Int(min(n, Double(terms)))) { sum += softplus(-(last + Double(k))) }
    }
    for k in 1...terms { sum += softplus(last - Double(k)) }
    return sum
}

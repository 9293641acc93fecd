import Linalg

/// The offsets of a centered RBM (Montavon & Müller 2012; Melchior, Fischer & Wiskott 2016):
/// the energy E(v, h) = -(v - mu).b - (h - lambda).c - (v - mu)^T W (h - lambda), with mu the
/// visible offsets (the data mean) and lambda the hidden offsets (a moving average of the
/// hidden means of the data). The same distribution as the plain RBM with weights W, visible
/// biases b - W lambda and hidden biases c - W^T mu: training keeps the plain parameters (so
/// that every sampler, monitor and file reads them unchanged) and centers only the gradient.
///
/// The centered gradient (Melchior et al., Algorithm 1) in terms of the plain statistics
/// G = <v h^T>_data - <v h^T>_model, g_b = <v>_data - <v>_model, g_c = <h>_data - <h>_model:
///
///     grad W = <(v - mu)(h - lambda)^T>_data - <(v - mu)(h - lambda)^T>_model
///            = G - mu g_c^T - g_b lambda^T,
///
/// with lambda <- (1 - nu) lambda + nu <h>_data first. With momentum on the centered
/// parameters (dW, db, dc the centered updates), the plain parameters move by
/// W += dW, b += db - dW lambda, c += dc - dW^T mu (the offset change itself leaves the plain
/// parameters where they are: it only re-expresses the same distribution).
public struct CenteredRBM: Sendable, Equatable {
    /// The weights W (shared by the centered and the plain form).
    public var weight: Matrix
    /// The centered biases b and c.
    public var visibleBias: [Float], hiddenBias: [Float]
    /// The offsets mu (visible) and lambda (hidden).
    public var visibleOffset: [Float], hiddenOffset: [Float]

    /// The centered form of `rbm` with offsets `visibleOffset` and `hiddenOffset`:
    /// b = b' + W lambda, c = c' + W^T mu.
    public init(plain rbm: RBM, visibleOffset: [Float], hiddenOffset: [Float]) {
        precondition(visibleOffset.count == rbm.visibleCount && hiddenOffset.count == rbm.hiddenCount,
                     "CenteredRBM: offsets \(visibleOffset.count)/\(hiddenOffset.count) for \(rbm)")
        weight = rbm.weight
        self.visibleOffset = visibleOffset
        self.hiddenOffset = hiddenOffset
        visibleBias = (0..<rbm.visibleCount).map { i in
            var s = Double(rbm.visibleBias[i])
            for j in 0..<rbm.hiddenCount { s += Double(rbm.weight[i, j]) * Double(hiddenOffset[j]) }
            return Float(s)
        }
        hiddenBias = (0..<rbm.hiddenCount).map { j in
            var s = Double(rbm.hiddenBias[j])
            for i in 0..<rbm.visibleCount { s += Double(rbm.weight[i, j]) * Double(visibleOffset[i]) }
            return Float(s)
        }
    }

    /// The plain RBM with the same distribution: b' = b - W lambda, c' = c - W^T mu.
    public var plain: RBM {
        let nv = weight.rows, nh = weight.columns
        let b = (0..<nv).map { i in
            var s = Double(visibleBias[i])
            for j in 0..<nh { s -= Double(weight[i, j]) * Double(hiddenOffset[j]) }
            return Float(s)
        }
        let c = (0..<nh).map { j in
            var s = Double(hiddenBias[j])
            for i in 0..<nv { s -= Double(weight[i, j]) * Double(visibleOffset[i]) }
            return Float(s)
        }
        return RBM(weight: weight, visibleBias: b, hiddenBias: c)
    }
}

/// The training state of centering in the CD engine: the offsets and the moving-average rate.
final class CenteringState: @unchecked Sendable {
    // @unchecked Sendable: blocks write disjoint ranges (hidden offsets by hidden block).
    let visibleOffset: FloatBuffer   // (V): mu
    let hiddenOffset: FloatBuffer    // (H): lambda
    let rate: Float                  // nu

    init(visibleOffset: [Float], hiddenCount: Int, rate: Float) {
        self.visibleOffset = FloatBuffer(visibleOffset)
        hiddenOffset = FloatBuffer([Float](repeating: 0.5, count: hiddenCount))
        self.rate = rate
    }
}

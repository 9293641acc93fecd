import Linalg

// The phases of centering (see `CenteredRBM` for the algebra): between the statistics (and
// the all-reduce slot) and the update, the hidden offsets follow the data's hidden means and
// the weight gradient is centered; after the update, the plain biases take the offsets'
// share of the weight step. Each runs on a block's columns.
extension ContrastiveDivergence {
    /// lambda[hr] = (1 - nu) lambda[hr] + nu mean(h0[:, hr]); then
    /// G[:, hr] -= mu g_c[hr]^T + g_b lambda[hr]^T (g_b complete: the statistics phase is over).
    func centeredGradient(_ hr: Range<Int>) {
        guard let centering else { return }
        let nv = visibleCount, nh = hiddenCount, lo = hr.lowerBound, b = rows, nu = centering.rate
        let lambda = centering.hiddenOffset.pointer + lo, mu = centering.visibleOffset.pointer
        let h0 = hiddenStack.pointer + lo, gc = hiddenGradient.pointer + lo, gb = visibleGradient.pointer
        for j in 0..<hr.count {
            var mean: Float = 0
            for r in 0..<b { mean += h0[r * nh + j] }
            lambda[j] = (1 - nu) * lambda[j] + nu * mean / Float(b)
        }
        for i in 0..<nv {
            let row = weightGradient.pointer + i * nh + lo, m = mu[i], g = gb[i]
            for j in 0..<hr.count { row[j] -= m * gc[j] + g * lambda[j] }
        }
    }

    /// b[vr] -= dW[vr, :] lambda and c[hr] -= dW[:, hr]^T mu, dW the weight step just taken.
    func centeredBiases(_ hr: Range<Int>, _ vr: Range<Int>) {
        guard let centering else { return }
        let nh = hiddenCount, lambda = centering.hiddenOffset.pointer, mu = centering.visibleOffset.pointer
        let dW = weightVelocity.pointer
        for i in vr {
            var s: Float = 0
            for j in 0..<nh { s += dW[i * nh + j] * lambda[j] }
            visibleBias.pointer[i] -= s
        }
        let c = hiddenBias.pointer + hr.lowerBound
        for i in 0..<visibleCount {
            let row = dW + i * nh + hr.lowerBound, m = mu[i]
            for j in 0..<hr.count { c[j] -= row[j] * m }
        }
    }
}

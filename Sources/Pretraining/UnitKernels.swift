import Linalg

// Row kernels of the unit types, on raw row-major buffers. Each inner loop runs over one row's
// columns with no calls into libm, so LLVM vectorises it in release builds (SWIFT-NOTES.md);
// sampling is a separate loop because the generator is sequential. Bias add, nonlinearity and
// the statistics CD needs are fused into one pass per row.
//
// Candidate for Linalg: `fillBernoulli` (two draws per 64-bit word) and `fillNormal(pairs)`.

enum UnitKernels {
    // MARK: - Nonlinearities

    /// e^x: Linalg's `fastExp` (relative error below 2e-7, arguments clamped to [-87.3, 88.3],
    /// NaN stays NaN; vectorises in loops).
    @inline(__always)
    static func exp(_ x: Float) -> Float { fastExp(x) }

    /// The logistic function 1 / (1 + e^-x), vectorisable (see `exp`).
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + exp(-x)) }

    // MARK: - Sampling

    /// s[i] = 1 with probability p[i], else 0: a direct `u < p` compare, two 24-bit uniforms per
    /// 64-bit draw of xoshiro256** (all its output bits are of full quality).
    @inline(__always)
    static func fillBernoulli(_ p: UnsafePointer<Float>, into s: UnsafeMutablePointer<Float>, count: Int,
                              generator: inout Xoshiro256StarStar) {
        var i = 0
        while i + 1 < count {
            let r = generator.next()
            let u1 = Float(r >> 40) * 0x1p-24
            let u2 = Float((r >> 8) & 0xFF_FFFF) * 0x1p-24
            s[i] = u1 < p[i] ? 1 : 0
            s[i + 1] = u2 < p[i + 1] ? 1 : 0
            i += 2
        }
        if i < count { s[i] = generator.nextFloat() < p[i] ? 1 : 0 }
    }

    /// Writes `count` standard normal draws into `z` (Box-Muller, both values of each pair used).
    static func fillNormal(_ z: UnsafeMutablePointer<Float>, count: Int, generator: inout Xoshiro256StarStar) {
        var i = 0
        while i < count {
            let u1 = 1 - generator.nextDouble()  // (0, 1]
            let u2 = generator.nextDouble()
            let radius = (-2 * Libm.log(u1)).squareRoot()
            let angle = 2 * Double.pi * u2
            z[i] = Float(radius * Libm.cos(angle))
            if i + 1 < count { z[i + 1] = Float(radius * Libm.sin(angle)) }
            i += 2
        }
    }

    // MARK: - Hidden units
    //
    // The block kernels below work on `rows` rows of `columns` values that start `stride`
    // floats apart (a column block of a wider matrix when columns < stride). `bias`,
    // `statistic`, `squaredError` are offset by the caller to the block's first column.

    /// For each row: x = mean of the hidden unit given the pre-activation x + c
    /// (sigmoid for Bernoulli, max(0, .) for rectified).
    static func hiddenMeans(_ units: HiddenUnits, _ x: UnsafeMutablePointer<Float>, rows: Int,
                            bias c: UnsafePointer<Float>, columns: Int, stride: Int) {
        for r in 0..<rows {
            let row = x + r * stride
            switch units {
            case .bernoulli: for j in 0..<columns { row[j] = sigmoid(row[j] + c[j]) }
            case .rectified: for j in 0..<columns { let y = row[j] + c[j]; row[j] = y > 0 ? y : 0 }
            }
        }
    }

    /// For each row: x = mean (as `hiddenMeans`) and, when `sample` is given, a draw of the
    /// hidden state into it (same layout as x). Bernoulli: 1 with probability x. Rectified
    /// (NReLU): max(0, y + N(0, sigmoid(y))) with y the pre-activation. When `statistic` is
    /// given, `statistic[j] += sign * mean` is accumulated over the rows, and x holds
    /// `sign * mean` on return.
    static func hiddenMeansAndSamples(_ units: HiddenUnits, _ x: UnsafeMutablePointer<Float>, rows: Int,
                                      bias c: UnsafePointer<Float>, columns: Int, stride: Int,
                                      sample: UnsafeMutablePointer<Float>?,
                                      statistic: UnsafeMutablePointer<Float>?, sign: Float,
                                      generator: inout Xoshiro256StarStar) {
        for r in 0..<rows {
            let row = x + r * stride
            let out = sample.map { $0 + r * stride }
            switch units {
            case .bernoulli:
                for j in 0..<columns { row[j] = sigmoid(row[j] + c[j]) }
                if let out { fillBernoulli(row, into: out, count: columns, generator: &generator) }
            case .rectified:
                if let out {
                    fillNormal(out, count: columns, generator: &generator)
                    for j in 0..<columns {
                        let y = row[j] + c[j]
                        let noisy = y + sigmoid(y).squareRoot() * out[j]
                        out[j] = noisy > 0 ? noisy : 0
                        row[j] = y > 0 ? y : 0
                    }
                } else {
                    for j in 0..<columns { let y = row[j] + c[j]; row[j] = y > 0 ? y : 0 }
                }
            }
            if let statistic {
                for j in 0..<columns { statistic[j] += sign * row[j] }
                if sign != 1 { for j in 0..<columns { row[j] *= sign } }
            }
        }
    }

    // MARK: - Visible units

    /// For each row: x = mean of the visible unit given the pre-activation x + b
    /// (sigmoid for Bernoulli, the identity for Gaussian).
    static func visibleMeans(_ units: VisibleUnits, _ x: UnsafeMutablePointer<Float>, rows: Int,
                             bias b: UnsafePointer<Float>, columns: Int, stride: Int) {
        for r in 0..<rows {
            let row = x + r * stride
            switch units {
            case .bernoulli: for i in 0..<columns { row[i] = sigmoid(row[i] + b[i]) }
            case .gaussian: for i in 0..<columns { row[i] += b[i] }
            }
        }
    }

    /// `sample` = a draw of the visible units with the given means (same layout):
    /// Bernoulli, or mean + N(0, 1).
    static func sampleVisible(_ units: VisibleUnits, means: UnsafePointer<Float>, rows: Int, columns: Int,
                              stride: Int, into sample: UnsafeMutablePointer<Float>,
                              generator: inout Xoshiro256StarStar) {
        for r in 0..<rows {
            let p = means + r * stride, out = sample + r * stride
            switch units {
            case .bernoulli:
                fillBernoulli(p, into: out, count: columns, generator: &generator)
            case .gaussian:
                fillNormal(out, count: columns, generator: &generator)
                for i in 0..<columns { out[i] += p[i] }
            }
        }
    }

    /// The reconstruction pass of CD, one row at a time: x = mean of the visible units given
    /// the pre-activation x + b; when given, `statistic[i] += data[i] - x[i]` (the visible-bias
    /// gradient) and `squaredError[i] += (data[i] - x[i])^2` in double precision. `data` has
    /// the layout of x.
    static func reconstruction(_ units: VisibleUnits, _ x: UnsafeMutablePointer<Float>, rows: Int,
                               bias b: UnsafePointer<Float>, columns: Int, stride: Int,
                               data: UnsafePointer<Float>, statistic: UnsafeMutablePointer<Float>?,
                               squaredError: UnsafeMutablePointer<Double>?) {
        for r in 0..<rows {
            let row = x + r * stride
            let v0 = data + r * stride
            switch units {
            case .bernoulli: for i in 0..<columns { row[i] = sigmoid(row[i] + b[i]) }
            case .gaussian: for i in 0..<columns { row[i] += b[i] }
            }
            if let statistic {
                for i in 0..<columns { statistic[i] += v0[i] - row[i] }
            }
            if let squaredError {
                for i in 0..<columns {
                    let e = Double(v0[i]) - Double(row[i])
                    squaredError[i] += e * e
                }
            }
        }
    }

    /// statistic[i] += sign * sum over rows of x[r, i] (a column-block sum).
    static func accumulateColumns(_ x: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int,
                                  sign: Float, into statistic: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let row = x + r * stride
            for i in 0..<columns { statistic[i] += sign * row[i] }
        }
    }
}

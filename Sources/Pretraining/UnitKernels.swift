import Linalg

// Row kernels of the unit types, on raw row-major blocks: `rows` rows of `columns` values that
// start `stride` floats apart (a column block of a wider matrix when columns < stride), the
// block's first column being unit `first` (for the random streams, whose draws are keyed by
// row and unit, so a block draws the same numbers however the columns are split). `bias`,
// `statistic`, `squaredError` are offset by the caller to the block's first column. The
// nonlinearities are Linalg's SIMD8 forms.

enum UnitKernels {
    // MARK: - Hidden units

    /// x = the mean of the hidden units given the pre-activation x + c: sigmoid (Bernoulli) or
    /// max(0, .) (rectified). With a `sample` buffer (same layout) and a stream, also a draw of
    /// the states: Bernoulli with probability x, or NReLU max(0, y + N(0, sigmoid(y))) with y
    /// the pre-activation.
    static func hiddenMeans(_ units: HiddenUnits, _ x: UnsafeMutablePointer<Float>, rows: Int,
                            bias c: UnsafePointer<Float>, columns: Int, first: Int, stride: Int,
                            sample: UnsafeMutablePointer<Float>? = nil, stream: RandomStream? = nil) {
        let units_ = first..<(first + columns)
        switch units {
        case .bernoulli:
            addBiasMap(x, rows: rows, columns: columns, stride: stride, bias: c, vector: sigmoid8, scalar: sigmoid)
            guard let sample, let stream else { return }
            for r in 0..<rows {
                stream.sampleBernoulli(row: r, units: units_, probabilities: x + r * stride, into: sample + r * stride)
            }
        case .rectified:
            for r in 0..<rows {
                let row = x + r * stride
                if let sample, let stream {
                    let out = sample + r * stride
                    stream.fillNormal(row: r, units: units_, into: out)
                    for j in 0..<columns {
                        let y = row[j] + c[j]
                        let noisy = y + sigmoid(y).squareRoot() * out[j]
                        out[j] = noisy > 0 ? noisy : 0
                    }
                }
                for j in 0..<columns { let y = row[j] + c[j]; row[j] = y > 0 ? y : 0 }
            }
        }
    }

    // MARK: - Visible units

    /// x = the mean of the visible units given the pre-activation x + b (sigmoid for
    /// Bernoulli, the identity for Gaussian; the softmax over the last `labels` columns, which
    /// are one label group). With `data` (same layout), also adds the squared error
    /// (data - x)^2 of each column into `squaredError`, in double precision.
    static func visibleMeans(_ units: VisibleUnits, _ x: UnsafeMutablePointer<Float>, rows: Int,
                             bias b: UnsafePointer<Float>, columns: Int, stride: Int, labels: Int = 0,
                             data: UnsafePointer<Float>? = nil, squaredError: UnsafeMutablePointer<Double>? = nil) {
        let features = columns - labels
        switch units {
        case .bernoulli:
            addBiasMap(x, rows: rows, columns: features, stride: stride, bias: b, vector: sigmoid8, scalar: sigmoid)
        case .gaussian:
            addBiasMap(x, rows: rows, columns: features, stride: stride, bias: b, vector: { $0 }, scalar: { $0 })
        }
        if labels > 0 { softmaxMeans(x + features, rows: rows, bias: b + features, columns: labels, stride: stride) }
        guard let data, let squaredError else { return }
        for r in 0..<rows {
            let row = x + r * stride, v0 = data + r * stride
            for i in 0..<columns {
                let e = Double(v0[i]) - Double(row[i])
                squaredError[i] += e * e
            }
        }
    }

    /// x = softmax(x + b) over each row's `columns` values (one softmax group): exp(x_i + b_i -
    /// max) / sum, in double precision for the sum.
    static func softmaxMeans(_ x: UnsafeMutablePointer<Float>, rows: Int, bias b: UnsafePointer<Float>, columns: Int,
                             stride: Int) {
        for r in 0..<rows {
            let row = x + r * stride
            var top = -Float.infinity
            for i in 0..<columns { row[i] += b[i]; top = max(top, row[i]) }
            var sum = 0.0
            for i in 0..<columns { let e = Libm.exp(Double(row[i] - top)); row[i] = Float(e); sum += e }
            for i in 0..<columns { row[i] = Float(Double(row[i]) / sum) }
        }
    }

    /// `sample` = a draw of the visible units with the given means (same layout): Bernoulli,
    /// or mean + N(0, 1); the last `labels` columns are one softmax group, drawn as one
    /// multinomial (see `sampleSoftmax`).
    static func sampleVisible(_ units: VisibleUnits, means: UnsafePointer<Float>, rows: Int, columns: Int,
                              first: Int, stride: Int, labels: Int = 0, into sample: UnsafeMutablePointer<Float>,
                              stream: RandomStream) {
        let features = columns - labels, units_ = first..<(first + features)
        for r in 0..<rows {
            let p = means + r * stride, out = sample + r * stride
            switch units {
            case .bernoulli:
                stream.sampleBernoulli(row: r, units: units_, probabilities: p, into: out)
            case .gaussian:
                stream.fillNormal(row: r, units: units_, into: out)
                for i in 0..<features { out[i] += p[i] }
            }
        }
        if labels > 0 {
            sampleSoftmax(means: means + features, rows: rows, columns: labels, first: first + features, stride: stride,
                          into: sample + features, stream: stream)
        }
    }

    /// `sample` = one-of-K draws from the probabilities `means` of each row's `columns` values
    /// (a softmax group whose first unit is `first`): one uniform u, the draw of unit `first`
    /// of the row, picks the first i with p_0 + ... + p_i > u (the last unit if rounding leaves
    /// the sum below u).
    static func sampleSoftmax(means: UnsafePointer<Float>, rows: Int, columns: Int, first: Int, stride: Int,
                              into sample: UnsafeMutablePointer<Float>, stream: RandomStream) {
        for r in 0..<rows {
            let p = means + r * stride, out = sample + r * stride
            let u = stream.uniform(row: r, unit: first)
            var cumulative: Float = 0, chosen = columns - 1
            for i in 0..<columns {
                cumulative += p[i]
                if u < cumulative { chosen = i; break }
            }
            for i in 0..<columns { out[i] = i == chosen ? 1 : 0 }
        }
    }

    // MARK: - Statistics

    /// sums[j] = scale * (sum over the rows of x[r, j]), rows in order.
    static func columnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int, scale: Float,
                           into sums: UnsafeMutablePointer<Float>) {
        sums.update(repeating: 0, count: columns)
        for r in 0..<rows {
            let row = x + r * stride
            for j in 0..<columns { sums[j] += row[j] }
        }
        for j in 0..<columns { sums[j] *= scale }
    }

    /// x = -x on a block.
    static func negate(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int) {
        for r in 0..<rows {
            let row = x + r * stride
            for j in 0..<columns { row[j] = -row[j] }
        }
    }

    /// Copies a block of `rows` x `columns` between buffers of the same layout.
    static func copy(_ from: UnsafePointer<Float>, into to: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                     stride: Int) {
        for r in 0..<rows { (to + r * stride).update(from: from + r * stride, count: columns) }
    }
}

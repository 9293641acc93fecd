import Linalg

// The conditional distributions p(h | v) and p(v | h), their means and samples, and one Gibbs
// step. Samples are rows: `v` is (n, visibleCount), `h` is (n, hiddenCount).

extension RBM {
    /// The hidden pre-activations v W + c, of shape (n, hiddenCount).
    public func hiddenPreActivations(_ v: Matrix) -> Matrix {
        precondition(v.columns == visibleCount,
                     "hiddenPreActivations: v has \(v.columns) columns, RBM has \(visibleCount) visible units")
        var x = Matrix(rows: 0, columns: 0)
        // x = v W : (n, V) * (V, H) -> (n, H)
        gemmInRowChunks(v, weight, .none, into: &x)
        x.addRowVector(hiddenBias)
        return x
    }

    /// The up-pass: E[h | v], of shape (n, hiddenCount). Bernoulli hidden units:
    /// sigmoid(v W + c); rectified: max(0, v W + c). `v` is (n, visibleCount).
    public func hiddenProbabilities(_ v: Matrix) -> Matrix {
        var x = Matrix(rows: 0, columns: 0)
        hiddenProbabilities(v, into: &x)
        return x
    }

    /// `hiddenProbabilities(v)` written into `result` (no allocation when its size fits).
    public func hiddenProbabilities(_ v: Matrix, into result: inout Matrix) {
        precondition(v.columns == visibleCount,
                     "hiddenProbabilities: v has \(v.columns) columns, RBM has \(visibleCount) visible units")
        // result = v W : (n, V) * (V, H) -> (n, H); then bias and nonlinearity in one pass.
        gemmInRowChunks(v, weight, .none, into: &result)
        let rows = result.rows, columns = hiddenCount, units = hiddenUnits
        hiddenBias.withUnsafeBufferPointer { c in
            result.elements.withUnsafeMutableBufferPointer { x in
                UnitKernels.hiddenMeans(units, x.baseAddress!, rows: rows, bias: c.baseAddress!, columns: columns,
                                        first: 0, stride: columns)
            }
        }
    }

    /// The down-pass: E[v | h], of shape (n, visibleCount). Bernoulli visible units:
    /// sigmoid(h W^T + b); Gaussian: the mean h W^T + b; label units: the softmax of their
    /// group. `h` is (n, hiddenCount).
    public func visibleProbabilities(_ h: Matrix) -> Matrix {
        var x = Matrix(rows: 0, columns: 0)
        visibleProbabilities(h, into: &x)
        return x
    }

    /// `visibleProbabilities(h)` written into `result` (no allocation when its size fits).
    public func visibleProbabilities(_ h: Matrix, into x: inout Matrix) {
        precondition(h.columns == hiddenCount,
                     "visibleProbabilities: h has \(h.columns) columns, RBM has \(hiddenCount) hidden units")
        // x = h W^T : (n, H) * (H, V) -> (n, V)
        gemmInRowChunks(h, weight, .transposed, into: &x)
        let rows = x.rows, columns = visibleCount, units = visibleUnits, labels = labelCount
        visibleBias.withUnsafeBufferPointer { b in
            x.elements.withUnsafeMutableBufferPointer { p in
                UnitKernels.visibleMeans(units, p.baseAddress!, rows: rows, bias: b.baseAddress!, columns: columns,
                                         stride: columns, labels: labels)
            }
        }
    }

    /// A draw of h ~ p(h | v), of shape (n, hiddenCount): binary states for Bernoulli units,
    /// max(0, x + N(0, sigmoid(x))) for rectified units (x the pre-activation). The draws are
    /// keyed by one draw of `generator`, row and unit.
    public func sampleHidden(given v: Matrix, using generator: inout Xoshiro256StarStar) -> Matrix {
        precondition(v.columns == visibleCount,
                     "sampleHidden: v has \(v.columns) columns, RBM has \(visibleCount) visible units")
        var x = Matrix(rows: 0, columns: 0)
        // x = v W : (n, V) * (V, H) -> (n, H)
        gemmInRowChunks(v, weight, .none, into: &x)
        var sample = Matrix(rows: x.rows, columns: x.columns)
        let rows = x.rows, columns = hiddenCount, units = hiddenUnits
        let stream = RandomStream(seed: generator.next(), purpose: .hiddenSample(layer: 0, step: 0))
        hiddenBias.withUnsafeBufferPointer { c in
            x.elements.withUnsafeMutableBufferPointer { p in
                sample.elements.withUnsafeMutableBufferPointer { s in
                    UnitKernels.hiddenMeans(units, p.baseAddress!, rows: rows, bias: c.baseAddress!, columns: columns,
                                            first: 0, stride: columns, sample: s.baseAddress!, stream: stream)
                }
            }
        }
        return sample
    }

    /// A draw of v ~ p(v | h), of shape (n, visibleCount): binary states for Bernoulli units,
    /// mean + N(0, 1) for Gaussian units, one of the label units (a multinomial draw).
    public func sampleVisible(given h: Matrix, using generator: inout Xoshiro256StarStar) -> Matrix {
        let means = visibleProbabilities(h)
        var sample = Matrix(rows: means.rows, columns: means.columns)
        let units = visibleUnits, rows = means.rows, columns = means.columns, labels = labelCount
        let stream = RandomStream(seed: generator.next(), purpose: .visibleSample(layer: 0, step: 0))
        means.elements.withUnsafeBufferPointer { p in
            sample.elements.withUnsafeMutableBufferPointer { s in
                UnitKernels.sampleVisible(units, means: p.baseAddress!, rows: rows, columns: columns, first: 0,
                                          stride: columns, labels: labels, into: s.baseAddress!, stream: stream)
            }
        }
        return sample
    }

    /// One step of block Gibbs sampling: h ~ p(h | v), then v' ~ p(v | h). Returns v', of the
    /// shape of `v`.
    public func gibbsStep(_ v: Matrix, using generator: inout Xoshiro256StarStar) -> Matrix {
        let h = sampleHidden(given: v, using: &generator)
        return sampleVisible(given: h, using: &generator)
    }
}

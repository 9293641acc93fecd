import Linalg

// The elementwise kernels of the backprop step that belong to its layers: bias add fused with
// each activation, inverted dropout drawn from a `RandomStream`, the backward step through
// dropout and the activation in one pass, and column sums. They build on Linalg's one kernel
// set (`addBiasMap`, `sigmoid8`/`sigmoid`, `tanh8`/`fastTanh`, `elu8`/`fastELU`, `load8`/`store8`)
// and are plain loops over pointers otherwise, which LLVM vectorises in release builds.
// Matrices are row-major with rows `stride` floats apart, so that a block of columns of a
// wider matrix can be passed.
enum FusedKernels {
    /// For a (rows x columns) block whose rows start `stride` floats apart (default: columns):
    /// `y[r, c] = f(y[r, c] + bias[c])`.
    static func addBiasActivate(_ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int? = nil,
                                bias: UnsafePointer<Float>, activation: Activation) {
        let stride = stride ?? columns
        switch activation {
        case .sigmoid:
            addBiasMap(y, rows: rows, columns: columns, stride: stride, bias: bias, vector: sigmoid8, scalar: sigmoid)
        case .tanh:
            addBiasMap(y, rows: rows, columns: columns, stride: stride, bias: bias, vector: tanh8, scalar: fastTanh)
        case .elu:
            let alpha = Activation.eluAlpha
            addBiasMap(y, rows: rows, columns: columns, stride: stride, bias: bias, vector: { elu8($0, alpha: alpha) },
                       scalar: { fastELU($0, alpha: alpha) })
        case .relu:
            for r in 0..<rows {
                let row = y + r * stride
                for c in 0..<columns { let v = row[c] + bias[c]; row[c] = v > 0 ? v : 0 }
            }
        case .leakyReLU:
            let slope = Activation.leakySlope
            for r in 0..<rows {
                let row = y + r * stride
                for c in 0..<columns { let v = row[c] + bias[c]; row[c] = v > 0 ? v : slope * v }
            }
        case .identity, .maxout:
            for r in 0..<rows {
                let row = y + r * stride
                for c in 0..<columns { row[c] += bias[c] }
            }
        }
    }

    /// Inverted dropout of the units `units` (columns) of `rows` rows whose rows start `stride`
    /// floats apart (the pointers address column 0): unit u of row r is kept when
    /// `stream.uniform(row: r, unit: u) < 1 - rate` and then scaled by `1 / (1 - rate)`, so
    /// expectations match evaluation (where nothing is dropped). Writes the factor (0 or the
    /// scale) into `mask` and `output = input * mask`; `output` may equal `input`. The draws are
    /// keyed by (row, unit), so any split of the units gives the same masks.
    static func dropout(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        mask: UnsafeMutablePointer<Float>?, rows: Int, units: Range<Int>, stride: Int,
                        rate: Float, stream: RandomStream) {
        let keep = 1 - rate, scale = 1 / keep
        let lo = units.lowerBound, hi = units.upperBound
        for r in 0..<rows {
            let x = input + r * stride, y = output + r * stride, m = mask.map { $0 + r * stride }
            stream.forEachChunk(row: r, units: units) { first, u in
                let factor = SIMD8<Float>.zero.replacing(with: scale, where: u .< keep)
                if first >= lo && first + 8 <= hi {
                    store8(load8(x + first) * factor, y + first)
                    if let m { store8(factor, m + first) }
                } else {
                    for j in 0..<8 where first + j >= lo && first + j < hi {
                        y[first + j] = x[first + j] * factor[j]
                        m?[first + j] = factor[j]
                    }
                }
            }
        }
    }

    /// `g *= mask * f'(y)` (or `g *= f'(y)` without a mask), with `f'` written in terms of the
    /// activation's output `y`: the delta of a hidden layer from the gradient of its output.
    static func backpropActivation(_ g: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>,
                                   mask: UnsafePointer<Float>?, count: Int, activation: Activation) {
        if let mask {
            switch activation {
            case .sigmoid: for i in 0..<count { g[i] *= mask[i] * y[i] * (1 - y[i]) }
            case .tanh: for i in 0..<count { g[i] *= mask[i] * (1 - y[i] * y[i]) }
            case .relu: for i in 0..<count { g[i] = y[i] > 0 ? g[i] * mask[i] : 0 }
            case .leakyReLU:
                let slope = Activation.leakySlope
                for i in 0..<count { g[i] *= mask[i] * (y[i] > 0 ? 1 : slope) }
            case .elu:
                let alpha = Activation.eluAlpha
                for i in 0..<count { g[i] *= mask[i] * (y[i] > 0 ? 1 : y[i] + alpha) }
            case .identity, .maxout: for i in 0..<count { g[i] *= mask[i] }
            }
        } else {
            activation.multiplyByDerivative(output: UnsafeBufferPointer(start: y, count: count),
                                            gradient: UnsafeMutableBufferPointer(start: g, count: count))
        }
    }

    /// `backpropActivation` on a (rows x columns) block of matrices whose rows start `stride`
    /// floats apart (g, y and mask share the layout).
    static func backpropActivation(_ g: UnsafeMutablePointer<Float>, output y: UnsafePointer<Float>,
                                   mask: UnsafePointer<Float>?, rows: Int, columns: Int, stride: Int,
                                   activation: Activation) {
        if columns == stride {
            backpropActivation(g, output: y, mask: mask, count: rows * columns, activation: activation)
            return
        }
        for r in 0..<rows {
            backpropActivation(g + r * stride, output: y + r * stride, mask: mask.map { $0 + r * stride },
                               count: columns, activation: activation)
        }
    }

    /// `sums[c] = scale * (sum over rows of x[r, c])` for a (rows x columns) block whose rows
    /// start `stride` floats apart (default: columns), summed row by row in order: a bias
    /// gradient.
    static func columnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int? = nil,
                           into sums: UnsafeMutablePointer<Float>, scale: Float) {
        let stride = stride ?? columns
        sums.update(repeating: 0, count: columns)
        for r in 0..<rows {
            let row = x + r * stride
            for c in 0..<columns { sums[c] += scale * row[c] }
        }
    }
}

// MARK: - Batch normalisation and maxout

extension FusedKernels {
    /// Batch normalisation in training mode of a (rows x columns) block whose rows start
    /// `stride` floats apart: per column the minibatch mean and (biased) variance, summed row
    /// by row in order, into `mean` and `inverseDeviation = 1 / sqrt(var + eps)`;
    /// `normalized = (z - mean) inverseDeviation`; `z = f(gamma normalized + shift)`. With
    /// `running`, also `running = momentum running + (1 - momentum) batch` (the unbiased
    /// variance, rows / (rows - 1) times the biased one, as PyTorch).
    static func batchNormalize(_ z: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int,
                               gamma: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                               normalized: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               inverseDeviation: UnsafeMutablePointer<Float>,
                               runningMean: UnsafeMutablePointer<Float>?, runningVariance: UnsafeMutablePointer<Float>?,
                               activation: Activation) {
        columnSums(z, rows: rows, columns: columns, stride: stride, into: mean, scale: 1 / Float(rows))
        inverseDeviation.update(repeating: 0, count: columns)
        for r in 0..<rows {
            let row = z + r * stride
            for c in 0..<columns { let d = row[c] - mean[c]; inverseDeviation[c] += d * d }
        }
        let momentum = BatchNormalization.momentum, unbiased = rows > 1 ? Float(rows) / Float(rows - 1) : 1
        for c in 0..<columns {
            let variance = inverseDeviation[c] / Float(rows)
            if let runningMean, let runningVariance {
                runningMean[c] = momentum * runningMean[c] + (1 - momentum) * mean[c]
                runningVariance[c] = momentum * runningVariance[c] + (1 - momentum) * variance * unbiased
            }
            inverseDeviation[c] = 1 / (variance + BatchNormalization.epsilon).squareRoot()
        }
        for r in 0..<rows {
            let row = z + r * stride, x = normalized + r * stride
            for c in 0..<columns {
                let v = (row[c] - mean[c]) * inverseDeviation[c]
                x[c] = v
                row[c] = gamma[c] * v
            }
        }
        addBiasActivate(z, rows: rows, columns: columns, stride: stride, bias: shift, activation: activation)
    }

    /// Batch normalisation in evaluation mode with the running statistics:
    /// `z = f(gamma (z - runningMean) / sqrt(runningVariance + eps) + shift)`.
    static func batchNormalizeWithRunningStatistics(_ z: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int,
                                                    gamma: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                                                    runningMean: UnsafePointer<Float>, runningVariance: UnsafePointer<Float>,
                                                    activation: Activation) {
        for r in 0..<rows {
            let row = z + r * stride
            for c in 0..<columns {
                let v = (row[c] - runningMean[c]) * (1 / (runningVariance[c] + BatchNormalization.epsilon).squareRoot())
                row[c] = gamma[c] * v
            }
        }
        addBiasActivate(z, rows: rows, columns: columns, stride: stride, bias: shift, activation: activation)
    }

    /// The backward step through training-mode batch normalisation of a (rows x columns)
    /// block: from `delta` = dL/d(gamma x + shift) (of the summed loss) the shift's and
    /// gamma's gradients, `scale` times the column sums of delta and of delta x, and delta
    /// overwritten with dL/dz = gamma / sigma (delta - mean(delta) - x mean(delta x)).
    static func batchNormalizeBackward(_ delta: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int,
                                       normalized: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                                       inverseDeviation: UnsafePointer<Float>, shiftGradient: UnsafeMutablePointer<Float>,
                                       gammaGradient: UnsafeMutablePointer<Float>, scale: Float) {
        shiftGradient.update(repeating: 0, count: columns)
        gammaGradient.update(repeating: 0, count: columns)
        for r in 0..<rows {
            let d = delta + r * stride, x = normalized + r * stride
            for c in 0..<columns {
                shiftGradient[c] += d[c]
                gammaGradient[c] += d[c] * x[c]
            }
        }
        let inverseRows = 1 / Float(rows)
        for r in 0..<rows {
            let d = delta + r * stride, x = normalized + r * stride
            for c in 0..<columns {
                d[c] = gamma[c] * inverseDeviation[c]
                    * (d[c] - shiftGradient[c] * inverseRows - x[c] * (gammaGradient[c] * inverseRows))
            }
        }
        for c in 0..<columns {
            shiftGradient[c] *= scale
            gammaGradient[c] *= scale
        }
    }

    /// Maxout's pooling of the units `units`: `y[r, u] = max over p < pieces of z[r, u pieces + p]`
    /// (the first maximum), z's rows `inputStride` floats apart, y's `outputStride` (both
    /// pointers address column 0).
    static func maxoutPool(_ z: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, rows: Int, units: Range<Int>,
                           pieces: Int, inputStride: Int, outputStride: Int) {
        for r in 0..<rows {
            let zr = z + r * inputStride, yr = y + r * outputStride
            for u in units {
                var best = zr[u * pieces]
                for p in 1..<max(pieces, 1) where zr[u * pieces + p] > best { best = zr[u * pieces + p] }
                yr[u] = best
            }
        }
    }

    /// Maxout's backward step for the units `units`: the gradient `g[r, u]` of each unit's
    /// output goes to its winning piece (the first p with `z[r, u pieces + p] == y[r, u]`, the
    /// one `maxoutPool` chose), the other pieces' deltas are 0.
    static func maxoutRoute(_ g: UnsafePointer<Float>, pieces z: UnsafePointer<Float>, pooled y: UnsafePointer<Float>,
                            into delta: UnsafeMutablePointer<Float>, rows: Int, units: Range<Int>, pieces: Int,
                            unitStride: Int, pieceStride: Int) {
        for r in 0..<rows {
            let gr = g + r * unitStride, yr = y + r * unitStride
            let zr = z + r * pieceStride, dr = delta + r * pieceStride
            for u in units {
                var routed = false
                for p in 0..<pieces {
                    let winner = !routed && zr[u * pieces + p] == yr[u]
                    dr[u * pieces + p] = winner ? gr[u] : 0
                    routed = routed || winner
                }
            }
        }
    }
}

import Linalg

// Elementwise kernels of the training loop that Linalg does not have: bias add fused with each
// activation, inverted dropout, and the backward step through dropout and the activation in
// one pass. Written as plain loops over pointers so that LLVM vectorises them in release
// builds. (Candidates to move into Linalg's `Kernels`.)
enum FusedKernels {
    /// For a (rows x columns) block whose rows start `stride` floats apart (default: columns):
    /// `y[r, c] = f(y[r, c] + bias[c])`.
    static func addBiasActivate(_ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int? = nil,
                                bias: UnsafePointer<Float>, activation: Activation) {
        let stride = stride ?? columns
        switch activation {
        case .sigmoid:
            addBiasMap(y, rows: rows, columns: columns, stride: stride, bias: bias, vector: sigmoid8, scalar: { 1 / (1 + fastExp(-$0)) })
        case .tanh:
            addBiasMap(y, rows: rows, columns: columns, stride: stride, bias: bias, vector: tanh8, scalar: { 2 / (1 + fastExp(-2 * $0)) - 1 })
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
        case .elu:
            let alpha = Activation.eluAlpha
            addBiasMap(y, rows: rows, columns: columns, stride: stride, bias: bias, vector: { elu8($0, alpha: alpha) },
                       scalar: { $0 > 0 ? $0 : alpha * (fastExp($0) - 1) })
        case .identity:
            for r in 0..<rows {
                let row = y + r * stride
                for c in 0..<columns { row[c] += bias[c] }
            }
        }
    }

    /// Inverted dropout: each unit is kept with probability `1 - rate` and then scaled by
    /// `1 / (1 - rate)`, so expectations match evaluation (where nothing is dropped).
    /// Writes the mask (0 or the scale) and `output = input * mask`; `output` may equal `input`.
    static func dropout(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                        mask: UnsafeMutablePointer<Float>?, count: Int, rate: Float,
                        generator: inout Xoshiro256StarStar) {
        let scale = 1 / (1 - rate)
        // Keep a unit when a 24-bit uniform u satisfies u / 2^24 < 1 - rate; two draws per word.
        let threshold = (1 - rate) * 16_777_216
        @inline(__always) func factor(_ bits: UInt64) -> Float { Float(bits & 0xFF_FFFF) < threshold ? scale : 0 }
        var i = 0
        while i + 1 < count {
            let word = generator.next()
            let a = factor(word >> 40), b = factor(word >> 8)
            mask?[i] = a
            mask?[i + 1] = b
            output[i] = input[i] * a
            output[i + 1] = input[i + 1] * b
            i += 2
        }
        if i < count {
            let a = factor(generator.next() >> 40)
            mask?[i] = a
            output[i] = input[i] * a
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
            case .identity: for i in 0..<count { g[i] *= mask[i] }
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

    /// `sums[c] = beta * sums[c] + scale * (sum over rows of x[r, c])` for a (rows x columns)
    /// block whose rows start `stride` floats apart (default: columns): a bias gradient folded
    /// into a running update.
    static func accumulateColumnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int? = nil,
                                     into sums: UnsafeMutablePointer<Float>, scale: Float, beta: Float) {
        let stride = stride ?? columns
        if beta == 0 {
            sums.update(repeating: 0, count: columns)
        } else if beta != 1 {
            for c in 0..<columns { sums[c] *= beta }
        }
        for r in 0..<rows {
            let row = x + r * stride
            for c in 0..<columns { sums[c] += scale * row[c] }
        }
    }
}

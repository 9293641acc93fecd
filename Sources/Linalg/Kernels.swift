// Elementwise kernels. Each loop is written so that LLVM vectorises it in release builds
// (no libm calls in the hot loops: `fastExp` is a polynomial).
//
// Finite inputs always give finite outputs: arguments of `exp` are clamped to [-87.3, 88.3].
// Infinite inputs give the limit (sigmoid(+inf) = 1, sigmoid(-inf) = 0, tanh(+-inf) = +-1,
// relu(+inf) = +inf); NaN propagates as NaN.

/// e^x for Float with relative error below 2e-7 over the clamped range [-87.3, 88.3]:
/// arguments beyond it are clamped (so exp never overflows to infinity), NaN stays NaN.
/// Lane 0 of `exp8` (Cephes' `expf` polynomial), so that loops that use `exp8` on whole
/// vectors and this on their tails give the same bits either way.
@inlinable @inline(__always)
public func fastExp(_ x: Float) -> Float { exp8(SIMD8(repeating: x))[0] }

/// The logistic function 1 / (1 + e^-x), in (0, 1] for finite x.
@inlinable @inline(__always)
public func sigmoid(_ x: Float) -> Float { 1 / (1 + fastExp(-x)) }

/// tanh(x) = 2 sigmoid(2x) - 1, the scalar form of `tanh8` (absolute error below 1e-7).
@inlinable @inline(__always)
public func fastTanh(_ x: Float) -> Float { 2 / (1 + fastExp(-2 * x)) - 1 }

/// x > 0 ? x : alpha (e^x - 1), the scalar form of `elu8`.
@inlinable @inline(__always)
public func fastELU(_ x: Float, alpha: Float) -> Float { x > 0 ? x : alpha * (fastExp(x > 0 ? 0 : x) - 1) }

/// log(1 + e^x), computed stably: max(x, 0) + log1p(e^-|x|). Uses libm (not for hot loops).
@inlinable
public func softplus(_ x: Float) -> Float {
    let a = Double(x)
    return Float(max(a, 0) + Libm.log1p(Libm.exp(-abs(a))))
}

/// log(1 + e^x) in double precision, for monitors and likelihoods.
@inlinable
public func softplus(_ x: Double) -> Double { max(x, 0) + Libm.log1p(Libm.exp(-abs(x))) }

/// log(sum(e^values)) computed stably in double precision; -inf for an empty input.
public func logSumExp(_ values: some Sequence<Double>) -> Double {
    let array = Array(values)
    guard let m = array.max(), m.isFinite else { return array.max() ?? -.infinity }
    var sum = 0.0
    for v in array { sum += Libm.exp(v - m) }
    return m + Libm.log(sum)
}

// MARK: - Buffer kernels

/// Elementwise kernels over raw buffers (in place unless stated), on the SIMD8 forms of
/// Vector.swift with the scalar polynomial on the tails (the same bits either way).
public enum Kernels {
    /// x = f(x), f given lane-wise (`vector`) and for the tail (`scalar`).
    @inlinable @inline(__always)
    public static func map(_ x: UnsafeMutableBufferPointer<Float>, vector: (SIMD8<Float>) -> SIMD8<Float>,
                           scalar: (Float) -> Float) {
        guard let base = x.baseAddress else { return }
        let whole = x.count & ~7
        var i = 0
        while i < whole { store8(vector(load8(base + i)), base + i); i += 8 }
        while i < x.count { base[i] = scalar(base[i]); i += 1 }
    }

    /// x = sigmoid(x).
    @inlinable
    public static func sigmoid(_ x: UnsafeMutableBufferPointer<Float>) {
        map(x, vector: sigmoid8, scalar: Linalg.sigmoid)
    }

    /// For each row r: x[r, c] = sigmoid(x[r, c] + bias[c]) (bias add fused with the logistic).
    @inlinable
    public static func addBiasSigmoid(_ x: UnsafeMutableBufferPointer<Float>, bias: UnsafeBufferPointer<Float>) {
        let columns = bias.count
        guard columns > 0, let base = x.baseAddress else { return }
        addBiasMap(base, rows: x.count / columns, columns: columns, stride: columns, bias: bias.baseAddress!,
                   vector: sigmoid8, scalar: Linalg.sigmoid)
    }

    /// For each row r: x[r, c] += bias[c].
    @inlinable
    public static func addBias(_ x: UnsafeMutableBufferPointer<Float>, bias: UnsafeBufferPointer<Float>) {
        let columns = bias.count
        guard columns > 0 else { return }
        let rows = x.count / columns
        for r in 0..<rows {
            let row = x.baseAddress! + r * columns
            for c in 0..<columns { row[c] += bias[c] }
        }
    }

    /// x = tanh(x), as 2 sigmoid(2x) - 1 (absolute error below 1e-7).
    @inlinable
    public static func tanh(_ x: UnsafeMutableBufferPointer<Float>) {
        map(x, vector: tanh8, scalar: fastTanh)
    }

    /// The momentum update of a block of parameters from the gradient of the objective to
    /// ascend, `g` (the CD statistics): `d = momentum d + rate g - decay w; w += d` (decay =
    /// rate x weight cost, 0 for biases), in SIMD8 with the same formula on the tail. With
    /// `clearGradient`, g is set to 0 as it is read (so that the next statistics product can
    /// accumulate into it with beta = 1, which spares OpenBLAS its pass that scales C by beta).
    @inlinable
    public static func momentumAscent(_ w: UnsafeMutablePointer<Float>, velocity d: UnsafeMutablePointer<Float>,
                                      gradient g: UnsafeMutablePointer<Float>, count: Int, rate: Float,
                                      momentum: Float, decay: Float, clearGradient: Bool) {
        let whole = count & ~7
        var i = 0
        while i < whole {
            let wi = load8(w + i)
            let di = momentum * load8(d + i) + rate * load8(g + i) - decay * wi
            store8(di, d + i)
            store8(wi + di, w + i)
            if clearGradient { store8(.zero, g + i) }
            i += 8
        }
        while i < count {
            let di = momentum * d[i] + rate * g[i] - decay * w[i]
            d[i] = di
            w[i] += di
            if clearGradient { g[i] = 0 }
            i += 1
        }
    }

    /// x = max(x, 0).
    @inlinable
    public static func relu(_ x: UnsafeMutableBufferPointer<Float>) {
        for i in 0..<x.count { x[i] = x[i] > 0 ? x[i] : 0 }
    }

    /// x = x > 0 ? x : slope * x.
    @inlinable
    public static func leakyReLU(_ x: UnsafeMutableBufferPointer<Float>, slope: Float) {
        for i in 0..<x.count { x[i] = x[i] > 0 ? x[i] : slope * x[i] }
    }

    /// x = x > 0 ? x : alpha (e^x - 1)  (Clevert et al. 2016).
    @inlinable
    public static func elu(_ x: UnsafeMutableBufferPointer<Float>, alpha: Float) {
        map(x, vector: { elu8($0, alpha: alpha) }, scalar: { fastELU($0, alpha: alpha) })
    }

    /// Row-wise softmax of a rows x columns buffer: each row minus its maximum, exponentiated
    /// and normalised. Rows of finite values give finite probabilities summing to 1.
    @inlinable
    public static func softmaxRows(_ x: UnsafeMutableBufferPointer<Float>, columns: Int) {
        guard columns > 0 else { return }
        for r in 0..<(x.count / columns) {
            let row = x.baseAddress! + r * columns
            var m = -Float.infinity
            for c in 0..<columns where row[c] > m { m = row[c] }
            if !m.isFinite { m = m.isNaN ? 0 : (m > 0 ? Float.greatestFiniteMagnitude : 0) }
            var sum: Float = 0
            for c in 0..<columns { let e = fastExp(row[c] - m); row[c] = e; sum += e }
            let inv = 1 / sum
            for c in 0..<columns { row[c] *= inv }
        }
    }
}

// MARK: - Activations

/// A hidden-unit nonlinearity, with its derivative written in terms of its output.
public enum Activation: Sendable, Equatable, Hashable, CaseIterable {
    /// 1 / (1 + e^-x); derivative y (1 - y).
    case sigmoid
    /// tanh(x); derivative 1 - y^2.
    case tanh
    /// max(x, 0) (Nair & Hinton 2010); derivative 1 for y > 0, else 0.
    case relu
    /// x > 0 ? x : 0.01 x (Maas et al. 2013); derivative 1 or 0.01.
    case leakyReLU
    /// x > 0 ? x : e^x - 1 (Clevert et al. 2016); derivative 1 or y + 1.
    case elu
    /// x (no nonlinearity); derivative 1.
    case identity
    /// Maxout (Goodfellow et al. 2013): each unit is the maximum of `k` linear pieces. The
    /// pooling over the pieces belongs to the network's layer (`Network.maxoutPieces`); what
    /// follows it elementwise is the identity, which is what `apply` and the derivative do.
    case maxout

    /// The negative slope of leaky ReLU.
    public static let leakySlope: Float = 0.01
    /// The alpha of ELU.
    public static let eluAlpha: Float = 1

    /// The name used on the command line and in files.
    public var name: String {
        switch self {
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .relu: "relu"
        case .leakyReLU: "leaky-relu"
        case .elu: "elu"
        case .identity: "identity"
        case .maxout: "maxout"
        }
    }

    /// The activation with this `name`, if any.
    public init?(name: String) {
        guard let a = Activation.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
        self = a
    }

    /// Applies the activation in place.
    public func apply(_ x: inout Matrix) {
        x.elements.withUnsafeMutableBufferPointer { apply($0) }
    }

    /// Applies the activation in place on a raw buffer.
    @inlinable
    public func apply(_ x: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .sigmoid: Kernels.sigmoid(x)
        case .tanh: Kernels.tanh(x)
        case .relu: Kernels.relu(x)
        case .leakyReLU: Kernels.leakyReLU(x, slope: Activation.leakySlope)
        case .elu: Kernels.elu(x, alpha: Activation.eluAlpha)
        case .identity, .maxout: break
        }
    }

    /// gradient *= f'(x), with f'(x) written in terms of the output y = f(x).
    public func multiplyByDerivative(output y: Matrix, gradient: inout Matrix) {
        precondition(y.count == gradient.count, "multiplyByDerivative: shape mismatch")
        y.elements.withUnsafeBufferPointer { yb in
            gradient.elements.withUnsafeMutableBufferPointer { g in
                multiplyByDerivative(output: yb, gradient: g)
            }
        }
    }

    /// gradient *= f'(x) on raw buffers.
    @inlinable
    public func multiplyByDerivative(output y: UnsafeBufferPointer<Float>, gradient g: UnsafeMutableBufferPointer<Float>) {
        switch self {
        case .sigmoid: for i in 0..<g.count { g[i] *= y[i] * (1 - y[i]) }
        case .tanh: for i in 0..<g.count { g[i] *= 1 - y[i] * y[i] }
        case .relu: for i in 0..<g.count { g[i] = y[i] > 0 ? g[i] : 0 }
        case .leakyReLU: for i in 0..<g.count { g[i] = y[i] > 0 ? g[i] : Activation.leakySlope * g[i] }
        case .elu: for i in 0..<g.count { g[i] = y[i] > 0 ? g[i] : g[i] * (y[i] + Activation.eluAlpha) }
        case .identity, .maxout: break
        }
    }

    /// The value of the activation at one point (a scalar reference for tests).
    public func value(_ x: Float) -> Float {
        var v = [x]
        v.withUnsafeMutableBufferPointer { apply($0) }
        return v[0]
    }
}

extension Matrix {
    /// Row-wise softmax in place.
    public mutating func softmaxRows() {
        let columns = self.columns
        elements.withUnsafeMutableBufferPointer { Kernels.softmaxRows($0, columns: columns) }
    }

    /// self[r, c] = sigmoid(self[r, c] + bias[c]).
    public mutating func addBiasSigmoid(_ bias: [Float]) {
        precondition(bias.count == columns, "addBiasSigmoid: \(bias.count) biases for \(columns) columns")
        bias.withUnsafeBufferPointer { b in
            elements.withUnsafeMutableBufferPointer { Kernels.addBiasSigmoid($0, bias: b) }
        }
    }
}

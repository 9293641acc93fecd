// The SIMD8 forms of the elementwise functions, used by every hot loop of the package. The
// scalar `fastExp` (Kernels.swift) is the same polynomial lane by lane: loops use these on
// whole vectors and `fastExp` on their tails, with the same bits either way. The scalar
// references in the tests are libm's. Nothing here traps: 2^n is built with integer bit
// operations from the rounding trick (a Float -> Int conversion would trap on NaN and keep
// LLVM from vectorising), and `sqrt8` avoids `sqrtf`'s errno handling, which does not
// vectorise. Measured (SWIFT-NOTES, generic x86-64 build): about 1 ns per value for
// `sigmoid8`, against about 7 ns for the scalar polynomial in a loop that did not vectorise.

/// e^x lane-wise, arguments clamped to [-87.3, 88.3] (NaN stays NaN); relative error < 2e-7.
@inlinable @inline(__always)
public func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    var x = x.replacing(with: -87.3, where: x .< -87.3)
    x = x.replacing(with: 88.3, where: x .> 88.3)
    // t = x / ln 2 + 1.5 * 2^23: its low mantissa bits hold n = round(x / ln 2).
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let t = x * 1.442_695_04 + magic
    let n = t - magic
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * r * r + r + 1
    // 2^n from the exponent bits: (n + 127) << 23, with n = bits(t) - bits(magic).
    let bits = unsafeBitCast(t, to: SIMD8<UInt32>.self)
    let exponent = (bits &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(exponent, to: SIMD8<Float>.self)
}

/// 1 / (1 + e^-x) lane-wise.
@inlinable @inline(__always)
public func sigmoid8(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 / (1 + exp8(-x)) }

/// tanh(x) = 2 sigmoid(2x) - 1 lane-wise.
@inlinable @inline(__always)
public func tanh8(_ x: SIMD8<Float>) -> SIMD8<Float> { 2 / (1 + exp8(-2 * x)) - 1 }

/// x > 0 ? x : alpha (e^x - 1) lane-wise.
@inlinable @inline(__always)
public func elu8(_ x: SIMD8<Float>, alpha: Float) -> SIMD8<Float> {
    let negative = alpha * (exp8(x.replacing(with: 0, where: x .> 0)) - 1)
    return x.replacing(with: negative, where: x .<= 0)
}

/// sqrt(x) lane-wise for x >= 0: 1/sqrt(x) from the exponent-halving bit trick (Lomont's
/// constant, relative error < 3.5%), three Newton steps (error < 1e-7 before rounding), times
/// x. Exact for 0; for subnormal x (< 1.2e-38) only roughly right (the result is below 1.1e-19).
@inlinable @inline(__always)
public func sqrt8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
    var y = unsafeBitCast(0x5F37_5A86 &- (bits &>> 1), to: SIMD8<Float>.self)
    let half = 0.5 * x
    y = y * (1.5 - half * y * y)
    y = y * (1.5 - half * y * y)
    y = y * (1.5 - half * y * y)
    return x * y
}

/// Eight floats from `p` (no alignment needed).
@inlinable @inline(__always)
public func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Stores eight floats at `p` (no alignment needed).
@inlinable @inline(__always)
public func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// For each of `rows` rows of `columns` values starting `stride` floats apart:
/// `y = f(y + bias)`, with f given lane-wise (`vector`) and for the tail (`scalar`), which must
/// agree bit for bit (the same formula).
@inlinable @inline(__always)
public func addBiasMap(_ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int,
                       bias: UnsafePointer<Float>,
                       vector: (SIMD8<Float>) -> SIMD8<Float>, scalar: (Float) -> Float) {
    let whole = columns & ~7
    for r in 0..<rows {
        let row = y + r * stride
        var c = 0
        while c < whole {
            store8(vector(load8(row + c) + load8(bias + c)), row + c)
            c += 8
        }
        while c < columns {
            row[c] = scalar(row[c] + bias[c])
            c += 1
        }
    }
}

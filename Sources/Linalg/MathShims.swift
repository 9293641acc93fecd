#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libm in double precision, for every module (so that no other file imports Glibc): monitors,
/// likelihoods, Box-Muller and schedules. Not for hot loops (see `Vector` and `Kernels`).
public enum Libm {
    @inlinable @inline(__always) public static func log(_ x: Double) -> Double { Glibc.log(x) }
    @inlinable @inline(__always) public static func exp(_ x: Double) -> Double { Glibc.exp(x) }
    @inlinable @inline(__always) public static func log1p(_ x: Double) -> Double { Glibc.log1p(x) }
    @inlinable @inline(__always) public static func expm1(_ x: Double) -> Double { Glibc.expm1(x) }
    @inlinable @inline(__always) public static func cos(_ x: Double) -> Double { Glibc.cos(x) }
    @inlinable @inline(__always) public static func sin(_ x: Double) -> Double { Glibc.sin(x) }
    @inlinable @inline(__always) public static func pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
    @inlinable @inline(__always) public static func tanh(_ x: Double) -> Double { Glibc.tanh(x) }
    /// log |Gamma(x)| (statistics: binomial and t distributions).
    @inlinable @inline(__always) public static func logGamma(_ x: Double) -> Double { Glibc.lgamma(x) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Double-precision libm wrappers for the monitors (Linalg keeps its own internal), so that the
// other files of the module need not import Glibc. Not for hot loops.
@inline(__always) func _logDouble(_ x: Double) -> Double { log(x) }
@inline(__always) func _expDouble(_ x: Double) -> Double { exp(x) }
@inline(__always) func _log1pDouble(_ x: Double) -> Double { log1p(x) }
@inline(__always) func _expm1Double(_ x: Double) -> Double { expm1(x) }
@inline(__always) func _sqrtFloat(_ x: Float) -> Float { x.squareRoot() }
@inline(__always) func _cosDouble(_ x: Double) -> Double { cos(x) }
@inline(__always) func _sinDouble(_ x: Double) -> Double { sin(x) }

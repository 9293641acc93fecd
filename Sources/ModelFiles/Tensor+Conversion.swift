import Linalg

/// Why a tensor could not be read as the values asked for. `SafeTensors.requireMatrix` and
/// friends wrap these with the file and tensor name.
public enum TensorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The element type has no `Float` reading (`C64`).
    case notConvertibleToFloat(DType)
    /// `values(as:)` asked for another element type than the stored one.
    case typeMismatch(stored: DType, requested: DType)
    /// The tensor has a rank the accessor does not take.
    case rankMismatch(shape: [Int], expected: String)

    public var description: String {
        switch self {
        case .notConvertibleToFloat(let dtype):
            "dtype \(dtype.rawValue) cannot be read as Float"
        case .typeMismatch(let stored, let requested):
            "dtype is \(stored.rawValue), expected \(requested.rawValue)"
        case .rankMismatch(let shape, let expected):
            "shape \(shape) has rank \(shape.count), expected \(expected)"
        }
    }
}

extension Tensor {
    /// All elements converted to `Float`, in row-major order.
    ///
    /// F32 is copied; F16, BF16, F8_E5M2, F8_E4M3 and F8_E8M0 widen exactly; F64 and the
    /// 32/64-bit integers round to the nearest `Float`; BOOL gives 0 or 1. Throws
    /// `TensorError.notConvertibleToFloat` for C64.
    public func floats() throws(TensorError) -> [Float] {
        if dtype == .c64 { throw .notConvertibleToFloat(dtype) }
        let n = elementCount
        return bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> [Float] in
            func map(_ element: (Int) -> Float) -> [Float] {
                [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
                    for i in 0..<n { buffer[i] = element(i) }
                    initialized = n
                }
            }
            switch dtype {
            case .f32:
                #if _endian(little)
                return [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
                    initialized = n
                }
                #else
                return map { Float.loadLittleEndian(from: raw, at: $0 * 4) }
                #endif
            case .f64: return map { Float(Double.loadLittleEndian(from: raw, at: $0 * 8)) }
            case .f16: return map { HalfPrecision.float(fromHalf: UInt16.loadLittleEndian(from: raw, at: $0 * 2)) }
            case .bf16: return map { HalfPrecision.float(fromBFloat16: UInt16.loadLittleEndian(from: raw, at: $0 * 2)) }
            case .f8e5m2: return map { HalfPrecision.float(fromF8E5M2: raw[$0]) }
            case .f8e4m3: return map { HalfPrecision.float(fromF8E4M3: raw[$0]) }
            case .f8e8m0: return map { HalfPrecision.float(fromF8E8M0: raw[$0]) }
            case .i64: return map { Float(Int64.loadLittleEndian(from: raw, at: $0 * 8)) }
            case .i32: return map { Float(Int32.loadLittleEndian(from: raw, at: $0 * 4)) }
            case .i16: return map { Float(Int16.loadLittleEndian(from: raw, at: $0 * 2)) }
            case .i8: return map { Float(Int8(bitPattern: raw[$0])) }
            case .u64: return map { Float(UInt64.loadLittleEndian(from: raw, at: $0 * 8)) }
            case .u32: return map { Float(UInt32.loadLittleEndian(from: raw, at: $0 * 4)) }
            case .u16: return map { Float(UInt16.loadLittleEndian(from: raw, at: $0 * 2)) }
            case .u8: return map { Float(raw[$0]) }
            case .bool: return map { raw[$0] != 0 ? 1 : 0 }
            case .c64: return []  // rejected above
            }
        }
    }

    /// The elements as `T`, which must be the stored type exactly (no conversion).
    public func values<T: TensorElement>(as type: T.Type) throws(TensorError) -> [T] {
        guard dtype == T.tensorDType else { throw .typeMismatch(stored: dtype, requested: T.tensorDType) }
        let n = elementCount
        let width = dtype.byteWidth
        return bytes.withUnsafeBytes { raw in
            // A raw copy when the memory form is the file form; not for Bool, whose memory
            // form allows only 0 and 1 while a file may hold any byte.
            if T.self != Bool.self && Tensor.hasFileLayout(T.self) {
                return [T](unsafeUninitializedCapacity: n) { buffer, initialized in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
                    initialized = n
                }
            }
            return (0..<n).map { T.loadLittleEndian(from: raw, at: $0 * width) }
        }
    }

    /// The tensor as a `Matrix`: rank 2 gives shape [rows, columns]; rank 1 of length n gives
    /// a 1 x n matrix (a single row, as samples are rows). Elements convert as in `floats()`.
    public func matrix() throws(TensorError) -> Matrix {
        switch shape.count {
        case 2: return Matrix(rows: shape[0], columns: shape[1], elements: try floats())
        case 1: return Matrix(rows: 1, columns: shape[0], elements: try floats())
        default: throw .rankMismatch(shape: shape, expected: "1 or 2")
        }
    }

    /// The elements of a rank-1 tensor as `Float` (e.g. a bias vector).
    public func vector() throws(TensorError) -> [Float] {
        guard shape.count == 1 else { throw .rankMismatch(shape: shape, expected: "1") }
        return try floats()
    }
}

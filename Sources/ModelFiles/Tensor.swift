import Linalg

/// A named-tensor payload as safetensors stores it: an element type, a shape and the raw
/// little-endian bytes in C (row-major) order.
///
/// `bytes.count == dtype.byteWidth * shape.product` always holds. A shape of `[]` is a
/// scalar (one element); a shape with a zero dimension holds no bytes.
public struct Tensor: Sendable, Equatable {
    /// The element type.
    public let dtype: DType
    /// The dimensions, outermost first (a Matrix of 784 rows and 500 columns is [784, 500]).
    public let shape: [Int]
    /// The raw elements, little-endian, row-major.
    public let bytes: [UInt8]

    /// A tensor over raw little-endian `bytes`.
    ///
    /// Precondition (programmer error): no negative dimension, and
    /// `bytes.count == dtype.byteWidth * product(shape)` without overflow.
    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        guard let count = Tensor.elementCount(of: shape),
              case let (size, overflow) = count.multipliedReportingOverflow(by: dtype.byteWidth), !overflow
        else { preconditionFailure("Tensor: invalid shape \(shape)") }
        precondition(bytes.count == size,
                     "Tensor: \(bytes.count) bytes for \(dtype.rawValue) of shape \(shape) (needs \(size))")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// For the decoder, which has checked the sizes already.
    init(validated dtype: DType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// A tensor of `values` with the element type of `T` (e.g. `[Int64]` gives `I64`).
    /// Spell the element type for literals (`[Float](...)` or `[1, 2] as [Float]`): a bare
    /// integer literal array has no natural `TensorElement` type.
    ///
    /// Precondition: `values.count == product(shape)`.
    public init<T: TensorElement>(_ values: [T], shape: [Int]) {
        precondition(Tensor.elementCount(of: shape) == values.count,
                     "Tensor: \(values.count) values for shape \(shape)")
        let width = T.tensorDType.byteWidth
        let bytes: [UInt8]
        if Tensor.hasFileLayout(T.self) {
            bytes = values.withUnsafeBytes { Array($0) }  // memory form == file form
        } else {
            bytes = [UInt8](unsafeUninitializedCapacity: values.count * width) { buffer, initialized in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                for (i, value) in values.enumerated() {
                    value.storeLittleEndian(to: raw, at: i * width)
                }
                initialized = values.count * width
            }
        }
        self.init(validated: T.tensorDType, shape: shape, bytes: bytes)
    }

    /// An `F32` tensor of shape [n] holding `values`.
    public init(_ values: [Float]) {
        self.init(values, shape: [values.count])
    }

    /// An `F32` tensor of shape [rows, columns] holding `matrix` in row-major order.
    public init(_ matrix: Matrix) {
        self.init(matrix.elements, shape: [matrix.rows, matrix.columns])
    }

    /// An `F16` tensor of `values` rounded to half precision (round to nearest even;
    /// values beyond 65504 become infinities).
    public init(float16 values: [Float], shape: [Int]) {
        precondition(Tensor.elementCount(of: shape) == values.count,
                     "Tensor: \(values.count) values for shape \(shape)")
        self.init(values.map { HalfPrecision.halfBits(from: $0) }, shape: shape, dtype: .f16)
    }

    /// A `BF16` tensor of `values` rounded to bfloat16 (round to nearest even).
    public init(bfloat16 values: [Float], shape: [Int]) {
        precondition(Tensor.elementCount(of: shape) == values.count,
                     "Tensor: \(values.count) values for shape \(shape)")
        self.init(values.map { HalfPrecision.bfloat16Bits(from: $0) }, shape: shape, dtype: .bf16)
    }

    private init(_ bits: [UInt16], shape: [Int], dtype: DType) {
        var bytes = [UInt8]()
        bytes.reserveCapacity(bits.count * 2)
        for b in bits {
            bytes.append(UInt8(truncatingIfNeeded: b))
            bytes.append(UInt8(truncatingIfNeeded: b >> 8))
        }
        self.init(validated: dtype, shape: shape, bytes: bytes)
    }

    /// Whether `T`'s in-memory form is exactly its form in a file (a built-in number type or
    /// Bool, of the dtype's width, on a little-endian machine), so arrays copy as raw bytes.
    static func hasFileLayout<T: TensorElement>(_ type: T.Type) -> Bool {
        #if _endian(little)
        let builtIn = T.self is any FixedWidthInteger.Type || T.self == Float.self || T.self == Double.self || T.self == Bool.self
        return builtIn && MemoryLayout<T>.size == T.tensorDType.byteWidth && MemoryLayout<T>.stride == MemoryLayout<T>.size
        #else
        return false
        #endif
    }

    /// The number of elements (the product of the shape; 1 for a scalar).
    public var elementCount: Int { bytes.count / dtype.byteWidth }

    /// The product of `shape`, or nil if a dimension is negative or the product overflows.
    static func elementCount(of shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = next
        }
        return product
    }
}

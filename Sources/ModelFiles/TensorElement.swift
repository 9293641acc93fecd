/// A Swift scalar type that maps one-to-one onto a safetensors element type.
///
/// Conforming: `Float` (F32), `Double` (F64), `Int64`, `Int32`, `Int16`, `Int8`, `UInt64`,
/// `UInt32`, `UInt16`, `UInt8` and `Bool` (BOOL, one byte 0 or 1).
public protocol TensorElement: Sendable {
    /// The safetensors type this Swift type is stored as.
    static var tensorDType: DType { get }
    /// Writes the value little-endian at byte `offset` of `buffer`.
    func storeLittleEndian(to buffer: UnsafeMutableRawBufferPointer, at offset: Int)
    /// Reads a value stored little-endian at byte `offset` of `buffer`.
    static func loadLittleEndian(from buffer: UnsafeRawBufferPointer, at offset: Int) -> Self
}

extension TensorElement where Self: FixedWidthInteger {
    public func storeLittleEndian(to buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        buffer.storeBytes(of: littleEndian, toByteOffset: offset, as: Self.self)
    }
    public static func loadLittleEndian(from buffer: UnsafeRawBufferPointer, at offset: Int) -> Self {
        Self(littleEndian: buffer.loadUnaligned(fromByteOffset: offset, as: Self.self))
    }
}

extension Int64: TensorElement { public static var tensorDType: DType { .i64 } }
extension Int32: TensorElement { public static var tensorDType: DType { .i32 } }
extension Int16: TensorElement { public static var tensorDType: DType { .i16 } }
extension Int8: TensorElement { public static var tensorDType: DType { .i8 } }
extension UInt64: TensorElement { public static var tensorDType: DType { .u64 } }
extension UInt32: TensorElement { public static var tensorDType: DType { .u32 } }
extension UInt16: TensorElement { public static var tensorDType: DType { .u16 } }
extension UInt8: TensorElement { public static var tensorDType: DType { .u8 } }

extension Float: TensorElement {
    public static var tensorDType: DType { .f32 }
    public func storeLittleEndian(to buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        bitPattern.storeLittleEndian(to: buffer, at: offset)
    }
    public static func loadLittleEndian(from buffer: UnsafeRawBufferPointer, at offset: Int) -> Float {
        Float(bitPattern: UInt32.loadLittleEndian(from: buffer, at: offset))
    }
}

extension Double: TensorElement {
    public static var tensorDType: DType { .f64 }
    public func storeLittleEndian(to buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        bitPattern.storeLittleEndian(to: buffer, at: offset)
    }
    public static func loadLittleEndian(from buffer: UnsafeRawBufferPointer, at offset: Int) -> Double {
        Double(bitPattern: UInt64.loadLittleEndian(from: buffer, at: offset))
    }
}

extension Bool: TensorElement {
    public static var tensorDType: DType { .bool }
    public func storeLittleEndian(to buffer: UnsafeMutableRawBufferPointer, at offset: Int) {
        buffer[offset] = self ? 1 : 0
    }
    /// Any non-zero byte reads as `true`.
    public static func loadLittleEndian(from buffer: UnsafeRawBufferPointer, at offset: Int) -> Bool {
        buffer[offset] != 0
    }
}

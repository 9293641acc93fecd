/// The element type of an IDX file: the third byte of its magic number.
///
/// Multi-byte values are stored big-endian in the file.
public enum IDXDataType: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    /// Unsigned byte (MNIST images and labels).
    case uint8 = 0x08
    /// Signed byte.
    case int8 = 0x09
    /// Signed 16-bit integer.
    case int16 = 0x0B
    /// Signed 32-bit integer.
    case int32 = 0x0C
    /// 32-bit IEEE float.
    case float32 = 0x0D
    /// 64-bit IEEE float.
    case float64 = 0x0E

    /// The type code stored in the file's magic number.
    @inlinable public var code: UInt8 { rawValue }

    /// Bytes per value.
    public var byteWidth: Int {
        switch self {
        case .uint8, .int8: 1
        case .int16: 2
        case .int32, .float32: 4
        case .float64: 8
        }
    }

    /// Whether the values are integers (every type but `float32` and `float64`).
    public var isInteger: Bool { self != .float32 && self != .float64 }

    /// A short name: `u8`, `i8`, `i16`, `i32`, `f32`, `f64`.
    public var name: String {
        switch self {
        case .uint8: "u8"
        case .int8: "i8"
        case .int16: "i16"
        case .int32: "i32"
        case .float32: "f32"
        case .float64: "f64"
        }
    }

    public var description: String { name }

    /// The type for a code read from a file, or nil when the code is not one of the six.
    public init?(code: UInt8) { self.init(rawValue: code) }
}

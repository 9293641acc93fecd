/// The element type of a tensor, spelled as in a safetensors header (`"F32"`, `"BF16"`, ...).
///
/// Every type here takes a whole number of bytes per element, stored little-endian. The
/// sub-byte types of newer safetensors versions (`F4`, `F6_E2M3`, `F6_E3M2`) are recognised
/// by the reader only to name them in a clear error (see `DType.unsupportedNames`).
public enum DType: String, Sendable, CaseIterable, Hashable {
    /// One byte per element, 0 or 1 (NumPy `bool`, PyTorch `torch.bool`).
    case bool = "BOOL"
    /// Unsigned 8-bit integer.
    case u8 = "U8"
    /// Signed 8-bit integer.
    case i8 = "I8"
    /// 8-bit float, 5 exponent and 2 mantissa bits (the top byte of an IEEE half).
    case f8e5m2 = "F8_E5M2"
    /// 8-bit float, 4 exponent and 3 mantissa bits, no infinities ("fn" variant, as PyTorch's
    /// `float8_e4m3fn`): bias 7, largest finite 448, NaN is S.1111.111.
    case f8e4m3 = "F8_E4M3"
    /// 8-bit exponent-only scale (OCP MX): 2^(e - 127), 0xFF is NaN.
    case f8e8m0 = "F8_E8M0"
    /// Signed 16-bit integer.
    case i16 = "I16"
    /// Unsigned 16-bit integer.
    case u16 = "U16"
    /// IEEE 754 half precision.
    case f16 = "F16"
    /// bfloat16: the top 16 bits of an IEEE single.
    case bf16 = "BF16"
    /// Signed 32-bit integer.
    case i32 = "I32"
    /// Unsigned 32-bit integer.
    case u32 = "U32"
    /// IEEE 754 single precision.
    case f32 = "F32"
    /// Complex number of two `F32` (real, imaginary).
    case c64 = "C64"
    /// IEEE 754 double precision.
    case f64 = "F64"
    /// Signed 64-bit integer.
    case i64 = "I64"
    /// Unsigned 64-bit integer.
    case u64 = "U64"

    /// Bytes per element.
    public var byteWidth: Int {
        switch self {
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0: 1
        case .i16, .u16, .f16, .bf16: 2
        case .i32, .u32, .f32: 4
        case .c64, .f64, .i64, .u64: 8
        }
    }

    /// The position of this type in the reference implementation's `Dtype` enum, which is
    /// ordered by increasing alignment. The reference writer lays tensors out by descending
    /// rank, then by name, so that every tensor starts at a multiple of its element width.
    var writerRank: Int {
        switch self {
        case .bool: 0
        case .u8: 4
        case .i8: 5
        case .f8e5m2: 6
        case .f8e4m3: 7
        case .f8e8m0: 8
        case .i16: 9
        case .u16: 10
        case .f16: 11
        case .bf16: 12
        case .i32: 13
        case .u32: 14
        case .f32: 15
        case .c64: 16
        case .f64: 17
        case .i64: 18
        case .u64: 19
        }
    }

    /// Valid safetensors type names that this reader does not handle (sub-byte widths).
    public static let unsupportedNames: Set<String> = ["F4", "F6_E2M3", "F6_E3M2"]
}

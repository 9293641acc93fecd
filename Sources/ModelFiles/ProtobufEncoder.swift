/// Just enough of the protocol buffer wire format to write TensorBoard's `Event` and `Summary`
/// messages by hand: varints (wire type 0), 64-bit (1), length-delimited (2) and 32-bit (5)
/// fields. Fields are appended in the order written; proto3 readers accept any order.
struct ProtobufEncoder {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    private mutating func littleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A `double` field.
    mutating func double(_ field: Int, _ value: Double) {
        key(field, 1)
        littleEndian(value.bitPattern)
    }

    /// A `float` field.
    mutating func float(_ field: Int, _ value: Float) {
        key(field, 5)
        littleEndian(value.bitPattern)
    }

    /// An `int64` or `int32` field (negative values take ten bytes, as protobuf specifies).
    mutating func int(_ field: Int, _ value: Int64) {
        key(field, 0)
        varint(UInt64(bitPattern: value))
    }

    /// A `bytes` field, or an embedded message's encoding.
    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        key(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A `string` field (UTF-8).
    mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    /// A packed `repeated double` field.
    mutating func packedDoubles(_ field: Int, _ values: [Double]) {
        var packed = ProtobufEncoder()
        for v in values { packed.littleEndian(v.bitPattern) }
        bytes(field, packed.bytes)
    }
}

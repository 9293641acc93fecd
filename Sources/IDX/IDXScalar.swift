/// A Swift type that one IDX data type stores: reads and writes big-endian values at an index.
///
/// Internal: the public API uses one initializer per type (`IDXArray(shape:uint8:)` ...).
protocol IDXScalar: Sendable {
    /// The IDX type that stores this Swift type.
    static var idxType: IDXDataType { get }
    /// The value at element `index` of big-endian data.
    static func load(_ raw: UnsafeRawBufferPointer, _ index: Int) -> Self
    /// Stores `self` big-endian at element `index`.
    func store(_ raw: UnsafeMutableRawBufferPointer, _ index: Int)
}

extension UInt8: IDXScalar {
    static var idxType: IDXDataType { .uint8 }
    @inline(__always) static func load(_ raw: UnsafeRawBufferPointer, _ index: Int) -> UInt8 { raw[index] }
    @inline(__always) func store(_ raw: UnsafeMutableRawBufferPointer, _ index: Int) { raw[index] = self }
}

extension Int8: IDXScalar {
    static var idxType: IDXDataType { .int8 }
    @inline(__always) static func load(_ raw: UnsafeRawBufferPointer, _ index: Int) -> Int8 {
        Int8(bitPattern: raw[index])
    }
    @inline(__always) func store(_ raw: UnsafeMutableRawBufferPointer, _ index: Int) {
        raw[index] = UInt8(bitPattern: self)
    }
}

extension Int16: IDXScalar {
    static var idxType: IDXDataType { .int16 }
    @inline(__always) static func load(_ raw: UnsafeRawBufferPointer, _ index: Int) -> Int16 {
        Int16(bitPattern: UInt16(bigEndian: raw.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
    }
    @inline(__always) func store(_ raw: UnsafeMutableRawBufferPointer, _ index: Int) {
        raw.storeBytes(of: UInt16(bitPattern: self).bigEndian, toByteOffset: 2 * index, as: UInt16.self)
    }
}

extension Int32: IDXScalar {
    static var idxType: IDXDataType { .int32 }
    @inline(__always) static func load(_ raw: UnsafeRawBufferPointer, _ index: Int) -> Int32 {
        Int32(bitPattern: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
    }
    @inline(__always) func store(_ raw: UnsafeMutableRawBufferPointer, _ index: Int) {
        raw.storeBytes(of: UInt32(bitPattern: self).bigEndian, toByteOffset: 4 * index, as: UInt32.self)
    }
}

extension Float: IDXScalar {
    static var idxType: IDXDataType { .float32 }
    @inline(__always) static func load(_ raw: UnsafeRawBufferPointer, _ index: Int) -> Float {
        Float(bitPattern: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self)))
    }
    @inline(__always) func store(_ raw: UnsafeMutableRawBufferPointer, _ index: Int) {
        raw.storeBytes(of: bitPattern.bigEndian, toByteOffset: 4 * index, as: UInt32.self)
    }
}

extension Double: IDXScalar {
    static var idxType: IDXDataType { .float64 }
    @inline(__always) static func load(_ raw: UnsafeRawBufferPointer, _ index: Int) -> Double {
        Double(bitPattern: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self)))
    }
    @inline(__always) func store(_ raw: UnsafeMutableRawBufferPointer, _ index: Int) {
        raw.storeBytes(of: bitPattern.bigEndian, toByteOffset: 8 * index, as: UInt64.self)
    }
}

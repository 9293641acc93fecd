/// An n-dimensional array read from or written to an IDX file.
///
/// The values are kept compactly as the file stores them: big-endian bytes of `dataType`, in
/// C order (the last index varies fastest). An MNIST image file is an `IDXArray` of type `.uint8`
/// and shape [60000, 28, 28]; its label file one of shape [60000].
public struct IDXArray: Sendable, Equatable {
    /// The element type.
    public let dataType: IDXDataType
    /// The size of each dimension, outermost first (1 to 255 dimensions, each 0...UInt32.max).
    public let shape: [Int]
    /// Holds the data at `dataOffset...` (for a decoded file, the whole file content, header
    /// included, so that decoding copies nothing).
    let storage: [UInt8]
    let dataOffset: Int

    /// Number of values (the product of `shape`).
    public let count: Int

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The values as stored in the file: `count * dataType.byteWidth` big-endian bytes.
    public var bigEndianBytes: ArraySlice<UInt8> { storage[dataOffset...] }

    /// An array over big-endian bytes as the file stores them.
    ///
    /// - Precondition: 1...255 dimensions, each in 0...UInt32.max, and
    ///   `bigEndianBytes.count == shape product * dataType.byteWidth`.
    public init(dataType: IDXDataType, shape: [Int], bigEndianBytes: [UInt8]) {
        let count = IDXArray.checkedCount(shape)
        precondition(bigEndianBytes.count == count * dataType.byteWidth,
                     "IDXArray: \(bigEndianBytes.count) bytes for \(count) values of \(dataType)")
        self.init(unchecked: dataType, shape: shape, count: count, storage: bigEndianBytes, dataOffset: 0)
    }

    /// An array over bytes whose header has already been validated (used by the decoder).
    init(unchecked dataType: IDXDataType, shape: [Int], count: Int, storage: [UInt8], dataOffset: Int) {
        self.dataType = dataType
        self.shape = shape
        self.count = count
        self.storage = storage
        self.dataOffset = dataOffset
    }

    /// The product of `shape`, checking the IDX limits (programmer errors, hence preconditions).
    static func checkedCount(_ shape: [Int]) -> Int {
        precondition((1...255).contains(shape.count), "IDXArray: rank \(shape.count), expected 1...255")
        for size in shape {
            precondition(size >= 0 && size <= Int(UInt32.max), "IDXArray: dimension \(size) out of 0...UInt32.max")
        }
        guard let count = elementCount(of: shape) else { preconditionFailure("IDXArray: shape \(shape) overflows Int") }
        return count
    }

    /// The product of non-negative `sizes`: 0 as soon as one size is 0 (whatever the others,
    /// so the order of the dimensions does not matter), nil if it overflows `Int`.
    static func elementCount(of sizes: some Sequence<Int>) -> Int? {
        if sizes.contains(0) { return 0 }
        var count = 1
        for size in sizes {
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            if overflow { return nil }
            count = product
        }
        return count
    }

    public static func == (a: IDXArray, b: IDXArray) -> Bool {
        a.dataType == b.dataType && a.shape == b.shape && a.bigEndianBytes == b.bigEndianBytes
    }
}

// MARK: - From typed values

extension IDXArray {
    /// An array of unsigned bytes (type 0x08). `values.count` must equal the product of `shape`.
    public init(shape: [Int], uint8 values: [UInt8]) { self.init(shape: shape, typed: values) }
    /// An array of signed bytes (type 0x09).
    public init(shape: [Int], int8 values: [Int8]) { self.init(shape: shape, typed: values) }
    /// An array of 16-bit integers (type 0x0B).
    public init(shape: [Int], int16 values: [Int16]) { self.init(shape: shape, typed: values) }
    /// An array of 32-bit integers (type 0x0C).
    public init(shape: [Int], int32 values: [Int32]) { self.init(shape: shape, typed: values) }
    /// An array of 32-bit floats (type 0x0D).
    public init(shape: [Int], float32 values: [Float]) { self.init(shape: shape, typed: values) }
    /// An array of 64-bit floats (type 0x0E).
    public init(shape: [Int], float64 values: [Double]) { self.init(shape: shape, typed: values) }

    private init<T: IDXScalar>(shape: [Int], typed values: [T]) {
        let count = IDXArray.checkedCount(shape)
        precondition(values.count == count, "IDXArray: \(values.count) values for shape \(shape)")
        let width = T.idxType.byteWidth
        let bytes = [UInt8](unsafeUninitializedCapacity: count * width) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            values.withUnsafeBufferPointer { source in
                for i in 0..<count { source[i].store(raw, i) }
            }
            initialized = count * width
        }
        self.init(unchecked: T.idxType, shape: shape, count: count, storage: bytes, dataOffset: 0)
    }
}

// MARK: - To typed values

extension IDXArray {
    /// `transform` applied to every value read as `T`, in one pass over the bytes.
    /// (A `while` loop over raw pointers: it vectorises in release builds and is about three
    /// times faster than a `for`-`in` loop over buffer subscripts in debug builds.)
    /// - Precondition: `T` is the Swift type of `dataType`.
    @inline(__always)
    func mapValues<T: IDXScalar, R>(_: T.Type, _ transform: (T) -> R) -> [R] {
        precondition(T.idxType == dataType)
        let count = self.count
        if count == 0 { return [] }
        return storage.withUnsafeBytes { file in
            let raw = UnsafeRawBufferPointer(rebasing: file[dataOffset...])
            return [R](unsafeUninitializedCapacity: count) { out, initialized in
                let target = out.baseAddress!
                var i = 0
                while i < count {
                    (target + i).initialize(to: transform(T.load(raw, i)))
                    i &+= 1
                }
                initialized = count
            }
        }
    }

    /// The u8 values divided by 255 (the hot path of loading MNIST: a dedicated tight loop).
    func unsignedBytesOver255() -> [Float] {
        precondition(dataType == .uint8)
        let count = self.count
        if count == 0 { return [] }
        return storage.withUnsafeBufferPointer { file in
            let source = file.baseAddress! + dataOffset
            return [Float](unsafeUninitializedCapacity: count) { out, initialized in
                let target = out.baseAddress!
                var i = 0
                while i < count {
                    target[i] = Float(source[i]) / 255
                    i &+= 1
                }
                initialized = count
            }
        }
    }

    /// Every value converted to `Float` as it is (no scaling: a u8 255 gives 255.0).
    ///
    /// i32 values beyond 2^24 and f64 values are rounded to the nearest `Float`; f64 values
    /// beyond `Float`'s range become infinite.
    public func floats() -> [Float] {
        switch dataType {
        case .uint8: mapValues(UInt8.self) { Float($0) }
        case .int8: mapValues(Int8.self) { Float($0) }
        case .int16: mapValues(Int16.self) { Float($0) }
        case .int32: mapValues(Int32.self) { Float($0) }
        case .float32: mapValues(Float.self) { $0 }
        case .float64: mapValues(Double.self) { Float($0) }
        }
    }

    /// Every value converted to `Double`, exactly (every IDX type fits in a `Double`).
    public func doubles() -> [Double] {
        switch dataType {
        case .uint8: mapValues(UInt8.self) { Double($0) }
        case .int8: mapValues(Int8.self) { Double($0) }
        case .int16: mapValues(Int16.self) { Double($0) }
        case .int32: mapValues(Int32.self) { Double($0) }
        case .float32: mapValues(Float.self) { Double($0) }
        case .float64: mapValues(Double.self) { $0 }
        }
    }

    /// Every value as `Int` for the integer types; nil for `float32` and `float64`.
    public func integers() -> [Int]? {
        switch dataType {
        case .uint8: mapValues(UInt8.self) { Int($0) }
        case .int8: mapValues(Int8.self) { Int($0) }
        case .int16: mapValues(Int16.self) { Int($0) }
        case .int32: mapValues(Int32.self) { Int($0) }
        case .float32, .float64: nil
        }
    }
}

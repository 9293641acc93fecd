import Compression

/// Reading and writing IDX files (LeCun's MNIST format), plain or gzipped.
///
/// Layout: two zero bytes, a type byte (`IDXDataType`), a rank byte (1...255), then one
/// big-endian `UInt32` per dimension, then the values in C order, multi-byte values big-endian.
/// Whether a file is gzipped is decided from its content (the gzip magic 1f 8b), never from its
/// name. Every size a header claims is checked against the bytes actually present before any
/// buffer of that size is allocated.
public enum IDXFile {
    /// The default cap on the decompressed size of a gzipped file: 4 GiB.
    public static let defaultDecompressionCap = 1 << 32

    /// The most bytes a gzip stream of `compressedSize` bytes is allowed to inflate to:
    /// `min(cap, 1032 * compressedSize + 1 MiB)`. Deflate cannot expand more than about
    /// 1032:1, so the ratio term never rejects a genuine stream; it bounds what a bomb can
    /// allocate for small files, and `cap` bounds it for large ones.
    public static func decompressionLimit(compressedSize: Int, cap: Int = defaultDecompressionCap) -> Int {
        let (scaled, overflow) = compressedSize.multipliedReportingOverflow(by: 1032)
        if overflow { return cap }
        let (bound, overflow2) = scaled.addingReportingOverflow(1 << 20)
        return overflow2 ? cap : min(cap, bound)
    }

    /// The array stored in the IDX file at `path`, gzipped or not.
    ///
    /// - Parameter decompressionCap: the most bytes a gzipped file may inflate to (see
    ///   `decompressionLimit(compressedSize:cap:)`).
    /// - Throws: `IDXError` naming `path`.
    public static func read(_ path: String, decompressionCap: Int = defaultDecompressionCap)
        throws(IDXError) -> IDXArray {
        try readDetailed(path, decompressionCap: decompressionCap).array
    }

    /// The array and whether the file was gzipped (for `DataFileInfo`).
    static func readDetailed(_ path: String, decompressionCap: Int = defaultDecompressionCap)
        throws(IDXError) -> (array: IDXArray, gzipped: Bool) {
        let bytes = try FileIO.readAll(path)
        return try decodeDetailed(bytes, name: path, decompressionCap: decompressionCap)
    }

    /// The array stored in `bytes`, the content of an IDX file (gzipped or not).
    ///
    /// - Parameter name: names the content in errors (usually the file's path).
    /// - Throws: `IDXError` naming `name`.
    public static func decode(_ bytes: [UInt8], name: String,
                              decompressionCap: Int = defaultDecompressionCap) throws(IDXError) -> IDXArray {
        try decodeDetailed(bytes, name: name, decompressionCap: decompressionCap).array
    }

    static func decodeDetailed(_ bytes: [UInt8], name: String, decompressionCap: Int)
        throws(IDXError) -> (array: IDXArray, gzipped: Bool) {
        if bytes.isEmpty { throw .emptyFile(file: name) }
        guard Zlib.isGzip(bytes) else { return (try decodePlain(bytes, name: name, gzipped: false), false) }
        let limit = decompressionLimit(compressedSize: bytes.count, cap: decompressionCap)
        let content: [UInt8]
        do {
            content = try Zlib.gunzip(bytes, limit: limit)
        } catch let error as CompressionError {
            switch error {
            case .truncated: throw .truncatedGzip(file: name)
            case .corrupt(let message): throw .corruptGzip(file: name, message: message)
            case .outputTooLarge(let limit): throw .gzipTooLarge(file: name, limit: limit, compressedBytes: bytes.count)
            }
        } catch {
            throw .corruptGzip(file: name, message: "\(error)")
        }
        return (try decodePlain(content, name: name, gzipped: true), true)
    }

    /// Parses and checks the header of uncompressed IDX content; the array keeps `bytes` as its
    /// storage (no copy).
    static func decodePlain(_ bytes: [UInt8], name: String, gzipped: Bool) throws(IDXError) -> IDXArray {
        let total = bytes.count
        if total == 0 {
            throw gzipped ? .truncatedHeader(file: name, expectedBytes: 4, foundBytes: 0, gzipped: true)
                          : .emptyFile(file: name)
        }
        if bytes[0] != 0 || (total > 1 && bytes[1] != 0) {
            throw .badMagic(file: name, found: Array(bytes.prefix(4)))
        }
        if total < 4 { throw .truncatedHeader(file: name, expectedBytes: 4, foundBytes: total, gzipped: gzipped) }
        guard let dataType = IDXDataType(code: bytes[2]) else { throw .unknownType(file: name, code: bytes[2]) }
        let rank = Int(bytes[3])
        if rank == 0 { throw .rankZero(file: name) }
        let headerSize = 4 + 4 * rank
        if total < headerSize {
            throw .truncatedHeader(file: name, expectedBytes: headerSize, foundBytes: total, gzipped: gzipped)
        }

        var shape = [Int]()
        shape.reserveCapacity(rank)
        for d in 0..<rank {
            let at = 4 + 4 * d
            let size = UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16
                | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
            shape.append(Int(size))
        }
        // The claimed data size, checked for overflow before it is compared or used (a zero
        // dimension makes it zero, wherever it stands).
        guard let count = IDXArray.elementCount(of: shape),
              case let (expected, overflow) = count.multipliedReportingOverflow(by: dataType.byteWidth), !overflow
        else { throw .sizeOverflow(file: name, dataType: dataType, shape: shape) }

        let found = total - headerSize
        if found < expected {
            throw .truncatedData(file: name, dataType: dataType, shape: shape,
                                 expectedBytes: expected, foundBytes: found, gzipped: gzipped)
        }
        if found > expected {
            throw .trailingData(file: name, dataType: dataType, shape: shape,
                                expectedBytes: expected, foundBytes: found, gzipped: gzipped)
        }
        return IDXArray(unchecked: dataType, shape: shape, count: count, storage: bytes, dataOffset: headerSize)
    }

    /// The bytes of an uncompressed IDX file holding `array`.
    public static func encode(_ array: IDXArray) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(4 + 4 * array.rank + array.bigEndianBytes.count)
        bytes += [0, 0, array.dataType.code, UInt8(array.rank)]
        for size in array.shape {
            let value = UInt32(size)
            bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
        }
        bytes += array.bigEndianBytes
        return bytes
    }

    /// Writes `array` to `path` as an IDX file, gzipped when `gzip` is true (whatever the name),
    /// atomically: a temporary file in the same folder is renamed over `path`.
    /// - Throws: `IDXError.writeFailed` naming `path`.
    public static func write(_ array: IDXArray, to path: String, gzip: Bool = false) throws(IDXError) {
        let plain = encode(array)
        try FileIO.writeAtomically(gzip ? Zlib.gzip(plain) : plain, to: path)
    }
}

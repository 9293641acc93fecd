import Files
import Zlib

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

    /// How far past the size its header claims a gzipped file is inflated before giving up
    /// (`IDXError.gzipBeyondHeader`): 1 MiB.
    static let trailingSlack = 1 << 20

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
        try decodeDetailed(try content(of: path), name: path, decompressionCap: decompressionCap)
    }

    /// The bytes of the file at `path` as stored (a pipe is read to its end).
    static func content(of path: String) throws(IDXError) -> [UInt8] {
        do { return try FileIO.readAll(path, allowingPipes: true) } catch { throw IDXError(reading: path, error) }
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
        guard ZlibCodec.isGzip(bytes) else { return (try decodePlain(bytes, name: name, gzipped: false), false) }
        var limit = decompressionLimit(compressedSize: bytes.count, cap: decompressionCap)
        // The header, read from the first inflated bytes, so that a gzip bomb costs little more
        // memory than its header claims. A header that cannot be read there because the
        // stream is damaged is left to the full decoder below to report. Errors come in the
        // same order as from inflating first: a damaged or too large stream, then the header.
        var header: IDXHeader?
        if let prefix = ZlibCodec.contentPrefix(bytes, count: IDXHeader.maximumSize) {
            let parsed: IDXHeader
            do throws(IDXError) {
                parsed = try IDXHeader.parse(prefix, name: name, gzipped: true)
            } catch {
                _ = try contentSize(bytes, name: name, limit: limit)
                throw error
            }
            if parsed.dataBytes > limit - parsed.size {
                // The claim is beyond the limit: the data is cut short, or the content is too
                // large; the size tells which.
                let size = try contentSize(bytes, name: name, limit: limit)
                throw .truncatedData(file: name, dataType: parsed.dataType, shape: parsed.shape,
                                     expectedBytes: parsed.dataBytes, foundBytes: size - parsed.size, gzipped: true)
            }
            // Inflate at most `trailingSlack` bytes past the claim (up to there, the exact
            // number of extra bytes is reported).
            let claimed = parsed.size + parsed.dataBytes  // <= limit: no overflow
            if limit - claimed > trailingSlack {
                limit = claimed + trailingSlack
                header = parsed
            }
        }
        let content: [UInt8]
        do {
            content = try ZlibCodec.gunzip(bytes, limit: limit)
        } catch {
            throw gzipError(error, name: name, compressedBytes: bytes.count, header: header)
        }
        return (try decodePlain(content, name: name, gzipped: true), true)
    }

    /// The size of the gzip content of `bytes`, counted without keeping it (memory stays flat).
    /// - Throws: as inflating would: `.gzipTooLarge` past `limit`, `.truncatedGzip`, `.corruptGzip`.
    private static func contentSize(_ bytes: [UInt8], name: String, limit: Int) throws(IDXError) -> Int {
        do {
            return try ZlibCodec.contentSize(bytes, limit: limit)
        } catch {
            throw gzipError(error, name: name, compressedBytes: bytes.count, header: nil)
        }
    }

    /// The `IDXError` for a failure to inflate; `header` is set when the limit was lowered to
    /// `trailingSlack` bytes past what it claims.
    private static func gzipError(_ error: ZlibError, name: String, compressedBytes: Int,
                                  header: IDXHeader?) -> IDXError {
        switch error {
        case .truncated: .truncatedGzip(file: name)
        case .corrupt(let message): .corruptGzip(file: name, message: message)
        case .outputTooLarge(let limit):
            if let header {
                .gzipBeyondHeader(file: name, dataType: header.dataType, shape: header.shape,
                                  expectedBytes: header.dataBytes)
            } else {
                .gzipTooLarge(file: name, limit: limit, compressedBytes: compressedBytes)
            }
        }
    }

    /// Parses and checks the header of uncompressed IDX content, then that the data is exactly
    /// as long as the header claims; the array keeps `bytes` as its storage (no copy).
    static func decodePlain(_ bytes: [UInt8], name: String, gzipped: Bool) throws(IDXError) -> IDXArray {
        let header = try IDXHeader.parse(bytes, name: name, gzipped: gzipped)
        let (dataType, shape, expected) = (header.dataType, header.shape, header.dataBytes)
        let found = bytes.count - header.size
        if found < expected {
            throw .truncatedData(file: name, dataType: dataType, shape: shape,
                                 expectedBytes: expected, foundBytes: found, gzipped: gzipped)
        }
        if found > expected {
            throw .trailingData(file: name, dataType: dataType, shape: shape,
                                expectedBytes: expected, foundBytes: found, gzipped: gzipped)
        }
        return IDXArray(unchecked: dataType, shape: shape, count: header.count, storage: bytes, dataOffset: header.size)
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
        do { try FileIO.writeAtomically(gzip ? ZlibCodec.gzip(plain) : plain, to: path) } catch {
            throw .writeFailed(path: path, reason: error.reason)
        }
    }
}

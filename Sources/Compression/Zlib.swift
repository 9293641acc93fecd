// The only file that imports the C module CZlib.
import CZlib

/// Errors from decompressing a gzip or zlib stream.
public enum CompressionError: Error, Equatable, Sendable {
    /// The stream is damaged (zlib's message, e.g. "incorrect header check").
    case corrupt(String)
    /// The stream ended before its end marker.
    case truncated
    /// The output would exceed the caller's limit (e.g. a gzip bomb).
    case outputTooLarge(limit: Int)
}

/// gzip and zlib streams and CRC-32, through zlib.
public enum Zlib {
    /// Whether `bytes` start with the gzip magic number 1f 8b.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The decompressed content of a gzip stream (several concatenated members allowed).
    ///
    /// Stops with `.outputTooLarge` as soon as the output would pass `limit` bytes, so a
    /// gzip bomb costs at most `limit` bytes of memory.
    public static func gunzip(_ input: [UInt8], limit: Int = Int.max) throws -> [UInt8] {
        try inflate(input, windowBits: 15 + 32, limit: limit)  // +32: gzip or zlib header, auto-detected
    }

    /// The decompressed content of a zlib (RFC 1950) stream.
    public static func inflateZlib(_ input: [UInt8], limit: Int = Int.max) throws -> [UInt8] {
        try inflate(input, windowBits: 15, limit: limit)
    }

    private static func inflate(_ input: [UInt8], windowBits: Int32, limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CompressionError.corrupt("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        output.reserveCapacity(min(limit, max(input.count * 4, 1 << 16)))
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        return try input.withUnsafeBufferPointer { inBuf -> [UInt8] in
            stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.avail_in = UInt32(inBuf.count)
            while true {
                let (status, produced) = chunk.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return (status, out.count - Int(stream.avail_out))
                }
                if output.count + produced > limit { throw CompressionError.outputTooLarge(limit: limit) }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_STREAM_END:
                    // Concatenated gzip members: continue with the next one if bytes remain.
                    if stream.avail_in > 0 && windowBits > 15 {
                        let rest = inBuf.count - Int(stream.avail_in)
                        if inBuf[rest] == 0x1F {
                            guard inflateReset(&stream) == Z_OK else { throw CompressionError.corrupt("reset failed") }
                            continue
                        }
                    }
                    return output
                case Z_OK:
                    continue
                case Z_BUF_ERROR:
                    // No progress possible: the input ended before the stream did.
                    if stream.avail_in == 0 && produced == 0 { throw CompressionError.truncated }
                    continue
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw CompressionError.corrupt(message)
                }
            }
        }
    }

    /// A zlib (RFC 1950) stream of `input`, as PNG's IDAT chunks need.
    public static func deflateZlib(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var destinationLength = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(destinationLength))
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { inp in
                compress2(out.baseAddress, &destinationLength, inp.baseAddress, uLong(inp.count), level)
            }
        }
        precondition(status == Z_OK, "compress2 failed with \(status)")
        output.removeSubrange(Int(destinationLength)...)
        return output
    }

    /// A gzip stream of `input` (for writing `.gz` files).
    public static func gzip(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        precondition(deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let written = input.withUnsafeBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out -> Int in
                stream.next_in = UnsafeMutablePointer(mutating: inp.baseAddress)
                stream.avail_in = UInt32(inp.count)
                stream.next_out = out.baseAddress
                stream.avail_out = UInt32(out.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate failed with \(status)")
                return out.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(written...)
        return output
    }

    /// The CRC-32 of `bytes` (as PNG chunks and gzip trailers use), continuing from `crc`.
    public static func crc32(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBufferPointer { b in
            UInt32(CZlib.crc32(uLong(crc), b.baseAddress, uInt(b.count)))
        }
    }
}

// MARK: - Scanning without keeping the content

/// Inflating a gzip stream without keeping its content: its first bytes, or its size (for
/// checking a header against a gzip bomb before inflating everything).
extension Zlib {
    /// The first `count` bytes of the content of the gzip (or zlib) stream `input`, concatenated
    /// members included, or the whole content if it is shorter. Nil if the stream is damaged or
    /// ends before giving `count` bytes or its end marker (the full decoder then says why).
    public static func contentPrefix(_ input: [UInt8], count: Int) -> [UInt8]? {
        var output = [UInt8]()
        output.reserveCapacity(count)
        do {
            try scan(input, chunkSize: count) { chunk in
                output.append(contentsOf: chunk.prefix(count - output.count))
                return output.count < count
            }
        } catch {
            return nil
        }
        return output
    }

    /// The size of the content of the gzip (or zlib) stream `input`, inflated in small chunks
    /// that are not kept (memory stays flat whatever the size).
    /// - Throws: `CompressionError.outputTooLarge(limit:)` as soon as the size passes `limit`,
    ///   `.truncated` or `.corrupt` for a damaged stream.
    public static func contentSize(_ input: [UInt8], limit: Int) throws(CompressionError) -> Int {
        var size = 0
        try scan(input, chunkSize: 1 << 16) { chunk in
            size += chunk.count
            return size <= limit
        }
        if size > limit { throw .outputTooLarge(limit: limit) }
        return size
    }

    /// Inflates `input` (members one after the other, as `Zlib.gunzip` does) into a buffer of
    /// `chunkSize` bytes, handing each filled part to `body` until it returns false or the
    /// stream ends.
    private static func scan(_ input: [UInt8], chunkSize: Int,
                             _ body: (UnsafeBufferPointer<UInt8>) -> Bool) throws(CompressionError) {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: max(chunkSize, 1))
        let failure: CompressionError? = input.withUnsafeBufferPointer { inBuf in
            chunk.withUnsafeMutableBufferPointer { out -> CompressionError? in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.avail_in = UInt32(clamping: inBuf.count)
                while true {
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    let produced = out.count - Int(stream.avail_out)
                    if produced > 0 && !body(UnsafeBufferPointer(rebasing: out[0..<produced])) { return nil }
                    switch status {
                    case Z_OK:
                        continue
                    case Z_STREAM_END:
                        let consumed = inBuf.count - Int(stream.avail_in)
                        if stream.avail_in > 0 && inBuf[consumed] == 0x1F {
                            guard inflateReset(&stream) == Z_OK else { return .corrupt("reset failed") }
                            continue
                        }
                        return nil
                    case Z_BUF_ERROR:
                        if stream.avail_in == 0 && produced == 0 { return .truncated }
                        continue
                    default:
                        return .corrupt(stream.msg.map { String(cString: $0) } ?? "zlib error \(status)")
                    }
                }
            }
        }
        if let failure { throw failure }
    }
}

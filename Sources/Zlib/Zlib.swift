// The only file that imports the C module CZlib.
import CZlib

/// Errors from decompressing a gzip or zlib stream.
public enum ZlibError: Error, Equatable, Sendable {
    /// The stream is damaged (zlib's message, e.g. "incorrect header check").
    case corrupt(String)
    /// The stream ended before its end marker.
    case truncated
    /// The output would exceed the caller's limit (e.g. a gzip bomb).
    case outputTooLarge(limit: Int)
}

/// gzip and zlib streams and CRC-32, through zlib. (Not named `Zlib`: a module should not
/// share its name with one of its types.)
public enum ZlibCodec {
    /// Whether `bytes` start with the gzip magic number 1f 8b.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The decompressed content of a gzip stream (several concatenated members allowed; a
    /// zlib header is detected too).
    ///
    /// Stops with `.outputTooLarge` as soon as the output would pass `limit` bytes, so a
    /// gzip bomb costs at most `limit` bytes of memory.
    public static func gunzip(_ input: [UInt8], limit: Int = Int.max) throws(ZlibError) -> [UInt8] {
        try collect(input, windowBits: 15 + 32, limit: limit)  // +32: gzip or zlib header, auto-detected
    }

    /// The decompressed content of a zlib (RFC 1950) stream.
    public static func inflateZlib(_ input: [UInt8], limit: Int = Int.max) throws(ZlibError) -> [UInt8] {
        try collect(input, windowBits: 15, limit: limit)
    }

    /// The first `count` bytes of the content of the gzip (or zlib) stream `input`, concatenated
    /// members included, or the whole content if it is shorter. Nil if the stream is damaged or
    /// ends before giving `count` bytes or its end marker (the full decoder then says why).
    public static func contentPrefix(_ input: [UInt8], count: Int) -> [UInt8]? {
        var output = [UInt8]()
        output.reserveCapacity(count)
        do {
            try inflate(input, windowBits: 15 + 32, chunkSize: count) { chunk in
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
    /// - Throws: `ZlibError.outputTooLarge(limit:)` as soon as the size passes `limit`,
    ///   `.truncated` or `.corrupt` for a damaged stream.
    public static func contentSize(_ input: [UInt8], limit: Int) throws(ZlibError) -> Int {
        var size = 0
        try inflate(input, windowBits: 15 + 32, chunkSize: 1 << 16) { chunk in
            size += chunk.count
            return size <= limit
        }
        if size > limit { throw .outputTooLarge(limit: limit) }
        return size
    }

    /// The whole content, kept, failing as soon as it would pass `limit` bytes.
    private static func collect(_ input: [UInt8], windowBits: Int32, limit: Int) throws(ZlibError) -> [UInt8] {
        var output = [UInt8]()
        output.reserveCapacity(min(limit, max(input.count * 4, 1 << 16)))
        var tooLarge = false
        try inflate(input, windowBits: windowBits, chunkSize: 1 << 18) { chunk in
            if output.count + chunk.count > limit { tooLarge = true; return false }
            output.append(contentsOf: chunk)
            return true
        }
        if tooLarge { throw .outputTooLarge(limit: limit) }
        return output
    }

    /// The one inflate loop: inflates `input` into a buffer of `chunkSize` bytes, handing each
    /// filled part to `body` until it returns false or the stream ends. With a gzip window
    /// (`windowBits` > 15), concatenated members are inflated one after the other.
    ///
    /// zlib counts input and output in `UInt32`: the input is handed over in pieces of at most
    /// 4 GiB - 1 bytes and the output comes in `chunkSize` pieces, so any size streams through.
    private static func inflate(_ input: [UInt8], windowBits: Int32, chunkSize: Int,
                                _ body: (UnsafeBufferPointer<UInt8>) -> Bool) throws(ZlibError) {
        var stream = z_stream()
        guard inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .corrupt("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var chunk = [UInt8](repeating: 0, count: max(min(chunkSize, Int(UInt32.max)), 1))
        let failure: ZlibError? = input.withUnsafeBufferPointer { inBuf in
            chunk.withUnsafeMutableBufferPointer { out -> ZlibError? in
                stream.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.avail_in = 0
                var notHandedOver = inBuf.count  // bytes after next_in + avail_in
                while true {
                    if stream.avail_in == 0 && notHandedOver > 0 {
                        let piece = min(notHandedOver, Int(UInt32.max))
                        stream.avail_in = UInt32(piece)
                        notHandedOver -= piece
                    }
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    let produced = out.count - Int(stream.avail_out)
                    if produced > 0 && !body(UnsafeBufferPointer(rebasing: out[0..<produced])) { return nil }
                    let unconsumed = Int(stream.avail_in) + notHandedOver
                    switch status {
                    case Z_OK:
                        continue
                    case Z_STREAM_END:
                        // Concatenated gzip members: continue with the next one if bytes remain.
                        if windowBits > 15 && unconsumed > 0 && inBuf[inBuf.count - unconsumed] == 0x1F {
                            guard inflateReset(&stream) == Z_OK else { return .corrupt("reset failed") }
                            continue
                        }
                        return nil
                    case Z_BUF_ERROR:
                        // No progress possible: the input ended before the stream did.
                        if unconsumed == 0 && produced == 0 { return .truncated }
                        continue
                    default:
                        return .corrupt(stream.msg.map { String(cString: $0) } ?? "zlib error \(status)")
                    }
                }
            }
        }
        if let failure { throw failure }
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

    /// A gzip stream of `input` (for writing `.gz` files). Precondition: fewer than 4 GiB.
    public static func gzip(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        precondition(input.count < Int(UInt32.max), "gzip: \(input.count) bytes, at most 4 GiB - 1 in one call")
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
                stream.avail_out = UInt32(clamping: out.count)
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

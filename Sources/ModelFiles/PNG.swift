import Files
import Zlib

/// PNG encoding of 8-bit grayscale and RGB images (no interlacing, filter type 0 "None").
///
/// Layout: the 8-byte signature; an IHDR chunk; the zlib-compressed scanlines (each row
/// prefixed by its filter byte 0) in IDAT chunks of at most 1 MiB; an IEND chunk. Every
/// chunk is length (big-endian UInt32), type, data, CRC-32 of type and data.
public enum PNG {
    /// The 8 bytes every PNG file starts with.
    public static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A PNG of a `width` x `height` grayscale image; `pixels` row-major, top row first,
    /// 0 black to 255 white. Precondition: sizes positive, `pixels.count == width * height`.
    public static func encodeGrayscale(width: Int, height: Int, pixels: [UInt8]) -> [UInt8] {
        encode(width: width, height: height, colorType: 0, channels: 1, pixels: pixels)
    }

    /// A PNG of a `width` x `height` RGB image; `pixels` row-major as r, g, b bytes.
    /// Precondition: sizes positive, `pixels.count == 3 * width * height`.
    public static func encodeRGB(width: Int, height: Int, pixels: [UInt8]) -> [UInt8] {
        encode(width: width, height: height, colorType: 2, channels: 3, pixels: pixels)
    }

    /// Writes PNG bytes to `path` atomically (temporary file, fsync, rename).
    public static func write(_ png: [UInt8], to path: String) throws(FileWriteError) {
        try FileIO.writeAtomically(png, to: path)
    }

    private static func encode(width: Int, height: Int, colorType: UInt8, channels: Int, pixels: [UInt8]) -> [UInt8] {
        precondition(width > 0 && height > 0 && width <= Int(Int32.max) && height <= Int(Int32.max),
                     "PNG: invalid size \(width) x \(height)")
        let rowBytes = width * channels
        precondition(pixels.count == rowBytes * height,
                     "PNG: \(pixels.count) bytes for \(width) x \(height) x \(channels)")

        var header: [UInt8] = []
        appendBigEndian(UInt32(width), to: &header)
        appendBigEndian(UInt32(height), to: &header)
        header += [8, colorType, 0, 0, 0]  // bit depth, colour type, compression, filter, interlace

        var scanlines = [UInt8]()
        scanlines.reserveCapacity((rowBytes + 1) * height)
        for row in 0..<height {
            scanlines.append(0)  // filter type 0: the row as is
            scanlines.append(contentsOf: pixels[row * rowBytes ..< (row + 1) * rowBytes])
        }
        let compressed = ZlibCodec.deflateZlib(scanlines, level: 9)

        var png = signature
        appendChunk("IHDR", header, to: &png)
        let chunkSize = 1 << 20
        var start = 0
        repeat {
            let stop = min(start + chunkSize, compressed.count)
            appendChunk("IDAT", Array(compressed[start..<stop]), to: &png)
            start = stop
        } while start < compressed.count
        appendChunk("IEND", [], to: &png)
        return png
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        appendBigEndian(UInt32(data.count), to: &png)
        png += typeBytes
        png += data
        appendBigEndian(ZlibCodec.crc32(data, continuing: ZlibCodec.crc32(typeBytes)), to: &png)
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }
}

import Files
import Zlib
import Foundation
import Testing
@testable import ModelFiles

/// A minimal PNG reader for the tests: checks the structure and CRCs, inflates IDAT and
/// undoes filter type 0 (the only one the writer uses).
struct DecodedPNG {
    var width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0
    var chunkTypes: [String] = []
    var pixels: [UInt8] = []

    enum Failure: Error { case bad(String) }

    /// CRC-32 (ISO-HDLC, as PNG), bit by bit: an independent reference for zlib's.
    static func referenceCRC(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    init(_ data: [UInt8]) throws {
        func bigEndian(_ at: Int) -> Int { data[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        guard data.starts(with: PNG.signature) else { throw Failure.bad("signature") }
        var position = 8
        var compressed: [UInt8] = []
        while position < data.count {
            let length = bigEndian(position)
            let typeBytes = Array(data[position + 4..<position + 8])
            let body = Array(data[position + 8..<position + 8 + length])
            let crc = UInt32(bigEndian(position + 8 + length))
            guard crc == Self.referenceCRC(typeBytes + body), crc == ZlibCodec.crc32(typeBytes + body) else {
                throw Failure.bad("CRC of chunk \(String(decoding: typeBytes, as: UTF8.self))")
            }
            let type = String(decoding: typeBytes, as: UTF8.self)
            chunkTypes.append(type)
            switch type {
            case "IHDR":
                width = Int(body[0]) << 24 | Int(body[1]) << 16 | Int(body[2]) << 8 | Int(body[3])
                height = Int(body[4]) << 24 | Int(body[5]) << 16 | Int(body[6]) << 8 | Int(body[7])
                bitDepth = Int(body[8]); colorType = Int(body[9]); interlace = Int(body[12])
            case "IDAT": compressed += body
            default: break
            }
            position += 12 + length
        }
        guard chunkTypes.first == "IHDR", chunkTypes.last == "IEND" else { throw Failure.bad("chunk order") }
        let channels = colorType == 2 ? 3 : 1
        let raw = try ZlibCodec.inflateZlib(compressed)
        let stride = width * channels
        guard raw.count == height * (stride + 1) else { throw Failure.bad("IDAT size") }
        for row in 0..<height {
            guard raw[row * (stride + 1)] == 0 else { throw Failure.bad("filter type") }
            pixels += raw[row * (stride + 1) + 1 ..< (row + 1) * (stride + 1)]
        }
    }
}

@Suite("PNG writing")
struct PNGTests {
    static func gradient(width: Int, height: Int, channels: Int = 1) -> [UInt8] {
        (0..<width * height * channels).map { UInt8(truncatingIfNeeded: ($0 * 37) ^ ($0 >> 3)) }
    }

    @Test("grayscale: structure, CRCs and pixels", arguments: [(1, 1), (28, 28), (3, 7), (300, 2)])
    func grayscale(size: (Int, Int)) throws {
        let (width, height) = size
        let pixels = Self.gradient(width: width, height: height)
        let png = PNG.encodeGrayscale(width: width, height: height, pixels: pixels)
        let decoded = try DecodedPNG(png)
        #expect(decoded.chunkTypes == ["IHDR", "IDAT", "IEND"])
        #expect(decoded.width == width && decoded.height == height)
        #expect(decoded.bitDepth == 8 && decoded.colorType == 0 && decoded.interlace == 0)
        #expect(decoded.pixels == pixels)
    }

    @Test("RGB round trip")
    func rgb() throws {
        let pixels = Self.gradient(width: 5, height: 4, channels: 3)
        let decoded = try DecodedPNG(PNG.encodeRGB(width: 5, height: 4, pixels: pixels))
        #expect(decoded.colorType == 2)
        #expect(decoded.pixels == pixels)
    }

    @Test("known bytes: signature, IHDR of a 1x1 image, the IEND chunk")
    func knownBytes() {
        let png = PNG.encodeGrayscale(width: 1, height: 1, pixels: [255])
        #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(png[8..<33]) == [0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0,
                                       0x3A, 0x7E, 0x9B, 0x55])
        // Every PNG ends with the same 12 bytes: IEND's length 0, type and CRC AE 42 60 82.
        #expect(Array(png.suffix(12)) == [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82])
    }

    @Test("large images are split into several IDAT chunks")
    func severalIDAT() throws {
        // Incompressible pixels: more than 1 MiB after deflate.
        var state: UInt64 = 1
        let pixels = (0..<1200 * 1000).map { _ -> UInt8 in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let decoded = try DecodedPNG(PNG.encodeGrayscale(width: 1200, height: 1000, pixels: pixels))
        #expect(decoded.chunkTypes.filter { $0 == "IDAT" }.count == 2)
        #expect(decoded.pixels == pixels)
    }

    @Test("GrayscaleImage.write writes a decodable file atomically")
    func writeFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let image = GrayscaleImage(width: 4, height: 3, pixels: Self.gradient(width: 4, height: 3))
        let path = folder.file("image.png")
        try image.write(to: path)
        let decoded = try DecodedPNG(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(decoded.pixels == image.pixels)
        #expect(try folder.contents() == ["image.png"])
        #expect(throws: FileWriteError.self) { try image.write(to: folder.file("missing/image.png")) }
    }

    @Test("Python's zlib (and Pillow if installed) decode the same pixels",
          .enabled(if: pythonSucceeds("import zlib, struct"), "python3 is not available"))
    func pythonCheck() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let script = repositoryRoot + "/scripts/interop/check_png.py"
        for (width, height, channels) in [(28, 28, 1), (13, 5, 3)] {
            let pixels = Self.gradient(width: width, height: height, channels: channels)
            let png = channels == 1 ? PNG.encodeGrayscale(width: width, height: height, pixels: pixels)
                                    : PNG.encodeRGB(width: width, height: height, pixels: pixels)
            try PNG.write(png, to: folder.file("x.png"))
            try Data(pixels).write(to: URL(fileURLWithPath: folder.file("x.raw")))
            let result = try run(["python3", script, folder.file("x.png"), folder.file("x.raw"),
                                  String(width), String(height), String(channels)])
            #expect(result.status == 0, "\(result.output)\(result.error)")
            #expect(result.output.hasPrefix("OK"))
        }
    }
}

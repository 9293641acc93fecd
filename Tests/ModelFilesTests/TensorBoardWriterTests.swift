import Files
import Foundation
import Testing
@testable import ModelFiles

@Suite("CRC-32C, protocol buffers and TFRecord framing")
struct TensorBoardEncodingTests {
    @Test("CRC-32C: the standard check value and the RFC 3720 (iSCSI) B.4 vectors")
    func crc32c() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }) == 0x113F_DB5C)
        #expect(CRC32C.checksum([]) == 0)
    }

    @Test("the table-driven CRC-32C equals the bit-at-a-time definition")
    func crc32cTableMatchesBitwise() {
        var generator = SystemRandomNumberGenerator()
        for length in [1, 7, 64, 1000] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(CRC32C.checksum(bytes) == CRC32C.checksumBitwise(bytes))
        }
    }

    @Test("masked CRC: rotate right by 15, add 0xa282ead8")
    func masked() {
        let crc: UInt32 = 0xE306_9283
        #expect(CRC32C.masked(Array("123456789".utf8)) == ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
    }

    @Test("protocol buffer varints, fixed-width fields and length-delimited fields")
    func protobuf() {
        var message = ProtobufEncoder()
        message.int(2, 300)  // key 0x10, varint 300 = ac 02
        message.int(2, -1)   // ten bytes
        message.string(3, "hi")
        message.float(2, 1)
        message.double(1, 1)
        #expect(message.bytes == [0x10, 0xAC, 0x02,
                                  0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
                                  0x1A, 0x02, 0x68, 0x69,
                                  0x15, 0x00, 0x00, 0x80, 0x3F,
                                  0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
    }

    @Test("a TFRecord is length, its masked CRC, the data, its masked CRC")
    func record() {
        let data: [UInt8] = [1, 2, 3]
        let framed = TensorBoardWriter.record(data)
        let length: [UInt8] = [3, 0, 0, 0, 0, 0, 0, 0]
        #expect(framed.count == 8 + 4 + 3 + 4)
        #expect(Array(framed[0..<8]) == length)
        #expect(Array(framed[8..<12]) == littleEndian(CRC32C.masked(length)))
        #expect(Array(framed[12..<15]) == data)
        #expect(Array(framed[15..<19]) == littleEndian(CRC32C.masked(data)))
    }

    @Test("histogram buckets: TensorBoard's exponential limits, counts adding up, empty runs merged")
    func histogram() {
        let limits = TensorBoardWriter.Histogram.limits
        #expect(limits.count == 2 * 774 + 2)
        #expect(zip(limits, limits.dropFirst()).allSatisfy { $0 < $1 })
        #expect(TensorBoardWriter.Histogram.bucket(of: 0) == limits.firstIndex(of: 1e-12))  // [0, 1e-12)
        #expect(limits[TensorBoardWriter.Histogram.bucket(of: -0.5)] > -0.5)
        let values: [Float] = [-2, -0.5, 0, 0.25, 0.25, 3, .nan, .infinity]
        let histogram = TensorBoardWriter.Histogram(values)
        #expect(histogram.count == 6 && histogram.min == -2 && histogram.max == 3 && histogram.sum == 1)
        #expect(histogram.counts.reduce(0, +) == 6)
    }

    func littleEndian(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}

/// Reading our event files back with the `tensorboard` package's own reader
/// (scripts/interop/check_tensorboard.py).
let pythonTensorBoard = PythonCheck(importing: "tensorboard.backend.event_processing.event_accumulator",
                                    script: "check_tensorboard.py")

@Suite("interop with Python's tensorboard", .enabled(if: pythonTensorBoard.shouldRun,
                                                    "python3 with tensorboard is not installed"))
struct TensorBoardInteropTests {
    @Test("scalars, histograms and images written in Swift read back with tensorboard's EventAccumulator")
    func swiftToTensorBoard() throws {
        try #require(pythonTensorBoard.available, "CI requires Python's tensorboard: pip install tensorboard")
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let board = try TensorBoardWriter(folder: folder.file("run/phase"))
        #expect(FileIO.split(board.path).name.hasPrefix("events.out.tfevents."))
        var scalars: [[String: Any]] = [], histograms: [[String: Any]] = [], images: [[String: Any]] = []
        for step in 1...5 {
            let loss = 1 / Double(step) + 0.001 * Double(step)
            try board.scalar(tag: "train/loss", value: loss, step: step)
            scalars.append(["step": step, "value": Double(Float(loss))])
            let weights = (0..<200).map { Float($0 - 100) / Float(20 * step) }
            try board.histogram(tag: "layer1/weights", values: weights, step: step)
            histograms.append(["step": step, "min": Double(weights.min()!), "max": Double(weights.max()!),
                               "num": 200, "sum": weights.reduce(0.0) { $0 + Double($1) }])
        }
        try board.histogram(tag: "empty", values: [], step: 0)
        let picture = GrayscaleImage(width: 5, height: 3, pixels: (0..<15).map { UInt8($0 * 17) })
        try board.image(tag: "filters", picture, step: 7)
        images.append(["step": 7, "width": 5, "height": 3, "png_sha256": try sha256Hex(picture.pngData())])
        try board.scalar(tag: "negative step", value: -2.5, step: -3)
        try board.close()

        let expected: [String: Any] = [
            "scalars": ["train/loss": scalars, "negative step": [["step": -3, "value": -2.5]]],
            "histograms": ["layer1/weights": histograms, "empty": [["step": 0, "num": 0]]],
            "images": ["filters": images],
            "exact_tags": true,
        ]
        try JSONSerialization.data(withJSONObject: expected).write(to: URL(fileURLWithPath: folder.file("expected.json")))
        let result = try run(["python3", pythonTensorBoard.script, folder.file("run/phase"), folder.file("expected.json")])
        print("tensorboard check: \(result.output)\(result.error)")
        #expect(result.status == 0, "\(result.output)\(result.error)")
    }

    func sha256Hex(_ bytes: [UInt8]) throws -> String {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        try Data(bytes).write(to: URL(fileURLWithPath: folder.file("image.png")))
        let result = try run(["python3", "-c", "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())",
                              folder.file("image.png")])
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

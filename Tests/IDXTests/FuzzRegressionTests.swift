import Testing
import Zlib
@testable import IDX

/// Inputs found by the libFuzzer fuzzer (scripts/fuzz/FuzzIDX.swift), each kept as the bytes
/// that failed, with what the reader must do with them now.
@Suite("IDX fuzz regressions")
struct IDXFuzzRegressionTests {
    /// Found by the fuzzer (a trap, "integer overflow" in `DataSet.loadImages`): an f64 file of
    /// shape [0, 3, 0xFFFF0000, 0xFF24FFFF, 0xFFFF0006] holds no value, so it decodes; its image
    /// dimensions multiply past Int.max, and `imageShape.reduce(1, *)` trapped.
    static let zeroImagesHugeImageShape: [UInt8] = [
        0x00, 0x00, 0x0E, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
        0xFF, 0xFF, 0x00, 0x00, 0xFF, 0x24, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x06,
    ]

    @Test("no images but image dimensions beyond Int.max: badImageShape, not a trap")
    func zeroImagesHugeImageShape() throws {
        let bytes = Self.zeroImagesHugeImageShape
        let shape = [0, 3, 0xFFFF_0000, 0xFF24_FFFF, 0xFFFF_0006]
        let array = try IDXFile.decode(bytes, name: "crash-1")
        #expect(array.shape == shape && array.count == 0 && array.dataType == .float64)
        let error = caught { () throws(IDXError) in
            try DataSet.imageSet(from: array, path: "crash-1", role: .trainImages, gzipped: false)
        }
        #expect(error == .badImageShape(file: "crash-1", shape: shape))
        #expect(error?.description.contains("fewer than 2^63") == true)

        // Through the public loader, from a file (plain and gzipped).
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        for (name, content) in [("plain", bytes), ("gz", ZlibCodec.gzip(bytes))] {
            let path = try folder.write(content, to: name)
            #expect(caught { () throws(IDXError) in try DataSet.loadImages(path) } == .badImageShape(file: path, shape: shape))
        }
    }

    /// Found while fixing the above: whether a shape with a zero dimension overflowed depended
    /// on where the zero stood ([0, 2^32-1, 2^32-1, 2^32-1] decoded, the same dimensions with
    /// the zero last gave sizeOverflow). Both hold zero values and now decode alike.
    @Test("a zero dimension makes the size zero wherever it stands", arguments: [0, 1, 2, 3])
    func zeroDimensionAnywhere(position: Int) throws {
        var shape = [UInt32](repeating: UInt32.max, count: 4)
        shape[position] = 0
        let bytes = idxHeader(type: 0x0E, shape: shape)
        let array = try IDXFile.decode(bytes, name: "zero")
        #expect(array.count == 0 && array.shape == shape.map(Int.init) && array.bigEndianBytes.isEmpty)
        #expect(IDXFile.encode(array) == bytes)
        #expect(array.floats().isEmpty && array.doubles().isEmpty)
        // The public initializer accepts the shape the decoder produced.
        #expect(IDXArray(dataType: .float64, shape: array.shape, bigEndianBytes: []) == array)
        // Not an image file (no value per image), nor a label file (rank 4).
        #expect(caught { () throws(IDXError) in
            try DataSet.imageSet(from: array, path: "zero", role: .testImages, gzipped: false)
        } == .badImageShape(file: "zero", shape: array.shape))
        #expect(caught { () throws(IDXError) in
            try DataSet.labels(from: array, path: "zero", role: .testLabels, gzipped: false)
        } == .labelRank(file: "zero", shape: array.shape))
    }

    /// Noticed while reading the fuzzer's coverage: `IDXErrorTests.sizeOverflow` means to test an
    /// overflow by the value width alone, but its shape [2^32-1, 2^32-1] already overflows Int.
    @Test("a value count that fits in Int but whose byte size does not: sizeOverflow")
    func sizeOverflowByWidthOnly() {
        let shape: [UInt32] = [1 << 31, 1 << 31]  // 2^62 values fit in Int; 2^65 bytes of f64 do not
        #expect(caught { () throws(IDXError) in try IDXFile.decode(idxHeader(type: 0x0E, shape: shape), name: "w") }
            == .sizeOverflow(file: "w", dataType: .float64, shape: [1 << 31, 1 << 31]))
        #expect(caught { () throws(IDXError) in try IDXFile.decode(idxHeader(type: 0x08, shape: shape), name: "w") }
            == .truncatedData(file: "w", dataType: .uint8, shape: [1 << 31, 1 << 31],
                              expectedBytes: 1 << 62, foundBytes: 0, gzipped: false))
    }

    @Test("elementCount: the product, zero if any size is zero, nil on overflow")
    func elementCount() {
        let huge = Int(UInt32.max)
        #expect(IDXArray.elementCount(of: [Int]()) == 1)
        #expect(IDXArray.elementCount(of: [3, 4, 5]) == 60)
        #expect(IDXArray.elementCount(of: [huge, 1 << 31]) == huge << 31)  // below 2^63
        #expect(IDXArray.elementCount(of: [huge, huge]) == nil)  // (2^32 - 1)^2 > 2^63 - 1
        #expect(IDXArray.elementCount(of: [huge, huge, huge]) == nil)
        #expect(IDXArray.elementCount(of: [huge, huge, huge, 0]) == 0)
        #expect(IDXArray.elementCount(of: [0, huge, huge, huge]) == 0)
    }
}

import Files
import Testing
import Zlib
import Linalg
@testable import IDX

/// Values covering each type's range, extremes included, from a seeded generator.
private func sampleValues(_ type: IDXDataType, count: Int, seed: UInt64) -> IDXArrayFactory {
    var generator = Xoshiro256StarStar(seed: seed)
    switch type {
    case .uint8:
        var values = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        if count >= 2 { values[0] = 0; values[1] = .max }
        return .init(doubles: values.map(Double.init)) { IDXArray(shape: $0, uint8: values) }
    case .int8:
        var values = (0..<count).map { _ in Int8(truncatingIfNeeded: generator.next()) }
        if count >= 2 { values[0] = .min; values[1] = .max }
        return .init(doubles: values.map(Double.init)) { IDXArray(shape: $0, int8: values) }
    case .int16:
        var values = (0..<count).map { _ in Int16(truncatingIfNeeded: generator.next()) }
        if count >= 2 { values[0] = .min; values[1] = .max }
        return .init(doubles: values.map(Double.init)) { IDXArray(shape: $0, int16: values) }
    case .int32:
        var values = (0..<count).map { _ in Int32(truncatingIfNeeded: generator.next()) }
        if count >= 2 { values[0] = .min; values[1] = .max }
        return .init(doubles: values.map(Double.init)) { IDXArray(shape: $0, int32: values) }
    case .float32:
        var values = (0..<count).map { _ in generator.nextNormal() * 1000 }
        let specials: [Float] = [-.infinity, .infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        for (i, special) in specials.enumerated() where i < count { values[i] = special }
        return .init(doubles: values.map(Double.init)) { IDXArray(shape: $0, float32: values) }
    case .float64:
        var values = (0..<count).map { _ in generator.nextDouble() * 2e300 - 1e300 }
        let specials: [Double] = [-.infinity, .infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        for (i, special) in specials.enumerated() where i < count { values[i] = special }
        return .init(doubles: values) { IDXArray(shape: $0, float64: values) }
    }
}

/// The expected values (as exact Doubles) and a way to build the array for a shape.
private struct IDXArrayFactory {
    let doubles: [Double]
    let make: ([Int]) -> IDXArray
    init(doubles: [Double], make: @escaping ([Int]) -> IDXArray) {
        self.doubles = doubles
        self.make = make
    }
}

@Suite("IDX round trips")
struct IDXRoundTripTests {
    static let shapes: [[Int]] = [[7], [3, 5], [2, 3, 4], [2, 1, 3, 2, 1], [0, 4], Array(repeating: 1, count: 255)]

    @Test("every type and several ranks survive encode/decode, plain and gzipped, in memory and on disk",
          arguments: IDXDataType.allCases)
    func roundTrip(type: IDXDataType) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        for (s, shape) in Self.shapes.enumerated() {
            let count = shape.reduce(1, *)
            let factory = sampleValues(type, count: count, seed: UInt64(s))
            let array = factory.make(shape)
            #expect(array.dataType == type && array.shape == shape && array.count == count)
            #expect(array.bigEndianBytes.count == count * type.byteWidth)
            // The array gives back the exact values it was built from.
            #expect(array.doubles().elementsEqual(factory.doubles) { $0 == $1 || ($0.isNaN && $1.isNaN) })

            let plain = IDXFile.encode(array)
            #expect(Array(plain.prefix(4)) == [0, 0, type.code, UInt8(shape.count)])
            #expect(plain.count == 4 + 4 * shape.count + count * type.byteWidth)
            for gzip in [false, true] {
                let bytes = gzip ? ZlibCodec.gzip(plain) : plain
                let decoded = try IDXFile.decode(bytes, name: "memory")
                #expect(decoded == array)
                #expect(decoded.doubles() == factory.doubles)

                let path = folder.file("a-\(s)-\(gzip).idx")
                try IDXFile.write(array, to: path, gzip: gzip)
                let (read, wasGzipped) = try IDXFile.readDetailed(path)
                #expect(read == array)
                #expect(wasGzipped == gzip)
                #expect(read.doubles() == factory.doubles)
                if type.isInteger {
                    #expect(read.integers() == factory.doubles.map { Int($0) })
                } else {
                    #expect(read.integers() == nil)
                }
                #expect(read.floats() == factory.doubles.map { Float($0) })
            }
        }
        // No temporary files left behind by the atomic writes.
        #expect(try folder.contents().allSatisfy { !$0.hasPrefix(".") })
    }

    @Test("the bytes match the format written out by hand")
    func knownBytes() {
        #expect(IDXFile.encode(IDXArray(shape: [2], int16: [-2, 258]))
                == [0, 0, 0x0B, 1, 0, 0, 0, 2, 0xFF, 0xFE, 0x01, 0x02])
        #expect(IDXFile.encode(IDXArray(shape: [1, 2], int32: [-1, 0x0102_0304]))
                == [0, 0, 0x0C, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4])
        #expect(IDXFile.encode(IDXArray(shape: [1], float32: [1.0])) == [0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0x80, 0, 0])
        #expect(IDXFile.encode(IDXArray(shape: [1], float64: [-2.0]))
                == [0, 0, 0x0E, 1, 0, 0, 0, 1, 0xC0, 0, 0, 0, 0, 0, 0, 0])
        #expect(IDXFile.encode(IDXArray(shape: [2], int8: [-128, 127])) == [0, 0, 0x09, 1, 0, 0, 0, 2, 0x80, 0x7F])
        #expect(IDXFile.encode(IDXArray(shape: [3], uint8: [1, 2, 3]))
                == [0, 0, 0x08, 1, 0, 0, 0, 3, 1, 2, 3])
        // A large dimension is written big-endian.
        let wide = IDXArray(dataType: .uint8, shape: [1, 0x0001_0203], bigEndianBytes: [UInt8](repeating: 9, count: 0x0001_0203))
        #expect(Array(IDXFile.encode(wide).prefix(12)) == [0, 0, 8, 2, 0, 0, 0, 1, 0, 1, 2, 3])
    }

    @Test("hand-built MNIST-style header decodes to the right shape and values")
    func handBuiltHeader() throws {
        let values = (0..<24).map { UInt8($0 * 10) }
        let array = try IDXFile.decode(idxU8(shape: [2, 3, 4], values: values), name: "x")
        #expect(array.dataType == .uint8 && array.shape == [2, 3, 4] && array.rank == 3)
        #expect(array.integers() == values.map(Int.init))
    }

    @Test("gzip is detected from the content, not the name")
    func gzipByContent() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let plain = idxU8(shape: [2, 2], values: [1, 2, 3, 4])
        let gzippedWithoutSuffix = try folder.write(ZlibCodec.gzip(plain), to: "images-idx3-ubyte")
        let plainWithSuffix = try folder.write(plain, to: "images-idx3-ubyte.gz")
        let a = try IDXFile.readDetailed(gzippedWithoutSuffix)
        let b = try IDXFile.readDetailed(plainWithSuffix)
        #expect(a.gzipped && !b.gzipped)
        #expect(a.array == b.array)
        #expect(a.array.integers() == [1, 2, 3, 4])

        // Writing follows the flag, not the name either.
        let written = folder.file("out.gz")
        try IDXFile.write(a.array, to: written, gzip: false)
        #expect(try FileIO.readAll(written) == plain)
        let writtenGzip = folder.file("out.idx")
        try IDXFile.write(a.array, to: writtenGzip, gzip: true)
        #expect(ZlibCodec.isGzip(try FileIO.readAll(writtenGzip)))
    }

    @Test("writing replaces an existing file atomically and reports a missing folder")
    func atomicWrite() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = try folder.write([1, 2, 3], to: "data.idx")
        let array = IDXArray(shape: [3], uint8: [7, 8, 9])
        try IDXFile.write(array, to: path)
        #expect(try IDXFile.read(path) == array)
        #expect(try folder.contents() == ["data.idx"])

        let nowhere = folder.file("missing-folder/data.idx")
        let error = caught { () throws(IDXError) in try IDXFile.write(array, to: nowhere) }
        guard case .writeFailed(let p, _) = error else { Issue.record("expected writeFailed, got \(String(describing: error))"); return }
        #expect(p == nowhere)
        #expect(error!.description.hasPrefix("\(nowhere): cannot write the file: "))
    }

    @Test("paths split into folder and name, and join back")
    func splitPath() {
        #expect(FileIO.split("a.idx") == (".", "a.idx"))
        #expect(FileIO.split("/a.idx") == ("/", "a.idx"))
        #expect(FileIO.split("x/y/a.idx") == ("x/y", "a.idx"))
        #expect(FileIO.join("x/", "a") == "x/a")
        #expect(FileIO.join("x", "a") == "x/a")
    }
}

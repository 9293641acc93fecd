import Linalg
import Testing
@testable import ModelFiles

@Suite("safetensors encode and decode")
struct SafeTensorsRoundTripTests {
    /// Deterministic pseudo-random bytes (a tiny LCG, independent of the code under test).
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }

    @Test("every dtype survives encode -> decode byte for byte", arguments: DType.allCases)
    func everyDType(dtype: DType) throws {
        let shapes: [[Int]] = [[2, 3], [], [0, 5], [7], [1, 2, 2]]
        var file = SafeTensors()
        for (i, shape) in shapes.enumerated() {
            let count = shape.reduce(1, *)
            file["t\(i)"] = Tensor(dtype: dtype, shape: shape, bytes: Self.bytes(count * dtype.byteWidth, seed: UInt64(i)))
        }
        let decoded = try SafeTensors.decode(try file.encode(), source: "memory")
        #expect(decoded == file)
        for (name, tensor) in file.tensors {
            let back = try #require(decoded[name])
            #expect(back.dtype == dtype)
            #expect(back.shape == tensor.shape)
            #expect(back.bytes == tensor.bytes)
        }
    }

    @Test("typed values round trip for every TensorElement type")
    func typedValues() throws {
        func check<T: TensorElement & Equatable>(_ values: [T], shape: [Int]) throws {
            var file = SafeTensors()
            file["x"] = Tensor(values, shape: shape)
            let back = try SafeTensors.decode(try file.encode())
            let tensor = try #require(back["x"])
            #expect(tensor.dtype == T.tensorDType)
            #expect(try tensor.values(as: T.self) == values)
        }
        try check([Float(1.5), -0.0, .infinity, .leastNonzeroMagnitude, 3e38, -7], shape: [2, 3])
        try check([1.0 / 3.0, -.pi, Double.greatestFiniteMagnitude], shape: [3])
        try check([Int64.min, -1, 0, Int64.max], shape: [2, 2])
        try check([Int32.min, 7, Int32.max], shape: [3])
        try check([Int16.min, -2, Int16.max], shape: [3])
        try check([Int8.min, -1, Int8.max], shape: [3])
        try check([UInt64.max, 0, 42], shape: [3])
        try check([UInt32.max, 0, 42], shape: [3])
        try check([UInt16.max, 0, 42], shape: [3])
        try check([UInt8.max, 0, 42], shape: [3])
        try check([true, false, true, true], shape: [4])
        try check([Float(9)], shape: [])
    }

    @Test("a BOOL byte other than 0 or 1 reads as true")
    func boolBytes() throws {
        let tensor = try #require(SafeTensors.decode(handmadeFile(
            header: #"{"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}"#, buffer: [0, 2, 255]))["m"])
        #expect(try tensor.values(as: Bool.self) == [false, true, true])
        #expect(try tensor.floats() == [0, 1, 1])
    }

    @Test("values(as:) refuses another element type")
    func valuesTypeMismatch() {
        let tensor = Tensor([Int32(1), 2], shape: [2])
        #expect(throws: TensorError.typeMismatch(stored: .i32, requested: .i64)) {
            try tensor.values(as: Int64.self)
        }
    }

    @Test("little-endian byte order on disk")
    func byteOrder() throws {
        let tensor = Tensor([Int32(0x0102_0304)], shape: [1])
        #expect(tensor.bytes == [0x04, 0x03, 0x02, 0x01])
        #expect(Tensor([Float(1)]).bytes == [0x00, 0x00, 0x80, 0x3F])
    }

    @Test("floats() converts each dtype to the right values")
    func floatConversions() throws {
        #expect(try Tensor([0.5, -2.25, 1e300], shape: [3]).floats() == [0.5, -2.25, .infinity])
        #expect(try Tensor([Int64(-3), 1 << 40], shape: [2]).floats() == [-3, 0x1p40])
        #expect(try Tensor([Int32(-3), 5], shape: [2]).floats() == [-3, 5])
        #expect(try Tensor([Int16(-300)], shape: [1]).floats() == [-300])
        #expect(try Tensor([Int8(-128)], shape: [1]).floats() == [-128])
        #expect(try Tensor([UInt64(7)], shape: [1]).floats() == [7])
        #expect(try Tensor([UInt32(4_000_000_000)], shape: [1]).floats() == [4e9])
        #expect(try Tensor([UInt16(65535)], shape: [1]).floats() == [65535])
        #expect(try Tensor([UInt8(255)], shape: [1]).floats() == [255])
        #expect(try Tensor([true, false], shape: [2]).floats() == [1, 0])
        #expect(try Tensor(float16: [1, -0.5, 65504, 1e-8], shape: [4]).floats() == [1, -0.5, 65504, 0])
        #expect(try Tensor(bfloat16: [1, -3, 1.00390625], shape: [3]).floats() == [1, -3, 1])
        #expect(try Tensor(dtype: .f8e5m2, shape: [2], bytes: [0x3C, 0xC0]).floats() == [1, -2])
        #expect(try Tensor(dtype: .f8e4m3, shape: [3], bytes: [0x38, 0x7E, 0x01]).floats() == [1, 448, 0x1p-9])
        #expect(try Tensor(dtype: .f8e8m0, shape: [2], bytes: [127, 130]).floats() == [1, 8])
        #expect(throws: TensorError.notConvertibleToFloat(.c64)) {
            try Tensor(dtype: .c64, shape: [1], bytes: [UInt8](repeating: 0, count: 8)).floats()
        }
    }

    @Test("Matrix and [Float] convenience: shapes and values")
    func matrixAndVector() throws {
        let m = Matrix([[1, 2, 3], [4, 5, 6]])
        let tensor = Tensor(m)
        #expect(tensor.dtype == .f32 && tensor.shape == [2, 3])
        #expect(try tensor.matrix() == m)
        let v = Tensor([Float(1), 2, 3])
        #expect(v.shape == [3])
        #expect(try v.vector() == [1, 2, 3])
        #expect(try v.matrix() == Matrix([[1, 2, 3]]))  // rank 1 reads as a single row
        #expect(throws: TensorError.rankMismatch(shape: [2, 3], expected: "1")) { try tensor.vector() }
        #expect(throws: TensorError.rankMismatch(shape: [1, 1, 1], expected: "1 or 2")) {
            try Tensor([Float(1)], shape: [1, 1, 1]).matrix()
        }
        // F64 and F16 matrices convert.
        #expect(try Tensor([1.0, 2, 3, 4], shape: [2, 2]).matrix() == Matrix([[1, 2], [3, 4]]))
    }

    @Test("metadata round trip with unicode, quotes, backslashes and control characters")
    func metadataRoundTrip() throws {
        let metadata = [
            "format_version": "1",
            "comment": "Grüße, 世界 🧠 \"quoted\" back\\slash / \n new\tline \r \u{08}\u{0C}\u{01}\u{1F}\u{7F}",
            "": "empty key",
            "ключ \"q\"": "",
            "nul": "a\u{0}b",
        ]
        var file = SafeTensors(metadata: metadata)
        file["w\n\"ü\""] = Tensor([Float(1), 2])
        let encoded = try file.encode()
        let back = try SafeTensors.decode(encoded)
        #expect(back.metadata == metadata)
        #expect(back.names == ["w\n\"ü\""])
        // serde_json's escaping (what the reference writer emits).
        let header = String(decoding: encoded[8...], as: UTF8.self)
        #expect(header.contains(#""nul":"a\u0000b""#))
        #expect(header.contains(#"\"quoted\" back\\slash / \n new\tline \r \b\f\u0001\u001f"#))
        #expect(header.contains("Grüße, 世界 🧠"))
    }

    @Test("equal content gives identical bytes, whatever the insertion order")
    func determinism() throws {
        let a = Tensor(Matrix([[1, 2], [3, 4]]))
        let b = Tensor([Int64(5), 6], shape: [2])
        let c = Tensor(float16: [1, 2, 3], shape: [3])
        let d = Tensor([UInt8(9)], shape: [1])
        let metadata = ["z": "1", "a": "2", "m": "3", "é": "4", "e": "5"]
        var first = SafeTensors(metadata: metadata)
        for (name, t) in [("a", a), ("b", b), ("c", c), ("d", d)] { first[name] = t }
        var second = SafeTensors()
        for (name, t) in [("d", d), ("c", c), ("b", b), ("a", a)] { second[name] = t }
        second.metadata = metadata
        let bytes = try first.encode()
        #expect(try second.encode() == bytes)
        #expect(try first.encode() == bytes)
        #expect(first == second)
    }

    @Test("layout as the reference writer: descending alignment, then name; 8-byte aligned buffer")
    func referenceLayout() throws {
        var file = SafeTensors()
        file["b"] = Tensor([Float(0), 0, 0])
        file["a"] = Tensor([UInt8(1), 2, 3], shape: [3])
        file["c"] = Tensor([1.0, 2.0], shape: [2])
        file["d"] = Tensor(float16: [0], shape: [1])
        file["aa"] = Tensor([Float(7)])
        let encoded = try file.encode()
        let n = Int(encoded[0]) | Int(encoded[1]) << 8
        #expect((8 + n) % 8 == 0)
        let header = String(decoding: encoded[8..<(8 + n)], as: UTF8.self)
        let body = #"{"c":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"#
            + #""aa":{"dtype":"F32","shape":[1],"data_offsets":[16,20]},"#
            + #""b":{"dtype":"F32","shape":[3],"data_offsets":[20,32]},"#
            + #""d":{"dtype":"F16","shape":[1],"data_offsets":[32,34]},"#
            + #""a":{"dtype":"U8","shape":[3],"data_offsets":[34,37]}}"#
        let padding = (8 - body.utf8.count % 8) % 8
        #expect(header == body + String(repeating: " ", count: padding))
        #expect(n == body.utf8.count + padding)
        #expect(encoded.count == 8 + n + 37)
    }

    @Test("known answers from the reference implementation's own tests")
    func referenceVectors() throws {
        // One F32 tensor "attn.0" of shape [1, 2, 3] holding 0...5: header of 64 bytes, no padding.
        var file = SafeTensors()
        file["attn.0"] = Tensor([Float](arrayLiteral: 0, 1, 2, 3, 4, 5), shape: [1, 2, 3])
        let header = #"{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}"#
        #expect(try file.encode() == handmadeFile(header: header, buffer: littleEndianBytes([0, 1, 2, 3, 4, 5])))
        // A shorter name forces 7 spaces of padding (length 72).
        var padded = SafeTensors()
        padded["attn0"] = Tensor([Float](arrayLiteral: 0, 1, 2, 3, 4, 5), shape: [1, 1, 2, 3])
        let header2 = #"{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}"# + "       "
        #expect(try padded.encode() == handmadeFile(header: header2, buffer: littleEndianBytes([0, 1, 2, 3, 4, 5])))
        // Empty: "{}" padded to 8; with metadata {"framework": "pt"}: 40 bytes.
        #expect(try SafeTensors().encode() == [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
        let withMetadata = SafeTensors(metadata: ["framework": "pt"])
        #expect(try withMetadata.encode() == handmadeFile(header: #"{"__metadata__":{"framework":"pt"}}"# + "     "))
        #expect(try SafeTensors.decode(try withMetadata.encode()) == withMetadata)
    }

    @Test("a tensor named __metadata__ cannot be encoded")
    func reservedName() {
        var file = SafeTensors(source: "x.safetensors")
        file["__metadata__"] = Tensor([Float(1)])
        #expect(throws: SafeTensorsError.self) { try file.encode() }
    }

    @Test("subscript keeps insertion order; setting nil removes")
    func ordering() {
        var file = SafeTensors()
        file["b"] = Tensor([Float(1)])
        file["a"] = Tensor([Float(2)])
        file["b"] = Tensor([Float(3)])
        #expect(file.names == ["b", "a"])
        file["b"] = nil
        #expect(file.names == ["a"] && file.count == 1 && file["b"] == nil)
    }
}

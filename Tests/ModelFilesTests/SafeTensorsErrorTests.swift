import Testing
@testable import ModelFiles

/// The error `decode` throws for `bytes` (recording an issue if it succeeds).
func decodeError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> SafeTensorsError? {
    do {
        _ = try SafeTensors.decode(bytes, source: "bad.safetensors")
        Issue.record("decoding succeeded, expected an error", sourceLocation: sourceLocation)
        return nil
    } catch {
        // The message is one line and names the file.
        #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix("bad.safetensors: "), sourceLocation: sourceLocation)
        return error
    }
}

/// A header with one tensor entry whose fields are `fields` (JSON text).
func oneTensor(_ fields: String, name: String = "w") -> String {
    "{\"\(name)\":{\(fields)}}"
}

@Suite("safetensors reader: handcrafted bad files")
struct SafeTensorsErrorTests {
    let fourFloats = littleEndianBytes([1, 2, 3, 4])

    @Test("shorter than 8 bytes")
    func tooShort() {
        for count in 0..<8 {
            #expect(decodeError([UInt8](repeating: 0, count: count)) == .fileTooShort(file: "bad.safetensors", size: count))
        }
    }

    @Test("header length above 100 MB or past the end of the file")
    func headerLength() {
        #expect(decodeError(handmadeFile(header: "{}", length: 100_000_001))
            == .headerTooLarge(file: "bad.safetensors", length: 100_000_001, limit: 100_000_000))
        #expect(decodeError(handmadeFile(header: "{}", length: UInt64.max))
            == .headerTooLarge(file: "bad.safetensors", length: UInt64.max, limit: 100_000_000))
        #expect(decodeError(handmadeFile(header: "{}", length: 3))
            == .headerPastEnd(file: "bad.safetensors", length: 3, available: 2))
        let error = decodeError(handmadeFile(header: "{}", length: 1000))
        #expect(error?.description == "bad.safetensors: header length 1000 runs past the end of the file (2 bytes follow the length); the file is truncated or not a safetensors file")
    }

    @Test("header not UTF-8")
    func notUTF8() {
        let bad: [[UInt8]] = [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]]
        for sequence in bad {
            let header = Array(#"{"__metadata__":{"k":""#.utf8) + sequence + Array(#""}}"#.utf8)
            #expect(decodeError(handmadeFile(headerBytes: header)) == .headerNotUTF8(file: "bad.safetensors", offset: 8 + 22))
        }
    }

    @Test("invalid JSON in the header's structure", arguments: [
        "", "   ", "{", #"{"w":"#, #"{"w":{"dtype":"F32""#, "{,}", #"{"__metadata__":{"a":"1",}}"#, "{'a':1}",
        #"{"a" 1}"#, "{} x", "{}{}", "{}\u{0}\u{0}", "/* c */ {}", "\u{FEFF}{}", #"{"w":NaN}"#, #"{"__metadata__":{"k":undefined}}"#,
        #"{"w":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}"#,
        #"{"w":{"dtype":"F32","shape":[1,],"data_offsets":[0,4]}}"#,
        #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,]}}"#,
        #"{"w":{"dtype":"F32","shape":[1] "data_offsets":[0,4]}}"#,
    ])
    func invalidJSON(header: String) {
        let error = decodeError(handmadeFile(header: header))
        guard case .invalidJSON = error else {
            Issue.record("expected invalidJSON for \(header.debugDescription), got \(String(describing: error))")
            return
        }
    }

    @Test("invalid JSON values (inside an ignored field)", arguments: [
        "tru", "nul", "NaN", "-", "1.", "1e", "1e+", ".5", "+1", "0x10", "[1,]", "[1 2]", "{\"a\"}", "{\"a\":}",
        #""x\q""#, #""\u12""#, #""\ud800""#, #""\udc00x""#, #""\ud800\u0041""#, "\"tab\there\"", "\"open",
        #""\"#, "'single'",
    ])
    func invalidJSONValue(value: String) {
        let header = #"{"w":{"x":"# + value + #","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let error = decodeError(handmadeFile(header: header, buffer: littleEndianBytes([1])))
        guard case .invalidJSON = error else {
            Issue.record("expected invalidJSON for \(value.debugDescription), got \(String(describing: error))")
            return
        }
    }

    @Test("control characters in the raw header are rejected, escaped ones accepted")
    func controlCharacters() throws {
        let raw = handmadeFile(header: "{\"__metadata__\":{\"k\":\"a\nb\"}}")
        guard case .invalidJSON = decodeError(raw) else { Issue.record("expected invalidJSON"); return }
        let escaped = try SafeTensors.decode(handmadeFile(header: #"{"__metadata__":{"k":"a\nb\u00e9\ud83e\udde0\/"}}"#))
        #expect(escaped.metadata == ["k": "a\nbé🧠/"])
    }

    @Test("nesting deeper than the reference reader's limit is refused without a stack overflow")
    func deepNesting() throws {
        func header(arrays: Int) -> String {
            let nested = String(repeating: "[", count: arrays) + String(repeating: "]", count: arrays)
            return #"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":"# + nested + "}}"
        }
        let error = decodeError(handmadeFile(header: header(arrays: 100_000), buffer: littleEndianBytes([1])))
        guard case .invalidJSON(_, _, let reason) = error else { Issue.record("expected invalidJSON"); return }
        #expect(reason.contains("127"))
        // The same boundary as Python's safetensors 0.8: 125 arrays inside two objects pass, 126 fail.
        #expect(throws: Never.self) { try SafeTensors.decode(handmadeFile(header: header(arrays: 125), buffer: littleEndianBytes([1]))) }
        guard case .invalidJSON = decodeError(handmadeFile(header: header(arrays: 126), buffer: littleEndianBytes([1]))) else {
            Issue.record("expected invalidJSON at 126 nested arrays")
            return
        }
    }

    @Test("header not an object")
    func notObject() {
        #expect(decodeError(handmadeFile(header: "[1, 2]")) == .headerNotObject(file: "bad.safetensors", found: "an array"))
        #expect(decodeError(handmadeFile(header: "\"text\"")) == .headerNotObject(file: "bad.safetensors", found: "a string"))
        #expect(decodeError(handmadeFile(header: " 42")) == .headerNotObject(file: "bad.safetensors", found: "a number"))
        #expect(decodeError(handmadeFile(header: "null")) == .headerNotObject(file: "bad.safetensors", found: "null"))
    }

    @Test("missing fields")
    func missingFields() {
        let f = "bad.safetensors"
        #expect(decodeError(handmadeFile(header: oneTensor(#""shape":[1],"data_offsets":[0,4]"#), buffer: littleEndianBytes([1])))
            == .missingField(file: f, tensor: "w", field: "dtype"))
        #expect(decodeError(handmadeFile(header: oneTensor(#""dtype":"F32","data_offsets":[0,4]"#), buffer: littleEndianBytes([1])))
            == .missingField(file: f, tensor: "w", field: "shape"))
        #expect(decodeError(handmadeFile(header: oneTensor(#""dtype":"F32","shape":[1]"#), buffer: littleEndianBytes([1])))
            == .missingField(file: f, tensor: "w", field: "data_offsets"))
        #expect(decodeError(handmadeFile(header: oneTensor(#""dtype":"F32","shape":[1]"#), buffer: littleEndianBytes([1])))?.description
            == "bad.safetensors: tensor 'w' has no 'data_offsets' field")
    }

    @Test("fields of the wrong type")
    func wrongTypes() {
        func check(_ header: String, field: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let error = decodeError(handmadeFile(header: header, buffer: littleEndianBytes([1])), sourceLocation: sourceLocation)
            guard case .wrongFieldType(_, "w", field, _, _) = error else {
                Issue.record("expected wrongFieldType(\(field)), got \(String(describing: error))", sourceLocation: sourceLocation)
                return
            }
        }
        check(oneTensor(#""dtype":32,"shape":[1],"data_offsets":[0,4]"#), field: "dtype")
        check(oneTensor(#""dtype":"F32","shape":"1","data_offsets":[0,4]"#), field: "shape")
        check(oneTensor(#""dtype":"F32","shape":["1"],"data_offsets":[0,4]"#), field: "shape")
        check(oneTensor(#""dtype":"F32","shape":[[1]],"data_offsets":[0,4]"#), field: "shape")
        check(oneTensor(#""dtype":"F32","shape":[1],"data_offsets":{"begin":0}"#), field: "data_offsets")
        check(oneTensor(#""dtype":"F32","shape":[1],"data_offsets":[0,null]"#), field: "data_offsets")
        check(#"{"w":"F32"}"#, field: "")
        check(#"{"w":[1]}"#, field: "")
        let error = decodeError(handmadeFile(header: oneTensor(#""dtype":"F32","shape":[true],"data_offsets":[0,4]"#)))
        #expect(error?.description == "bad.safetensors: expected field 'shape' of tensor 'w' to be an array of non-negative integers, found a boolean at index 0")
    }

    @Test("a field given twice")
    func duplicateField() {
        #expect(decodeError(handmadeFile(header: oneTensor(#""dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]"#),
                                         buffer: littleEndianBytes([1])))
            == .duplicateField(file: "bad.safetensors", tensor: "w", field: "dtype"))
    }

    @Test("unknown and unsupported dtypes")
    func unknownDType() {
        let error = decodeError(handmadeFile(header: oneTensor(#""dtype":"F33","shape":[1],"data_offsets":[0,4]"#), buffer: littleEndianBytes([1])))
        #expect(error == .unknownDType(file: "bad.safetensors", tensor: "w", dtype: "F33"))
        #expect(error?.description.hasPrefix("bad.safetensors: tensor 'w' has unknown dtype 'F33', expected one of BOOL, U8") == true)
        #expect(decodeError(handmadeFile(header: oneTensor(#""dtype":"f32","shape":[1],"data_offsets":[0,4]"#), buffer: littleEndianBytes([1])))
            == .unknownDType(file: "bad.safetensors", tensor: "w", dtype: "f32"))
        let f4 = decodeError(handmadeFile(header: oneTensor(#""dtype":"F4","shape":[2],"data_offsets":[0,1]"#), buffer: [0]))
        #expect(f4?.description.contains("sub-byte types are not supported") == true)
    }

    @Test("shape values negative, fractional or too large")
    func invalidShape() {
        for (shape, fragment) in [("-1", "-1, expected a non-negative"), ("1.5", "1.5, expected an integer"),
                                  ("1e2", "1e2, expected an integer"), ("4.0", "4.0, expected an integer"),
                                  ("-0", "-0, expected a non-negative"),
                                  ("99999999999999999999999", "which is too large")] {
            let error = decodeError(handmadeFile(header: oneTensor(#""dtype":"F32","shape":["# + shape + #"],"data_offsets":[0,4]"#),
                                                 buffer: littleEndianBytes([1])))
            guard case .invalidShape(_, "w", let reason) = error else {
                Issue.record("expected invalidShape for \(shape), got \(String(describing: error))")
                continue
            }
            #expect(reason.contains(fragment), "\(reason)")
        }
    }

    @Test("shape product overflow")
    func shapeOverflow() {
        #expect(decodeError(handmadeFile(header: oneTensor(#""dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]"#)))
            == .shapeOverflow(file: "bad.safetensors", tensor: "w", shape: [4294967296, 4294967296]))
        // The product fits, the byte size (times 8) does not.
        #expect(decodeError(handmadeFile(header: oneTensor(#""dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]"#)))
            == .shapeOverflow(file: "bad.safetensors", tensor: "w", shape: [2305843009213693952]))
        // A zero dimension makes any other dimension harmless.
        #expect(throws: Never.self) {
            try SafeTensors.decode(handmadeFile(header: oneTensor(#""dtype":"F32","shape":[0,9223372036854775807],"data_offsets":[0,0]"#)))
        }
    }

    @Test("data_offsets not two increasing non-negative integers")
    func invalidOffsets() {
        for offsets in ["[4,0]", "[0]", "[]", "[0,4,8]", "[-1,3]", "[0,1.5]", "[0,99999999999999999999]"] {
            let error = decodeError(handmadeFile(header: oneTensor(#""dtype":"F32","shape":[1],"data_offsets":"# + offsets), buffer: littleEndianBytes([1])))
            guard case .invalidOffsets(_, "w", _) = error else {
                Issue.record("expected invalidOffsets for \(offsets), got \(String(describing: error))")
                continue
            }
        }
        #expect(decodeError(handmadeFile(header: oneTensor(#""dtype":"F32","shape":[1],"data_offsets":[4,0]"#), buffer: littleEndianBytes([1])))?.description
            == "bad.safetensors: tensor 'w' has invalid data_offsets: begin 4 is after end 0")
    }

    @Test("offsets past the end of the buffer")
    func pastEnd() {
        let error = decodeError(handmadeFile(header: oneTensor(#""dtype":"F32","shape":[100],"data_offsets":[0,400]"#), buffer: fourFloats))
        #expect(error == .offsetsPastEnd(file: "bad.safetensors", tensor: "w", end: 400, bufferSize: 16))
        // A huge claimed shape with a matching huge range fails on the range, before any allocation.
        #expect(decodeError(handmadeFile(header: oneTensor(#""dtype":"F32","shape":[1000000000000],"data_offsets":[0,4000000000000]"#), buffer: fourFloats))
            == .offsetsPastEnd(file: "bad.safetensors", tensor: "w", end: 4_000_000_000_000, bufferSize: 16))
    }

    @Test("range size differs from dtype width x shape product")
    func sizeMismatch() {
        let error = decodeError(handmadeFile(header: oneTensor(#""dtype":"F32","shape":[3],"data_offsets":[0,16]"#), buffer: fourFloats))
        #expect(error == .sizeMismatch(file: "bad.safetensors", tensor: "w", dtype: .f32, shape: [3], expected: 12, found: 16))
        #expect(error?.description == "bad.safetensors: tensor 'w' (F32, shape [3]) should take 12 bytes, but its data_offsets span 16")
    }

    @Test("overlapping ranges")
    func overlap() {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        #expect(decodeError(handmadeFile(header: header, buffer: littleEndianBytes([1, 2, 3])))
            == .overlappingTensors(file: "bad.safetensors", tensor: "b", other: "a"))
        let same = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}"#
        #expect(decodeError(handmadeFile(header: same, buffer: littleEndianBytes([1])))
            == .overlappingTensors(file: "bad.safetensors", tensor: "b", other: "a"))
        // An empty tensor inside another tensor's range is an overlap too (as for the reference).
        let inside = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}"#
        #expect(decodeError(handmadeFile(header: inside, buffer: littleEndianBytes([1, 2])))
            == .overlappingTensors(file: "bad.safetensors", tensor: "e", other: "a"))
    }

    @Test("holes and trailing bytes")
    func holes() {
        let gap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        #expect(decodeError(handmadeFile(header: gap, buffer: littleEndianBytes([1, 2, 3])))
            == .uncoveredBytes(file: "bad.safetensors", begin: 4, end: 8))
        let late = oneTensor(#""dtype":"F32","shape":[1],"data_offsets":[4,8]"#)
        #expect(decodeError(handmadeFile(header: late, buffer: littleEndianBytes([1, 2])))
            == .uncoveredBytes(file: "bad.safetensors", begin: 0, end: 4))
        let trailing = oneTensor(#""dtype":"F32","shape":[1],"data_offsets":[0,4]"#)
        #expect(decodeError(handmadeFile(header: trailing, buffer: littleEndianBytes([1, 2])))
            == .uncoveredBytes(file: "bad.safetensors", begin: 4, end: 8))
        #expect(decodeError(handmadeFile(header: "{}", buffer: [0]))
            == .uncoveredBytes(file: "bad.safetensors", begin: 0, end: 1))
    }

    @Test("duplicate tensor names")
    func duplicateNames() {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        #expect(decodeError(handmadeFile(header: header, buffer: littleEndianBytes([1, 2])))
            == .duplicateTensorName(file: "bad.safetensors", name: "a"))
        // Names that differ only by escaping are the same name.
        let escaped = #"{"é":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"\u00e9":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        #expect(decodeError(handmadeFile(header: escaped, buffer: littleEndianBytes([1, 2])))
            == .duplicateTensorName(file: "bad.safetensors", name: "é"))
    }

    @Test("__metadata__ not an object of strings")
    func badMetadata() {
        func reason(_ header: String) -> (String?, String)? {
            guard case .invalidMetadata(_, let key, let reason) = decodeError(handmadeFile(header: header)) else { return nil }
            return (key, reason)
        }
        #expect(reason(#"{"__metadata__":{"version":1}}"#)?.0 == "version")
        #expect(reason(#"{"__metadata__":{"version":1}}"#)?.1 == "expected a string value, found the number 1")
        #expect(reason(#"{"__metadata__":{"a":null}}"#)?.0 == "a")
        #expect(reason(#"{"__metadata__":{"a":["x"]}}"#)?.0 == "a")
        #expect(reason(#"{"__metadata__":{"a":"1","a":"2"}}"#)?.1 == "the key appears twice")
        #expect(reason(#"{"__metadata__":["a"]}"#)?.0 == nil)
        #expect(reason(#"{"__metadata__":"a"}"#)?.1 == "expected an object of strings, found a string")
        #expect(reason(#"{"__metadata__":{},"__metadata__":{}}"#) != nil)
    }

    @Test("accepted variations: whitespace, any entry order, unknown fields, null metadata, escaped names")
    func acceptedVariations() throws {
        let header = """
         \t\r
        { "b" : { "data_offsets" : [ 4 , 8 ] , "shape" : [ 1 ] , "dtype" : "F32", "extra": {"x": [1, -2.5e3, true, null, "s"]} },
          "__metadata__" : null,
          "\\u0061" : { "dtype" : "F32" , "shape" : [ 1 ] , "data_offsets" : [ 0 , 4 ] },
          "e" : { "dtype" : "F64" , "shape" : [ 0, 3 ] , "data_offsets" : [ 8 , 8 ] } }
        """
        let file = try SafeTensors.decode(handmadeFile(header: header, buffer: littleEndianBytes([1, 2])))
        #expect(file.names == ["b", "a", "e"])
        #expect(try file["a"]?.floats() == [1])
        #expect(try file["b"]?.floats() == [2])
        #expect(file["e"]?.shape == [0, 3])
        #expect(file.metadata.isEmpty)
    }

    @Test("every truncation of a valid file fails cleanly")
    func truncations() throws {
        var file = SafeTensors(metadata: ["k": "v"])
        file["w"] = Tensor([Float(1), 2, 3])
        file["i"] = Tensor([Int64(4)], shape: [1])
        let bytes = try file.encode()
        for count in 0..<bytes.count {
            #expect(throws: SafeTensorsError.self) { try SafeTensors.decode(Array(bytes[..<count])) }
        }
        // One extra byte is a hole at the end.
        #expect(throws: SafeTensorsError.self) { try SafeTensors.decode(bytes + [0]) }
    }

    @Test("seeded random mutations never crash: the result decodes or throws SafeTensorsError")
    func mutations() throws {
        var file = SafeTensors(metadata: ["format_version": "1", "note": "ü\n"])
        file["layers.0.weight"] = Tensor([Float](repeating: 0.5, count: 6), shape: [2, 3])
        file["layers.0.bias"] = Tensor(float16: [1, 2], shape: [2])
        file["ids"] = Tensor([Int64(1), 2], shape: [2])
        let valid = try file.encode()
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let interesting: [UInt8] = Array("{}[]\",:-0123456789eE.\\u \0".utf8) + [0xFF, 0x80, 0xC3]
        var decoded = 0
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0...next(4) {
                switch next(5) {
                case 0: bytes[next(bytes.count)] = UInt8(truncatingIfNeeded: next(256))
                case 1: bytes[next(bytes.count)] = interesting[next(interesting.count)]
                case 2: bytes.remove(at: next(bytes.count))
                case 3: bytes.insert(interesting[next(interesting.count)], at: next(bytes.count))
                default: bytes[next(8)] = UInt8(truncatingIfNeeded: next(256))  // the length prefix
                }
            }
            if (try? SafeTensors.decode(bytes)) != nil { decoded += 1 }
        }
        // Some mutations (inside tensor data, padding) keep the file valid.
        #expect(decoded > 0)
    }
}

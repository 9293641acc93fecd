import Testing
@testable import ModelFiles

/// Findings of the safetensors fuzzing (scripts/fuzz/FuzzSafeTensors.swift). The fuzzer found
/// no input that traps, hangs or allocates out of proportion; this pins a behaviour noticed
/// while checking its results against Python's `safetensors`.
@Suite("safetensors fuzz regressions")
struct SafeTensorsFuzzRegressionTests {
    /// A header with the tensor names "é" as U+00E9 (C3 A9) and as "e" + U+0301 (65 CC 81),
    /// one U8 value each. Python's safetensors 0.8 loads both tensors (it compares bytes);
    /// Swift strings compare by canonical equivalence, so here the name is repeated. That is
    /// an error with a clear message (never a silently dropped tensor), as documented on
    /// `SafeTensors.decode`.
    static let canonicallyEquivalentNames: [UInt8] = handmadeFile(
        headerBytes: Array(#"{""#.utf8) + [0xC3, 0xA9] + Array(#"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"e"#.utf8)
            + [0xCC, 0x81] + Array(#"":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#.utf8),
        buffer: [1, 2])

    @Test("tensor names equal by canonical equivalence are a repeated name")
    func canonicallyEquivalentTensorNames() {
        let bytes = Self.canonicallyEquivalentNames
        #expect(throws: SafeTensorsError.duplicateTensorName(file: "nfc", name: "e\u{301}")) {
            try SafeTensors.decode(bytes, source: "nfc")
        }
    }

    @Test("metadata keys equal by canonical equivalence are a repeated key")
    func canonicallyEquivalentMetadataKeys() throws {
        let header = Array(#"{"__metadata__":{""#.utf8) + [0xC3, 0xA9] + Array(#"":"1","e"#.utf8) + [0xCC, 0x81]
            + Array(#"":"2"}}"#.utf8)
        let error = #expect(throws: SafeTensorsError.self) {
            try SafeTensors.decode(handmadeFile(headerBytes: header), source: "nfc")
        }
        guard case .invalidMetadata(_, let key, let reason)? = error else {
            Issue.record("expected invalidMetadata, got \(String(describing: error))")
            return
        }
        #expect(key?.unicodeScalars.map(\.value) == [0x65, 0x301] && reason == "the key appears twice")
    }

    @Test("distinct names decode, and lookups also go by canonical equivalence")
    func distinctNamesStillDecode() throws {
        // The same two tensors under distinct names (é and f): both decode, in header order.
        let header = Array(#"{""#.utf8) + [0xC3, 0xA9] + Array(#"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"f":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#.utf8)
        let file = try SafeTensors.decode(handmadeFile(headerBytes: header, buffer: [1, 2]), source: "ok")
        #expect(file.names == ["\u{E9}", "f"])
        #expect(try file.requireTensor("e\u{301}").values(as: UInt8.self) == [1])  // looked up by equivalence
    }
}

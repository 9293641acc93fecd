import Files
import Foundation
import Linalg
import Testing
@testable import ModelFiles

@Suite("safetensors files: reading, atomic writing, caller checks")
struct SafeTensorsFileTests {
    static func sample() -> SafeTensors {
        var file = SafeTensors(metadata: ["format_version": "1", "note": "ünïcode"])
        file["layers.0.weight"] = Tensor(Matrix(rows: 4, columns: 3, elements: (0..<12).map { Float($0) / 4 }))
        file["layers.0.bias"] = Tensor([Float(0.5), -0.5, 1])
        return file
    }

    @Test("write then read gives the same content; the source is the path")
    func roundTrip() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("model.safetensors")
        let file = Self.sample()
        try file.write(to: path)
        let back = try SafeTensors.read(from: path)
        #expect(back == file)
        #expect(back.source == path)
        #expect(try Array(Data(contentsOf: URL(fileURLWithPath: path))) == file.encode())
        #expect(try folder.contents() == ["model.safetensors"])  // no temporary file left
        // Overwriting replaces the content.
        var smaller = SafeTensors()
        smaller["x"] = Tensor([Float(1)])
        try smaller.write(to: path)
        #expect(try SafeTensors.read(from: path) == smaller)
        #expect(try folder.contents() == ["model.safetensors"])
    }

    @Test("a model-sized file (784-500-500-2000-10 weights and biases) round trips exactly")
    func modelSized() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        var generator = Xoshiro256StarStar(seed: 7)
        var file = SafeTensors(metadata: ["format_version": "1"])
        let sizes = [784, 500, 500, 2000, 10]
        for layer in 0..<4 {
            let w = Matrix.normal(rows: sizes[layer], columns: sizes[layer + 1], mean: 0, standardDeviation: 0.1, using: &generator)
            file["layers.\(layer).weight"] = Tensor(w)
            file["layers.\(layer).bias"] = Tensor(w.row(0))
        }
        let path = folder.file("dbn.safetensors")
        try file.write(to: path)
        let back = try SafeTensors.read(from: path)
        #expect(back == file)
        for layer in 0..<4 {
            let w = try back.requireMatrix("layers.\(layer).weight", rows: sizes[layer], columns: sizes[layer + 1])
            #expect(w == (try file["layers.\(layer).weight"]?.matrix()))
        }
    }

    @Test("a bare file name writes in the current folder's sense (no slash)")
    func pathSplitting() {
        #expect(FileIO.split("model.safetensors") == (".", "model.safetensors"))
        #expect(FileIO.split("/model.safetensors") == ("/", "model.safetensors"))
        #expect(FileIO.split("a/b/c.png") == ("a/b", "c.png"))
        #expect(FileIO.split("a/b/") == ("a/b", ""))
    }

    @Test("reading: missing file, folder, special file")
    func readErrors() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let missing = folder.file("missing.safetensors")
        #expect(throws: SafeTensorsError.fileNotFound(file: missing)) { try SafeTensors.read(from: missing) }
        #expect(throws: SafeTensorsError.notAFile(file: folder.path, found: "a folder")) { try SafeTensors.read(from: folder.path) }
        let fifo = folder.file("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        // Must not block waiting for a writer.
        #expect(throws: SafeTensorsError.notAFile(file: fifo, found: "a special file (not a regular file)")) {
            try SafeTensors.read(from: fifo)
        }
        #expect(SafeTensorsError.fileNotFound(file: "m.safetensors").description == "m.safetensors: no such file")
        // A bad file's errors name the path.
        let bad = folder.file("bad.safetensors")
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: bad))
        #expect(throws: SafeTensorsError.fileTooShort(file: bad, size: 3)) { try SafeTensors.read(from: bad) }
    }

    @Test("reading an unreadable file", .enabled(if: getuid() != 0, "root can read any file"))
    func unreadable() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("locked.safetensors")
        try Self.sample().write(to: path)
        #expect(chmod(path, 0) == 0)
        #expect(throws: SafeTensorsError.self) { try SafeTensors.read(from: path) }
    }

    @Test("an encoding error leaves the old file untouched and writes nothing")
    func encodeErrorKeepsOldFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("model.safetensors")
        try Self.sample().write(to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        var bad = Self.sample()
        bad["__metadata__"] = Tensor([Float(1)])
        #expect(throws: SafeTensorsError.cannotEncode(file: path, reason: "a tensor is named '__metadata__', which the format reserves for metadata")) {
            try bad.write(to: path)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try folder.contents() == ["model.safetensors"])
    }

    @Test("a failing rename (target is a folder) removes the temporary file and keeps the folder")
    func renameFailureCleansUp() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let target = folder.file("occupied")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        try Data([42]).write(to: URL(fileURLWithPath: target + "/keep"))
        let error = #expect(throws: SafeTensorsError.self) { try Self.sample().write(to: target) }
        guard case .writeFailed(let file, let reason) = error else { Issue.record("expected writeFailed"); return }
        #expect(file == target)
        #expect(reason.hasPrefix("cannot replace the file"))
        #expect(try folder.contents() == ["occupied"])  // the temporary file is gone
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["keep"])
    }

    @Test("writing into a missing folder fails with a clear error")
    func missingFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("no/such/folder/model.safetensors")
        let error = #expect(throws: SafeTensorsError.self) { try Self.sample().write(to: path) }
        #expect(error?.description.hasPrefix("\(path): cannot write the file: cannot create a temporary file in ") == true)
        #expect(try folder.contents() == [])
    }

    @Test("writing into a read-only folder keeps the old file", .enabled(if: getuid() != 0, "root ignores permissions"))
    func readOnlyFolder() throws {
        let folder = try TemporaryFolder()
        defer { _ = chmod(folder.path, 0o755); folder.cleanup() }
        let path = folder.file("model.safetensors")
        try Self.sample().write(to: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(chmod(folder.path, 0o555) == 0)
        #expect(throws: SafeTensorsError.self) { try SafeTensors().write(to: path) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try folder.contents() == ["model.safetensors"])
    }

    @Test("requireTensor / requireMatrix / requireVector: values and clear errors")
    func requirements() throws {
        var file = Self.sample()
        file.source = "model.safetensors"
        let w = try file.requireMatrix("layers.0.weight", rows: 4, columns: 3)
        #expect(w[3, 2] == 11.0 / 4)
        #expect(try file.requireVector("layers.0.bias", count: 3) == [0.5, -0.5, 1])
        #expect(try file.requireTensor("layers.0.bias").shape == [3])

        var big = SafeTensors(source: "model.safetensors")
        big["layers.0.weight"] = Tensor(dtype: .f32, shape: [784, 500], bytes: [UInt8](repeating: 0, count: 784 * 500 * 4))
        let mismatch = #expect(throws: SafeTensorsError.self) { try big.requireTensor("layers.0.weight", shape: [784, 300]) }
        #expect(mismatch?.description == "model.safetensors: tensor 'layers.0.weight' has shape [784, 500], expected [784, 300]")

        let missing = #expect(throws: SafeTensorsError.self) { try file.requireMatrix("layers.1.weight", rows: 3, columns: 2) }
        #expect(missing?.description == "model.safetensors: no tensor 'layers.1.weight' (the file has 2: 'layers.0.weight', 'layers.0.bias')")
        #expect(SafeTensorsError.missingTensor(file: "f", name: "x", available: []).description == "f: no tensor 'x' (the file has no tensors)")

        file["complex"] = Tensor(dtype: .c64, shape: [2], bytes: [UInt8](repeating: 0, count: 16))
        let unreadable = #expect(throws: SafeTensorsError.self) { try file.requireVector("complex", count: 2) }
        #expect(unreadable?.description == "model.safetensors: tensor 'complex': dtype C64 cannot be read as Float")
    }

    @Test("format version: accepted, newer, malformed, missing")
    func formatVersion() throws {
        var file = SafeTensors(metadata: ["format_version": "2"], source: "model.safetensors")
        #expect(try file.requireFormatVersion(readsUpTo: 2) == 2)
        #expect(try file.requireFormatVersion(readsUpTo: 5) == 2)
        let newer = #expect(throws: SafeTensorsError.self) { try file.requireFormatVersion(readsUpTo: 1) }
        #expect(newer?.description == "model.safetensors: written by a newer version (2); this build reads up to 1")
        for bad in ["", "2.0", "-1", " 2", "two", "99999999999999999999"] {
            file.metadata["format_version"] = bad
            #expect(throws: SafeTensorsError.invalidMetadataValue(file: "model.safetensors", key: "format_version", value: bad, expected: "a non-negative integer")) {
                try file.requireFormatVersion(readsUpTo: 3)
            }
        }
        file.metadata = [:]
        #expect(throws: SafeTensorsError.missingMetadata(file: "model.safetensors", key: "format_version")) {
            try file.requireFormatVersion(readsUpTo: 3)
        }
        file.metadata["dbn_version"] = "1"
        #expect(try file.requireFormatVersion(key: "dbn_version", readsUpTo: 1) == 1)
    }

    @Test("error descriptions are single lines even for hostile names")
    func hostileNames() {
        let name = "evil\nname\r\t'" + String(repeating: "x", count: 500)
        let text = SafeTensorsError.duplicateTensorName(file: "f", name: name).description
        #expect(!text.contains("\n") && !text.contains("\r"))
        #expect(text.count < 200)
        #expect(text.hasPrefix(#"f: the tensor name 'evil\nname\r\t\'xxx"#))
    }
}

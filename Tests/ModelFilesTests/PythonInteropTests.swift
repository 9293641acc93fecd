import Foundation
import Linalg
import Testing
@testable import ModelFiles

/// Round trips with Python's reference `safetensors` package (scripts/interop/check_safetensors.py);
/// CI installs it with `pip install safetensors numpy`.
let pythonSafetensors = PythonCheck(importing: "safetensors, numpy", script: "check_safetensors.py")

@Suite("interop with Python's safetensors", .enabled(if: pythonSafetensors.shouldRun,
                                                      "python3 with safetensors and numpy is not installed"))
struct PythonInteropTests {
    /// Fails clearly (in CI) when the Python package is missing.
    func requirePython() throws {
        try #require(pythonSafetensors.available, "CI requires Python's safetensors and numpy: pip install safetensors numpy")
    }

    /// The expected-values JSON the script reads, for `file`'s tensors.
    func expectation(for file: SafeTensors, byteExact: Bool) throws -> Data {
        var tensors: [String: Any] = [:]
        for (name, tensor) in file.tensors {
            let values: [Any] = tensor.dtype == .i64
                ? try tensor.values(as: Int64.self).map { NSNumber(value: $0) }
                : try tensor.floats().map { Double($0) }
            tensors[name] = ["dtype": tensor.dtype.rawValue, "shape": tensor.shape, "values": values]
        }
        let object: [String: Any] = ["tensors": tensors, "metadata": file.metadata, "byte_exact": byteExact]
        return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// A file with many dtypes; values are multiples of 1/8 (exact in every float type).
    static func swiftSample(metadata: [String: String], bfloat: Bool) -> SafeTensors {
        var file = SafeTensors(metadata: metadata)
        file["weights"] = Tensor(Matrix(rows: 3, columns: 4, elements: (0..<12).map { Float($0) / 8 - 0.75 }))
        file["bias"] = Tensor([Float(0.5), -1, 2])
        file["float64"] = Tensor((0..<5).map { Double($0) * 0.125 - 0.25 }, shape: [5])
        file["float16"] = Tensor(float16: [1, -2, 0.375, 65504, 0, -0.125], shape: [2, 3])
        file["int64"] = Tensor([Int64(-3), 1 << 40, 7], shape: [3])
        file["int32"] = Tensor([Int32(-70000), 5], shape: [2])
        file["int16"] = Tensor([Int16(-300), 301], shape: [2])
        file["int8"] = Tensor([Int8(-128), 127], shape: [2])
        file["uint8"] = Tensor((0..<8).map { UInt8($0 * 31) }, shape: [2, 2, 2])
        file["bool"] = Tensor([true, false, true], shape: [3])
        file["scalar"] = Tensor([Float(2.5)], shape: [])
        file["empty"] = Tensor([Float](), shape: [0, 4])
        file["names.äöü"] = Tensor([Float(1)])
        if bfloat { file["bfloat16"] = Tensor(bfloat16: [1, -2.5, 0.125], shape: [3]) }
        return file
    }

    @Test("Swift writes, Python reads (numpy, safe_open, deserialize, torch if installed)")
    func swiftToPython() throws {
        try requirePython()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let metadata = ["format_version": "1", "comment": "Grüße, 世界 🧠 \"q\" \\ / \n\ttab\u{01}", "framework": "deepbelief"]
        let file = Self.swiftSample(metadata: metadata, bfloat: true)
        try file.write(to: folder.file("swift.safetensors"))
        try expectation(for: file, byteExact: false).write(to: URL(fileURLWithPath: folder.file("swift.json")))
        let result = try run(["python3", pythonSafetensors.script, "check", folder.file("swift.safetensors"), folder.file("swift.json")])
        print("python check (\(String(format: "%.2f", result.seconds)) s): \(result.output)\(result.error)")
        #expect(result.status == 0, "\(result.output)\(result.error)")
        // CI installs PyTorch too: there the file must also load with safetensors.torch.
        if runningInCI {
            #expect(result.output.contains("torch") && result.output.contains("checked"),
                    "CI requires PyTorch (pip install torch==2.13.0+cpu): \(result.output)")
        }
    }

    @Test("Swift's bytes equal what Python's writer produces for the same arrays")
    func byteExact() throws {
        try requirePython()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        // At most one metadata entry: the reference writes several in hash-map order.
        let file = Self.swiftSample(metadata: ["comment": "Grüße \"🧠\"\n"], bfloat: false)
        try file.write(to: folder.file("exact.safetensors"))
        try expectation(for: file, byteExact: true).write(to: URL(fileURLWithPath: folder.file("exact.json")))
        let result = try run(["python3", pythonSafetensors.script, "check", folder.file("exact.safetensors"), folder.file("exact.json")])
        #expect(result.status == 0, "\(result.output)\(result.error)")
        #expect(result.output.contains("identical bytes"))
    }

    @Test("Python writes, Swift reads: every dtype, values, metadata")
    func pythonToSwift() throws {
        try requirePython()
        let folder = try TemporaryFolder()
        defer { folder.cleanup() }
        let path = folder.file("python.safetensors")
        let result = try run(["python3", pythonSafetensors.script, "write", path, folder.file("python.json")])
        print("python write (\(String(format: "%.2f", result.seconds)) s): \(result.output)\(result.error)")
        try #require(result.status == 0, "\(result.output)\(result.error)")

        let file = try SafeTensors.read(from: path)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.file("python.json"))))
        let expected = try #require(json as? [String: Any])
        let tensors = try #require(expected["tensors"] as? [String: [String: Any]])
        #expect(Set(file.names) == Set(tensors.keys))
        for (name, spec) in tensors {
            let tensor = try #require(file[name], "missing \(name)")
            #expect(tensor.dtype.rawValue == spec["dtype"] as? String, "\(name)")
            #expect(tensor.shape == spec["shape"] as? [Int], "\(name)")
            let values = try #require(spec["values"] as? [NSNumber])
            if tensor.dtype == .f64 {
                #expect(try tensor.values(as: Double.self) == values.map(\.doubleValue), "\(name)")
            } else if tensor.dtype == .i64 {
                #expect(try tensor.values(as: Int64.self) == values.map(\.int64Value), "\(name)")
            } else {
                #expect(try tensor.floats() == values.map { Float($0.doubleValue) }, "\(name)")
            }
        }
        #expect(file.metadata == expected["metadata"] as? [String: String])

        // Independent of the JSON: the patterns the script documents.
        #expect(try file.requireMatrix("float32.matrix", rows: 3, columns: 4).elements == (0..<12).map { Float($0) * 0.25 - 1.5 })
        #expect(try file.requireTensor("float64.vector").values(as: Double.self) == (0..<5).map { Double($0) / 3 })
        #expect(try file.requireTensor("float16.grid", shape: [2, 3]).floats() == (0..<6).map { Float($0) * 0.125 - 0.25 })
        #expect(try file.requireTensor("int64.ids").values(as: Int64.self) == (0..<4).map { Int64($0) * 1_000_000_007 - 2 })
        #expect(try file.requireTensor("uint8.pixels", shape: [2, 2, 2]).values(as: UInt8.self) == (0..<8).map { UInt8($0 * 31) })
        #expect(try file.requireTensor("bool.mask").values(as: Bool.self) == [true, false, false, true])
        #expect(file["scalar"]?.shape == [])
        #expect(file.metadata["comment"] == "Grüße, 世界 🧠 \"quoted\" \\ / \n\ttab")
        #expect(try file.requireFormatVersion(readsUpTo: 1) == 1)

        // Swift re-encodes to a file Python's reader accepts with the same content.
        try file.write(to: folder.file("again.safetensors"))
        let again = try run(["python3", pythonSafetensors.script, "check", folder.file("again.safetensors"), folder.file("python.json")])
        #expect(again.status == 0, "\(again.output)\(again.error)")
    }
}

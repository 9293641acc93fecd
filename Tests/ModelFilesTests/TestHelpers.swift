import Foundation
@testable import ModelFiles

/// A fresh empty folder under the system's temporary folder; removed by `cleanup()`.
struct TemporaryFolder {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/modelfiles-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// The names in the folder, sorted (hidden temporary files included).
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A safetensors file built by hand: the 8-byte length of `header` (or `length` if given),
/// the header's UTF-8 bytes, then `buffer`.
func handmadeFile(header: String, buffer: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    handmadeFile(headerBytes: Array(header.utf8), buffer: buffer, length: length)
}

func handmadeFile(headerBytes: [UInt8], buffer: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    let n = length ?? UInt64(headerBytes.count)
    var bytes = (0..<8).map { UInt8(truncatingIfNeeded: n >> UInt64(8 * $0)) }
    bytes += headerBytes
    bytes += buffer
    return bytes
}

/// Little-endian bytes of `values`.
func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> UInt32(8 * $0)) } }
}

/// The result of running a program.
struct ProcessResult {
    let status: Int32
    let output: String
    let error: String
    let seconds: Double
}

/// Runs `arguments[0]` (looked up on PATH) with the rest as arguments, waiting for the end.
func run(_ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let outputPipe = Pipe(), errorPipe = Pipe()
    process.standardOutput = outputPipe
    process.standardError = errorPipe
    let start = Date()
    try process.run()
    // Read before waiting, so that a full pipe cannot block the child.
    let output = outputPipe.fileHandleForReading.readDataToEndOfFile()
    let error = errorPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus,
                         output: String(decoding: output, as: UTF8.self),
                         error: String(decoding: error, as: UTF8.self),
                         seconds: Date().timeIntervalSince(start))
}

/// Whether `python3 -c code` runs and exits 0.
func pythonSucceeds(_ code: String) -> Bool {
    (try? run(["python3", "-c", code]))?.status == 0
}

/// The repository's root folder, found from this source file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }  // TestHelpers.swift, ModelFilesTests, Tests
    return url.path
}()

/// Whether this run is in CI (CI=true), where optional interop checks become required.
let runningInCI = ProcessInfo.processInfo.environment["CI"].map { ["true", "1"].contains($0.lowercased()) } ?? false

/// A check script in scripts/interop and the Python import it needs. It runs when the import
/// works; in CI (CI=true) always, so that a missing package fails the run instead of silently
/// skipping (scripts/setup.sh installs the packages).
struct PythonCheck: Sendable {
    let available: Bool
    let script: String
    var shouldRun: Bool { available || runningInCI }

    init(importing modules: String, script name: String) {
        available = pythonSucceeds("import " + modules)
        script = repositoryRoot + "/scripts/interop/" + name
    }
}

import Foundation
import Zlib
@testable import IDX

/// A fresh temporary folder for one test; `remove()` deletes it.
struct TemporaryFolder {
    let path: String

    init() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("idx-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        path = url.path
    }

    /// The path of `name` inside the folder.
    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` and returns its path.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let target = file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: target))
        return target
    }

    /// Names in the folder.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// An IDX header built by hand (independent of `IDXFile.encode`): 0, 0, type, rank, then each
/// dimension as 4 big-endian bytes.
func idxHeader(type: UInt8, shape: [UInt32]) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, type, UInt8(shape.count)]
    for size in shape {
        bytes += [UInt8(size >> 24), UInt8((size >> 16) & 0xFF), UInt8((size >> 8) & 0xFF), UInt8(size & 0xFF)]
    }
    return bytes
}

/// A u8 IDX file content built by hand.
func idxU8(shape: [Int], values: [UInt8]) -> [UInt8] {
    precondition(shape.reduce(1, *) == values.count)
    return idxHeader(type: 0x08, shape: shape.map { UInt32($0) }) + values
}

/// The error `body` throws, or nil.
func caught<T>(_ body: () throws(IDXError) -> T) -> IDXError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// The package root, found from this file's path (Tests/IDXTests/Fixtures.swift).
let packageRoot: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Whether the heavy tests on the full data set are enabled.
let fullTestsEnabled = ProcessInfo.processInfo.environment["DBN_FULL_TESTS"] == "1"

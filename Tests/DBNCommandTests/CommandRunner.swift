import Foundation
import Testing

/// What one run of the built `dbn` executable produced.
struct CommandResult: CustomStringConvertible {
    let arguments: [String]
    let status: Int32
    let stdout: String
    let stderr: String

    /// The last non-empty line of stdout (where `--json` puts its object).
    var lastLine: String {
        stdout.split(separator: "\n", omittingEmptySubsequences: true).last.map(String.init) ?? ""
    }

    /// The last stdout line parsed as a JSON object.
    func json() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(lastLine.utf8))
        return try #require(object as? [String: Any], "last stdout line is not a JSON object: \(lastLine)")
    }

    /// The non-empty lines of stderr.
    var stderrLines: [String] {
        stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    var description: String {
        "dbn \(arguments.joined(separator: " ")) -> status \(status)\n--- stdout:\n\(stdout)--- stderr:\n\(stderr)"
    }
}

/// Runs the `dbn` executable that `swift build` put in `<package root>/.build/debug/dbn`.
enum DBNExecutable {
    /// The package root, three folders above this file (Tests/DBNCommandTests/CommandRunner.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The path of the debug build of `dbn`.
    static let path = packageRoot.appendingPathComponent(".build/debug/dbn").path

    /// Runs `dbn arguments` in `folder` and collects its exit status and output.
    static func run(_ arguments: [String], in folder: String? = nil) throws -> CommandResult {
        try #require(FileManager.default.isExecutableFile(atPath: path),
                     "the dbn executable is missing at \(path): run `swift build` before `swift test`")
        return try runProcess(path, arguments, in: folder)
    }

    /// Runs `executable arguments` in `folder` (with one BLAS thread) and collects its exit
    /// status and output.
    static func runProcess(_ executable: String, _ arguments: [String], in folder: String? = nil) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Read both pipes to their end before waiting, stderr on another thread, so that
        // neither can fill up and block the child.
        let stderrBox = DataBox()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            stderrBox.data = err.fileHandleForReading.readDataToEndOfFile()
        }
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandResult(arguments: arguments, status: process.terminationStatus,
                             stdout: String(decoding: stdoutData, as: UTF8.self),
                             stderr: String(decoding: stderrBox.data, as: UTF8.self))
    }
}

/// Bytes handed from the reading thread to the waiting one (the group's wait orders them).
private final class DataBox: @unchecked Sendable {
    var data = Data()
}

/// Checks that a failed run printed one clear line on stderr that names `file`, and no crash
/// report (no "Fatal error", no stack trace).
func expectCleanFailure(_ result: CommandResult, naming file: String, containing text: String? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status != 0, "expected a failure: \(result)", sourceLocation: sourceLocation)
    #expect(result.stderrLines.count == 1, "expected one line on stderr: \(result)", sourceLocation: sourceLocation)
    let line = result.stderrLines.first ?? ""
    #expect(line.hasPrefix("Error: "), "\(result)", sourceLocation: sourceLocation)
    #expect(line.contains(file), "stderr does not name \(file): \(result)", sourceLocation: sourceLocation)
    if let text { #expect(line.contains(text), "stderr lacks '\(text)': \(result)", sourceLocation: sourceLocation) }
    for crash in ["Fatal error", "Stack dump", "stack trace", "Backtrace", "Precondition failed"] {
        #expect(!result.stderr.contains(crash), "crash report on stderr: \(result)", sourceLocation: sourceLocation)
    }
}

/// The width and height in a PNG's IHDR chunk (nil if the bytes are not a PNG).
func pngSize(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    guard bytes.count >= 24, Array(bytes[0..<8]) == signature, Array(bytes[12..<16]) == Array("IHDR".utf8) else {
        return nil
    }
    func be32(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
    return (be32(16), be32(20))
}

/// The bytes of the file at `path` (empty if it cannot be read).
func fileBytes(_ path: String) -> [UInt8] {
    (FileManager.default.contents(atPath: path)).map { [UInt8]($0) } ?? []
}

extension DBNExecutable {
    /// Starts `dbn arguments` in `folder` without waiting (output discarded unless finished
    /// with `finish`), with this process's environment plus `environment`.
    static func start(_ arguments: [String], in folder: String, environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits for a process from `start` and collects its status and stderr.
    static func finish(_ process: Process) -> CommandResult {
        let data = (process.standardError as? Pipe)?.fileHandleForReading.readDataToEndOfFile() ?? Data()
        process.waitUntilExit()
        return CommandResult(arguments: process.arguments ?? [], status: process.terminationStatus, stdout: "",
                             stderr: String(decoding: data, as: UTF8.self))
    }
}

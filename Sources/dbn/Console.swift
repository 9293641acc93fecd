import Foundation

/// Output conventions shared by every subcommand: results for people on stdout, progress on
/// stderr when it is a terminal, `--json` as the last line of stdout.
struct Console {
    var quiet: Bool
    var json: Bool

    /// A line for people (suppressed by `--quiet`).
    func say(_ line: String) {
        guard !quiet else { return }
        print(line)
        fflush(nil)
    }

    /// Prints `value` as one JSON line on stdout (keys in snake_case, sorted) when `--json` is set.
    func emitJSON<T: Encodable>(_ value: T) throws {
        guard json else { return }
        print(try JSONLine.encode(value))
        fflush(nil)
    }

    /// Whether stderr is an interactive terminal (progress bars only then).
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}

/// JSON encoding used for `--json` and `--log` records.
enum JSONLine {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

/// Appends one JSON record per line to a `--log` file.
final class JSONLogWriter {
    private let handle: FileHandle
    let path: String

    init(path: String) throws {
        self.path = path
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CLIError("\(path): cannot create the log file (check that the folder exists and is writable)")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw CLIError("\(path): cannot open the log file for writing")
        }
        self.handle = handle
    }

    func write<T: Encodable>(_ record: T) throws {
        let line = try JSONLine.encode(record) + "\n"
        handle.write(Data(line.utf8))
    }

    deinit { try? handle.close() }
}

/// A one-line error for the user (printed by ArgumentParser as `Error: <message>`).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// A progress bar on stderr for terminals: `epoch 3/10 [=====>    ] 52% 1234 img/s ETA 4s`.
struct ProgressBar {
    let label: String
    let total: Int
    let enabled: Bool
    private let start = Date()

    init(label: String, total: Int, enabled: Bool) {
        self.label = label
        self.total = max(total, 1)
        self.enabled = enabled
    }

    func update(done: Int) {
        guard enabled else { return }
        let fraction = Double(done) / Double(total)
        let width = 30
        let filled = Int(fraction * Double(width))
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Double(total - done) / rate : 0
        let bar = String(repeating: "=", count: filled) + (filled < width ? ">" : "")
            + String(repeating: " ", count: max(0, width - filled - 1))
        let line = "\r\(label) [\(bar)] \(Int(fraction * 100))% \(Int(rate)) samples/s ETA \(Int(eta.rounded()))s "
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

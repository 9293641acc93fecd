import DeepBelief
import Foundation

/// Output conventions shared by every subcommand: results for people on stdout, progress on
/// stderr when it is a terminal, `--json` as the last line of stdout.
struct Console {
    var quiet: Bool
    var json: Bool

    /// A line for people (suppressed by `--quiet`).
    func say(_ line: String) {
        guard !quiet else { return }
        print(Self.sanitized(line, limit: 2000))
        Self.flushStandardOutput()
    }

    /// Prints `value` as one JSON line on stdout (keys in snake_case, sorted) when `--json` is set.
    func emitJSON<T: Encodable>(_ value: T) throws {
        guard json else { return }
        print(try JSONLine.encode(value))
        Self.flushStandardOutput()
    }

    /// `text` safe for a terminal: control characters (escape sequences, carriage returns, NUL)
    /// written as `\u{1B}`; with `limit`, a longer text is cut there and its length given.
    static func sanitized(_ text: String, limit: Int? = nil) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control && scalar != "\t" {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        guard let limit, out.count > limit else { return out }
        return String(out.prefix(limit)) + "... (cut: \(out.count) characters)"
    }

    /// The system's words for a failed write (e.g. "No space left on device").
    static func reason(_ error: Error) -> String {
        let code = (error as NSError).code
        if (error as NSError).domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(code))) }
        if let posix = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code)))
        }
        return error.localizedDescription
    }

    /// The first error of a write to stdout (0: none): printing goes on, the exit status tells.
    nonisolated(unsafe) private static var standardOutputError: Int32 = 0

    /// Flushes stdout (every C stream: Swift 6 forbids naming `stdout`), remembering the first failure.
    static func flushStandardOutput() {
        if fflush(nil) != 0 && standardOutputError == 0 { standardOutputError = errno }
    }

    /// The first failure of a `--log` write ("PATH: REASON"), reported again when the command ends.
    nonisolated(unsafe) static var lostLog: String?

    /// Flushes stdout and fails when anything written to it was lost (`> /dev/full`, a closed pipe),
    /// or when the `--log` file is incomplete (the results and the model were kept).
    static func finishStandardOutput() throws {
        flushStandardOutput()
        if standardOutputError != 0 {
            throw CLIError("stdout: cannot write the results: \(String(cString: strerror(standardOutputError)))")
        }
        if let lostLog {
            throw CLIError("\(lostLog): the log is incomplete (everything else was written)")
        }
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

/// Appends one JSON record per line to a `--log` file. The file is opened for appending, never
/// truncated: a wrong `--log` (the model, a label file) loses nothing (the destination is
/// checked by `Safeguards.checkDestination` before the data is loaded). A failed write (a full
/// disk) is reported once on stderr and the run goes on: the log is lost, not the model; the
/// command then ends with an error line and a non-zero status (`Console.finishStandardOutput`).
final class JSONLogWriter {
    private let handle: FileHandle
    let path: String
    private var failed = false

    init(path: String) throws {
        self.path = path
        let descriptor = FileIO.writesFiles ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o644)
            : open("/dev/null", O_WRONLY | O_CLOEXEC)  // rank > 0 of an MPI run: rank 0 writes the log
        guard descriptor >= 0 else {
            throw CLIError("\(path): cannot open the log file for writing: \(String(cString: strerror(errno)))")
        }
        self.handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
    }

    func write<T: Encodable>(_ record: T) throws {
        guard !failed else { return }
        let line = try JSONLine.encode(record) + "\n"
        do {
            try handle.write(contentsOf: Data(line.utf8))
        } catch {
            failed = true
            let reason = Console.reason(error)
            Console.lostLog = Console.lostLog ?? "\(path): cannot write the log (\(reason))"
            FileHandle.standardError.write(Data("Warning: \(path): cannot write the log (\(reason)); the run goes on without it\n".utf8))
        }
    }
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

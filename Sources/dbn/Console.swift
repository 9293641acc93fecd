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
        ProgressLine.clear()
        print(Self.sanitized(line, limit: 2000))
        Self.flushStandardOutput()
    }

    /// Prints `value` as one JSON line on stdout (keys in snake_case, sorted) when `--json` is set.
    func emitJSON<T: Encodable>(_ value: T) throws {
        guard json else { return }
        ProgressLine.clear()
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
    /// Whether every process of a data-parallel job throws it at the same point (an agreed
    /// interruption), so that the job can end in order rather than be aborted.
    var everyProcess = false
    init(_ message: String, everyProcess: Bool = false) {
        description = message
        self.everyProcess = everyProcess
    }
}

/// The progress line on stderr. Drawn only when stdout and stderr are both terminals (through a
/// pipe or `| tee` the results would be glued onto it); `Console.say` clears it before printing
/// a result, and the next minibatch draws it again.
enum ProgressLine {
    nonisolated(unsafe) private static var drawn = false

    /// Whether progress lines are drawn at all.
    static func enabled(quiet: Bool) -> Bool { !quiet && isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1 }

    /// The columns to fit: $COLUMNS when set (40...500), else 80; one is kept free so that the
    /// cursor never wraps.
    static var width: Int {
        let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap { Int($0) }.map { min(max($0, 40), 500) }
        return (columns ?? 80) - 1
    }

    static func draw(_ line: String) {
        FileHandle.standardError.write(Data(("\r" + line + "\u{1B}[K").utf8))
        drawn = true
    }

    /// Erases the progress line, if one is drawn.
    static func clear() {
        guard drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        drawn = false
    }
}

/// A progress bar of one phase, advanced after every minibatch:
/// `fine-tuning 3/10 [=====>    ] 42% 5120 img/s loss 0.231 ETA 0:42 all 1:30`.
/// The rate counts images (samples) per second of wall-clock time in this phase (from the end
/// of its first minibatch); the ETA of the
/// phase is its remaining images at that rate, and "all" adds the images of the phases still to
/// come in the command (at the same rate: an estimate).
final class ProgressBar {
    let label: String
    /// Images of the whole phase (epochs x samples, times layers for pre-training).
    let total: Int
    /// Images of the phases after this one in the command.
    let later: Int
    let enabled: Bool
    private var done = 0
    /// When the first minibatch ended (the clock starts there: in compare a run's bar is made
    /// before its pre-training, which has its own bar).
    private var start: Date?
    private var doneAtStart = 0
    private var lastDraw = Date.distantPast

    init(label: String, total: Int, later: Int = 0, enabled: Bool) {
        self.label = label
        self.total = max(total, 1)
        self.later = later
        self.enabled = enabled
    }

    /// Counts a minibatch of `rows` images; redraws at most ten times a second (the epoch's
    /// text is built only then: nothing is formatted for the minibatches in between).
    func advance(rows: Int, loss: Double, epoch: @autoclosure () -> String) {
        done += rows
        guard enabled else { return }
        let now = Date()
        if start == nil { (start, doneAtStart) = (now, done) }  // the rate counts the minibatches after the first
        guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start ?? now)
        ProgressLine.draw(Self.line(label: label, epoch: epoch(), done: done, total: total, later: later,
                                    rate: elapsed > 0 ? Double(done - doneAtStart) / elapsed : 0, loss: loss,
                                    width: ProgressLine.width))
    }

    /// Erases the bar (before the phase's results are printed).
    func finish() { ProgressLine.clear() }

    /// The bar's text, at most `width` characters.
    static func line(label: String, epoch: String, done: Int, total: Int, later: Int, rate: Double, loss: Double,
                     width: Int) -> String {
        let fraction = min(1, Double(done) / Double(max(total, 1)))
        let eta = rate > 0 ? Double(max(total - done, 0)) / rate : nil
        let all = rate > 0 && later > 0 ? Double(max(total - done, 0) + later) / rate : nil
        let lossText = loss.isFinite ? String(format: "%.4g", loss) : "\(loss)"
        let tail = String(format: " %3d%% ", Int(fraction * 100)) + "\(Int(rate.rounded())) img/s loss \(lossText) ETA \(clock(eta))"
            + (all.map { " all \(clock($0))" } ?? "")
        var head = "\(label) \(epoch) "
        let barRoom = width - head.count - tail.count - 2
        if barRoom < 8 {
            // Too narrow for a bar: drop it, then cut the label (never the epoch).
            let kept = max(0, width - tail.count - epoch.count - 1)
            head = label.count <= kept ? label : String(label.prefix(max(0, kept - 1))) + "~"
            return String((head + " " + epoch + tail).prefix(width))
        }
        let barWidth = min(barRoom, 30)
        let filled = Int(fraction * Double(barWidth))
        let bar = String(repeating: "=", count: filled) + (filled < barWidth ? ">" : "")
            + String(repeating: " ", count: max(0, barWidth - filled - 1))
        return head + "[" + bar + "]" + tail
    }

    /// Seconds as m:ss or h:mm:ss ("-" when unknown).
    static func clock(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds < 1e7 else { return "-" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String(format: "%d:%02d", s / 60, s % 60)
    }
}

import ArgumentParser
import DeepBelief
import Foundation

/// Checks made before the first minute of work: where results go, and whether what the options
/// ask for fits in memory.
enum Safeguards {
    /// Refuses `path` as the destination of `flag` unless its folder exists and is writable and
    /// the path is not a symlink, a device, a FIFO, a folder, or one of `inputs` (the files the
    /// same run reads; a data folder counts with all its files).
    static func checkDestination(_ path: String, flag: String, inputs: [String]) throws {
        if path.isEmpty { throw ValidationError("\(flag) must name a file") }
        let folder = (path as NSString).deletingLastPathComponent
        let parent = folder.isEmpty ? "." : folder
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isFolder), isFolder.boolValue else {
            throw CLIError("\(path): \(flag) is in a folder that does not exist (\(parent))")
        }
        guard access(parent, W_OK) == 0 else {
            throw CLIError("\(path): \(flag) is in a folder that is not writable (\(parent))")
        }
        var info = stat()
        guard lstat(path, &info) == 0 else { return }  // a new file
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFLNK: throw CLIError("\(path): \(flag) is a symlink; give the path of a regular file")
        case S_IFDIR: throw CLIError("\(path): \(flag) is a folder, expected a file")
        case S_IFIFO: throw CLIError("\(path): \(flag) is a FIFO; give the path of a regular file")
        default: throw CLIError("\(path): \(flag) is a device; give the path of a regular file")
        }
        for input in inputFiles(inputs) {
            var other = stat()
            if stat(input, &other) == 0, other.st_dev == info.st_dev, other.st_ino == info.st_ino {
                throw CLIError("\(path): \(flag) is an input of this run (\(input)); give another file")
            }
        }
    }

    /// `inputs` with every data folder replaced by the IDX files the loader looks for in it
    /// (a model saved beside the data may be replaced).
    private static func inputFiles(_ inputs: [String]) -> [String] {
        inputs.flatMap { input -> [String] in
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: input, isDirectory: &isFolder) else { return [] }
            guard isFolder.boolValue else { return [input] }
            return DataFileRole.allCases.flatMap(\.candidateNames).map { (input as NSString).appendingPathComponent($0) }
        }
    }

    /// The product of `factors`, or nil when it overflows Int.
    static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for factor in factors {
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow || factor < 0 { return nil }
            result = next
        }
        return result
    }

    /// The bytes of memory available (MemAvailable of /proc/meminfo), or nil where unknown.
    static func availableBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return kilobytes * 1024
    }

    /// Refuses `option` when the sum of the `arrays` (each a list of dimensions) of `bytesPerElement`
    /// bytes does not fit in Int or in the memory available.
    static func requireMemory(_ arrays: [[Int]], bytesPerElement: Int, option: String) throws {
        var total = 0
        for dims in arrays {
            guard let bytes = product(dims + [bytesPerElement]) else {
                throw ValidationError("\(option) asks for an array of \(dims.map(String.init).joined(separator: " x ")) values, past what a 64-bit size holds")
            }
            let (sum, overflow) = total.addingReportingOverflow(bytes)
            guard !overflow else { throw ValidationError("\(option) asks for more memory than a 64-bit size holds") }
            total = sum
        }
        if let available = availableBytes(), total > available {
            throw ValidationError("\(option) needs about \(gibibytes(total)) of memory, but \(gibibytes(available)) is available")
        }
    }

    private static func gibibytes(_ bytes: Int) -> String {
        String(format: "%.1f GiB", Double(bytes) / Double(1 << 30))
    }

    /// Refuses results that are not finite: each value is named (e.g. "log Z") with what it was
    /// computed from (e.g. "rbm.0.weight"), so that an overflow is an error, not a number.
    static func requireFinite(_ values: [(name: String, value: Double)], file: String, source: String) throws {
        if let bad = values.first(where: { !$0.value.isFinite }) {
            throw CLIError("\(file): the \(bad.name) is \(bad.value.isNaN ? "NaN" : "\(bad.value)"), not a finite number: \(source) overflowed Float arithmetic (weights too large)")
        }
    }
}

import DeepBelief
import Foundation

/// The tool's version for provenance records: the package version, and when the executable was
/// built inside a git work tree, that tree's `git describe --always --dirty --tags` (read when
/// the command starts, so it names the source as it is now, which a rebuild keeps in step).
enum ToolVersion {
    static let text: String = {
        "dbn \(Provenance.packageVersion)" + (sourceDescription().map { " (source \($0))" } ?? "")
    }()

    /// `git describe` of the package the executable was built in, or nil (no git, not a checkout).
    static func sourceDescription() -> String? {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let fm = FileManager.default
            if fm.fileExists(atPath: folder.appendingPathComponent("Package.swift").path),
               fm.fileExists(atPath: folder.appendingPathComponent(".git").path) {
                return gitDescribe(folder.path)
            }
            folder = folder.deletingLastPathComponent()
        }
        return nil
    }

    private static func gitDescribe(_ folder: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", folder, "describe", "--always", "--dirty", "--tags"]
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_OPTIONAL_LOCKS"] = "0"
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !text.isEmpty ? text : nil
    }
}

extension Provenance {
    /// The data part of a checkpoint's fingerprint: each file's role and SHA-256, so that
    /// `--resume` on other data of the same shape (shifted labels, inverted images) is refused.
    var dataFingerprint: String { dataFiles.map { "\($0.role)=\($0.sha256)" }.joined(separator: ",") }

    /// The provenance of this process's run on `files` with `seeds`.
    static func ofThisRun(files: [DataFileInfo], seeds: [String: UInt64]) throws -> Provenance {
        do {
            return try Provenance(tool: ToolVersion.text, commandLine: CommandLine.arguments, files: files, seeds: seeds)
        } catch {
            throw CLIError("\(error)")
        }
    }
}

extension Provenance {
    /// The form model files carry (see `withoutOutputFlags`).
    var forModelFile: Provenance {
        withoutOutputFlags(options: ["--threads", "--output", "--checkpoint-dir", "--log", "--tensorboard", "--tensorboard-every"],
                           flags: ["--resume", "--json", "--quiet"])
    }
}

/// `value`'s JSON object with a `provenance` member added.
struct WithProvenance<T: Encodable>: Encodable {
    let value: T
    let provenance: Provenance?

    func encode(to encoder: Encoder) throws {
        try value.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(provenance, forKey: .provenance)
    }
    enum Key: String, CodingKey { case provenance }
}

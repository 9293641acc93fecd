import Files
import Foundation
import IDX

/// Where a result came from: the tool's version, the command line, the data files (size and
/// SHA-256 of their bytes as stored) and every seed. Model files, checkpoints, `--json` objects
/// and `--log` files carry it; `dbn inspect` shows it.
public struct Provenance: Codable, Sendable, Equatable {
    /// The version of this package (as in CITATION.cff).
    public static let packageVersion = "0.3.0"

    /// One input file.
    public struct DataFile: Codable, Sendable, Equatable {
        /// What the file is (e.g. "training images").
        public var role: String
        /// The path as given or found.
        public var path: String
        /// Its size in bytes.
        public var bytes: Int
        /// The SHA-256 of its bytes (as stored: a gzipped file's compressed bytes), 64 hex digits.
        public var sha256: String

        public init(role: String, path: String, bytes: Int, sha256: String) {
            self.role = role
            self.path = path
            self.bytes = bytes
            self.sha256 = sha256
        }

        /// Reads `path` to measure and hash it.
        public init(role: String, path: String) throws {
            let content = try FileIO.readAll(path)
            self.init(role: role, path: path, bytes: content.count, sha256: SHA256.hex(content))
        }
    }

    /// The tool and its version, e.g. "dbn 0.3.0 (source v0.3.0-4-g1a2b3c4)".
    public var tool: String
    /// The full command line, one element per argument.
    public var commandLine: [String]
    /// The input files.
    public var dataFiles: [DataFile]
    /// Every seed, by what it seeds (e.g. "seed": the --seed every draw derives from).
    public var seeds: [String: UInt64]

    public init(tool: String, commandLine: [String], dataFiles: [DataFile], seeds: [String: UInt64]) {
        self.tool = tool
        self.commandLine = commandLine
        self.dataFiles = dataFiles
        self.seeds = seeds
    }

    /// The provenance of a run on `files` (as loaded: measured and hashed while they were read;
    /// a file whose info was made by hand is read again to hash it).
    public init(tool: String, commandLine: [String], files: [DataFileInfo], seeds: [String: UInt64]) throws {
        self.init(tool: tool, commandLine: commandLine, dataFiles: try files.map { file in
            file.sha256.isEmpty ? try DataFile(role: file.role.rawValue, path: file.path)
                                : DataFile(role: file.role.rawValue, path: file.path, bytes: file.bytes, sha256: file.sha256)
        }, seeds: seeds)
    }

    /// Metadata keys of model files and checkpoints.
    public enum Key {
        public static let tool = "tool_version"
        public static let commandLine = "command_line"
        public static let dataFiles = "data_files"
        public static let seeds = "seeds"
        public static let all = [tool, commandLine, dataFiles, seeds]
    }

    /// The provenance as safetensors metadata (JSON values for the lists).
    public var metadata: [String: String] {
        [Key.tool: tool, Key.commandLine: ModelArchive.json(commandLine),
         Key.dataFiles: ModelArchive.json(dataFiles), Key.seeds: ModelArchive.json(seeds)]
    }

    /// The provenance stored in `metadata`, or nil when it has none (older files).
    public init?(metadata: [String: String]) {
        guard let tool = metadata[Key.tool] else { return nil }
        func decode<T: Decodable>(_ key: String, _ type: T.Type) -> T? {
            metadata[key].flatMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
        }
        self.init(tool: tool, commandLine: decode(Key.commandLine, [String].self) ?? [],
                  dataFiles: decode(Key.dataFiles, [DataFile].self) ?? [], seeds: decode(Key.seeds, [String: UInt64].self) ?? [:])
    }

    /// The same provenance with the command line cut to what can change a result: without the
    /// `options` (with their values, `--name value` or `--name=value`) and `flags` that only say
    /// where output goes or how fast it is made, and with the executable's folder dropped. Model
    /// files carry this form, so that the same seed and flags give the same bytes with any
    /// `--threads`, `--output` or after `--resume`.
    public func withoutOutputFlags(options: Set<String>, flags: Set<String>) -> Provenance {
        var kept: [String] = []
        var index = commandLine.startIndex
        if index < commandLine.endIndex {
            kept.append(String(commandLine[index].split(separator: "/").last ?? ""))
            index += 1
        }
        while index < commandLine.endIndex {
            let argument = commandLine[index]
            let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if flags.contains(argument) {
                index += 1
            } else if options.contains(argument) {
                index += 2
            } else if argument.contains("="), options.contains(name) {
                index += 1
            } else {
                kept.append(argument)
                index += 1
            }
        }
        var copy = self
        copy.commandLine = kept
        return copy
    }

    /// The command line as one shell-quoted line.
    public var commandText: String {
        commandLine.map { argument in
            let plain = !argument.isEmpty && argument.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_./=:,+@%".unicodeScalars.contains($0))
            }
            return plain ? argument : "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}

import FineTuning
import Foundation
import Linalg
import ModelFiles
import Pretraining

/// A training checkpoint: one safetensors file holding the state of a run after an epoch
/// (weights, optimiser moments, generator states, sample order) and the results of the phases
/// already finished, so that a resumed run ends bit-identical to an uninterrupted one.
///
/// This file is the container (JSON values, stacks, networks, raw arrays); what is stored under
/// which name for the engines' progress and for finished phases is the checkpoint schema, all in
/// Checkpoint+Schema.swift.
///
/// Written atomically (temporary file, then rename): after a crash the file is either the
/// previous complete checkpoint or the new complete one.
public struct Checkpoint: Sendable {
    /// The tensors and metadata.
    public var file: SafeTensors

    /// An empty checkpoint for a run described by `fingerprint` (the settings that must not
    /// change between the run and its resumption, as JSON).
    public init(fingerprint: String) {
        file = SafeTensors(metadata: [ModelArchive.Key.formatVersion: String(ModelArchive.formatVersion),
                                      ModelArchive.Key.kind: "checkpoint", "fingerprint": fingerprint])
    }

    /// Reads a checkpoint and checks that it belongs to the run described by `fingerprint`.
    public static func read(from path: String, fingerprint: String) throws -> Checkpoint {
        let file = try SafeTensors.read(from: path)
        _ = try file.requireFormatVersion(key: ModelArchive.Key.formatVersion, readsUpTo: ModelArchive.formatVersion)
        guard file.metadata[ModelArchive.Key.kind] == "checkpoint" else {
            throw ModelFileError.badMetadata(file: path, key: ModelArchive.Key.kind, found: file.metadata[ModelArchive.Key.kind] ?? "",
                                             expected: "'checkpoint'")
        }
        guard file.metadata["fingerprint"] == fingerprint else {
            throw CheckpointError.differentRun(file: path, saved: file.metadata["fingerprint"] ?? "", current: fingerprint)
        }
        return Checkpoint(file: file)
    }

    init(file: SafeTensors) { self.file = file }

    /// Writes the checkpoint atomically.
    public func write(to path: String) throws { try file.write(to: path) }

    /// The phase the run was in (free-form, e.g. "pretrain", "finetune").
    public var phase: String {
        get { file.metadata["phase"] ?? "" }
        set { file.metadata["phase"] = newValue }
    }

    /// A JSON value stored in the metadata.
    public func value<T: Decodable>(_ key: String, as type: T.Type) throws -> T? {
        guard let raw = file.metadata[key] else { return nil }
        do { return try JSONDecoder().decode(T.self, from: Data(raw.utf8)) } catch {
            throw CheckpointError.corrupt(file: file.source, reason: "metadata '\(key)' is not valid: \(error)")
        }
    }

    /// Stores a JSON value in the metadata.
    public mutating func setValue<T: Encodable>(_ key: String, _ value: T?) {
        file.metadata[key] = value.map { ModelArchive.json($0) }
    }

    /// Removes every tensor and metadata entry whose name starts with `prefix`.
    public mutating func remove(prefix: String) {
        for name in file.names where name.hasPrefix(prefix) { file[name] = nil }
        file.metadata = file.metadata.filter { !$0.key.hasPrefix(prefix) }
    }

    // MARK: Stacks and networks (tensors through ModelArchive, shape as one JSON record)

    /// Stores an RBM stack under `prefix`: its tensors as in a model file, its shape as the
    /// JSON record `PREFIX.shape`.
    public mutating func setStack(_ stack: DeepBeliefNetwork, prefix: String) {
        remove(prefix: prefix + ".")
        ModelArchive.addStack(stack, to: &file, prefix: prefix)
        setValue("\(prefix).shape", ModelArchive.StackShape(stack))
    }

    /// The RBM stack stored under `prefix`, if any.
    public func stack(prefix: String) throws -> DeepBeliefNetwork? {
        guard let shape = try value("\(prefix).shape", as: ModelArchive.StackShape.self) else { return nil }
        let count = shape.sizes.count - 1
        guard count >= 1, shape.visibleUnits.count == count, shape.hiddenUnits.count == count,
              (shape.labelCount ?? 1) >= 1 else {
            throw CheckpointError.corrupt(file: file.source, reason: "stack '\(prefix)' has a bad shape record")
        }
        return try ModelArchive.readStack(file, prefix: prefix, shape: shape, requireFinite: false)
    }

    /// Stores a network under `prefix`: its tensors as in a model file, its shape as the JSON
    /// record `PREFIX.shape`.
    public mutating func setNetwork(_ network: Network, prefix: String) {
        remove(prefix: prefix + ".")
        ModelArchive.addNetwork(network, to: &file, prefix: prefix)
        setValue("\(prefix).shape", ModelArchive.NetworkShape(network))
    }

    /// The network stored under `prefix`, if any.
    public func network(prefix: String) throws -> Network? {
        guard let shape = try value("\(prefix).shape", as: ModelArchive.NetworkShape.self) else { return nil }
        guard shape.sizes.count >= 2 else {
            throw CheckpointError.corrupt(file: file.source, reason: "network '\(prefix)' has a bad shape record")
        }
        let network: Network
        do {
            network = try ModelArchive.readNetwork(file, prefix: prefix, shape: shape, requireFinite: false) { field, found, _ in
                CheckpointError.corrupt(file: file.source, reason: "network '\(prefix)' has an unknown \(field) '\(found)'")
            }
        } catch ModelFileError.inconsistent(_, let reason) {  // e.g. a negative running variance
            throw CheckpointError.corrupt(file: file.source, reason: reason)
        }
        try checkBatchNormalization(of: network, prefix: prefix)
        return network
    }

    // MARK: Raw arrays

    mutating func setFloats(_ name: String, _ values: [Float]) { file[name] = Tensor(values) }
    mutating func setIntegers(_ name: String, _ values: [Int]) { file[name] = Tensor(values.map(Int64.init), shape: [values.count]) }
    mutating func setWords(_ name: String, _ values: [UInt64]) { file[name] = Tensor(values, shape: [values.count]) }

    func floats(_ name: String) throws -> [Float] { try tensor(name).vector() }
    func integers(_ name: String) throws -> [Int] { try tensor(name).values(as: Int64.self).map { Int($0) } }
    func words(_ name: String) throws -> [UInt64] { try tensor(name).values(as: UInt64.self) }

    private func tensor(_ name: String) throws -> Tensor {
        guard let t = file[name] else { throw CheckpointError.corrupt(file: file.source, reason: "tensor '\(name)' is missing") }
        return t
    }
}

/// Errors of checkpoints.
public enum CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The checkpoint was made by a run with other settings.
    case differentRun(file: String, saved: String, current: String)
    /// The checkpoint lacks something it should hold.
    case corrupt(file: String, reason: String)

    public var description: String {
        switch self {
        case let .differentRun(file, saved, current):
            let changes = SettingDifference.list(saved: saved, current: current).map(\.description)
            return "\(file): the checkpoint was made with other settings (\(changes.joined(separator: "; "))); resume with the same flags or remove it"
        case let .corrupt(file, reason): return "\(file): damaged checkpoint: \(reason)"
        }
    }
}

/// One setting whose value differs between the run that made a checkpoint and the run that
/// tries to resume from it: `finetune.learningRate` was `0.5`, is now `0.1`.
public struct SettingDifference: Equatable, Sendable, CustomStringConvertible {
    /// The dotted path of the setting in the fingerprint (e.g. `finetune.learningRate`).
    public var setting: String
    /// The value in the checkpoint, or nil when the setting was absent.
    public var saved: String?
    /// The value of the current run, or nil when the setting is absent.
    public var current: String?

    public init(setting: String, saved: String?, current: String?) {
        self.setting = setting
        self.saved = saved
        self.current = current
    }

    public var description: String {
        "\(setting): \(saved ?? "(none)") in the checkpoint, \(current ?? "(none)") now"
    }

    /// The settings that differ between two fingerprints, sorted by path. A fingerprint is a
    /// JSON object whose values may be JSON objects or strings holding JSON objects (nested
    /// configurations); they are compared leaf by leaf. A fingerprint that is not a JSON object
    /// is one setting named `settings`.
    public static func list(saved: String, current: String) -> [SettingDifference] {
        let old = leaves(saved), new = leaves(current)
        return Set(old.keys).union(new.keys).sorted().compactMap { key in
            old[key] == new[key] ? nil : SettingDifference(setting: key, saved: old[key], current: new[key])
        }
    }

    /// The leaves of a fingerprint, by dotted path.
    public static func leaves(_ text: String) -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return ["settings": text]
        }
        var result: [String: String] = [:]
        func visit(_ value: Any, path: String) {
            if let dictionary = value as? [String: Any] {
                for (key, inner) in dictionary { visit(inner, path: path.isEmpty ? key : path + "." + key) }
            } else if let string = value as? String, string.first == "{",
                      let nested = try? JSONSerialization.jsonObject(with: Data(string.utf8)) as? [String: Any] {
                visit(nested, path: path)
            } else if let string = value as? String {
                result[path] = string
            } else if value is NSNull {
                result[path] = "null"
            } else {
                let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
                result[path] = data.map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
            }
        }
        visit(object, path: "")
        return result
    }
}

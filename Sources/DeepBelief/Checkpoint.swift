import FineTuning
import Foundation
import Linalg
import ModelFiles
import Pretraining

/// A training checkpoint: one safetensors file holding the state of a run after an epoch
/// (weights, optimiser moments, generator states, sample order) and the results of the phases
/// already finished, so that a resumed run ends bit-identical to an uninterrupted one.
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

    // MARK: Stacks and networks

    /// Stores an RBM stack under `prefix`.
    public mutating func setStack(_ stack: DeepBeliefNetwork, prefix: String) {
        remove(prefix: prefix + ".")
        ModelArchive.addStack(stack, to: &file, prefix: prefix)
        setValue("\(prefix).units", stack.layers.map { [$0.visibleUnits.rawValue, $0.hiddenUnits.rawValue] })
    }

    /// The RBM stack stored under `prefix`, if any.
    public func stack(prefix: String) throws -> DeepBeliefNetwork? {
        guard let units = try value("\(prefix).units", as: [[String]].self) else { return nil }
        var layers: [RBM] = []
        for (i, pair) in units.enumerated() {
            guard pair.count == 2, let v = VisibleUnits(rawValue: pair[0]), let h = HiddenUnits(rawValue: pair[1]),
                  let w = file["\(prefix).\(i).weight"], w.shape.count == 2 else {
                throw CheckpointError.corrupt(file: file.source, reason: "RBM \(i) of '\(prefix)' is incomplete")
            }
            layers.append(RBM(weight: try file.requireMatrix("\(prefix).\(i).weight", rows: w.shape[0], columns: w.shape[1]),
                              visibleBias: try file.requireVector("\(prefix).\(i).visible_bias", count: w.shape[0]),
                              hiddenBias: try file.requireVector("\(prefix).\(i).hidden_bias", count: w.shape[1]),
                              visibleUnits: v, hiddenUnits: h))
        }
        return DeepBeliefNetwork(layers: layers)
    }

    /// Stores a network under `prefix`.
    public mutating func setNetwork(_ network: Network, prefix: String) {
        remove(prefix: prefix + ".")
        ModelArchive.addNetwork(network, to: &file, prefix: prefix)
        setValue("\(prefix).shape", NetworkShape(sizes: network.sizes, activation: network.hiddenActivation.name,
                                                 output: network.output.rawValue))
    }

    /// The network stored under `prefix`, if any.
    public func network(prefix: String) throws -> Network? {
        guard let shape = try value("\(prefix).shape", as: NetworkShape.self) else { return nil }
        guard shape.sizes.count >= 2, let activation = Activation(name: shape.activation),
              let output = OutputKind(rawValue: shape.output) else {
            throw CheckpointError.corrupt(file: file.source, reason: "network '\(prefix)' has a bad shape record")
        }
        var layers: [DenseParameters] = []
        for i in 0..<(shape.sizes.count - 1) {
            layers.append(DenseParameters(
                weight: try file.requireMatrix("\(prefix).\(i).weight", rows: shape.sizes[i], columns: shape.sizes[i + 1]),
                bias: try file.requireVector("\(prefix).\(i).bias", count: shape.sizes[i + 1])))
        }
        return Network(layers: layers, hiddenActivation: activation, output: output)
    }

    struct NetworkShape: Codable { var sizes: [Int]; var activation: String; var output: String }

    // MARK: Raw arrays

    mutating func setFloats(_ name: String, _ values: [Float]) { file[name] = Tensor(values) }
    mutating func setIntegers(_ name: String, _ values: [Int]) { file[name] = Tensor(values.map(Int64.init), shape: [values.count]) }
    mutating func setWords(_ name: String, _ values: [UInt64]) { file[name] = Tensor(values, shape: [values.count]) }

    func floats(_ name: String) throws -> [Float] {
        guard let t = file[name] else { throw CheckpointError.corrupt(file: file.source, reason: "tensor '\(name)' is missing") }
        return try t.vector()
    }
    func integers(_ name: String) throws -> [Int] {
        guard let t = file[name] else { throw CheckpointError.corrupt(file: file.source, reason: "tensor '\(name)' is missing") }
        return try t.values(as: Int64.self).map { Int($0) }
    }
    func words(_ name: String) throws -> [UInt64] {
        guard let t = file[name] else { throw CheckpointError.corrupt(file: file.source, reason: "tensor '\(name)' is missing") }
        return try t.values(as: UInt64.self)
    }

    // MARK: Fine-tuning progress

    struct FineTuningScalars: Codable {
        var epoch: Int
        var updateCounts: [Int]
        var stale: Int
        var best: BestScalars?
        var reports: [EpochReport]
        var layerCount: Int
        struct BestScalars: Codable { var epoch: Int; var error: Double; var loss: Double }
    }

    /// Stores fine-tuning progress under `prefix`.
    public mutating func setFineTuningProgress(_ p: FineTuningProgress, prefix: String) {
        remove(prefix: prefix + ".")
        setNetwork(p.network, prefix: "\(prefix).network")
        if let best = p.best { setNetwork(best.network, prefix: "\(prefix).best") }
        for l in 0..<p.network.layers.count {
            setFloats("\(prefix).moment.\(l).weight", p.weightMoments[l])
            setFloats("\(prefix).moment.\(l).bias", p.biasMoments[l])
            setFloats("\(prefix).second_moment.\(l).weight", p.weightSecondMoments[l])
            setFloats("\(prefix).second_moment.\(l).bias", p.biasSecondMoments[l])
        }
        setWords("\(prefix).seed", [p.seed])
        setIntegers("\(prefix).validation", p.validationIndices)
        setValue(prefix, FineTuningScalars(
            epoch: p.epoch, updateCounts: p.updateCounts, stale: p.stale,
            best: p.best.map { .init(epoch: $0.epoch, error: $0.error, loss: $0.loss) }, reports: p.reports,
            layerCount: p.network.layers.count))
    }

    /// The one word stored under `name` (a run's seed).
    private func seed(_ name: String) throws -> UInt64 {
        let stored = try words(name)
        guard stored.count == 1 else {
            throw CheckpointError.corrupt(file: file.source, reason: "'\(name)' holds \(stored.count) words, not 1")
        }
        return stored[0]
    }

    /// The fine-tuning progress stored under `prefix`, if any.
    public func fineTuningProgress(prefix: String) throws -> FineTuningProgress? {
        guard let s = try value(prefix, as: FineTuningScalars.self) else { return nil }
        guard let network = try network(prefix: "\(prefix).network"), network.layers.count == s.layerCount else {
            throw CheckpointError.corrupt(file: file.source, reason: "fine-tuning state '\(prefix)' has no network")
        }
        var best: FineTuningProgress.Best?
        if let b = s.best {
            guard let bestNetwork = try self.network(prefix: "\(prefix).best") else {
                throw CheckpointError.corrupt(file: file.source, reason: "fine-tuning state '\(prefix)' lacks its best network")
            }
            best = .init(epoch: b.epoch, error: b.error, loss: b.loss, network: bestNetwork)
        }
        let layers = 0..<s.layerCount
        return FineTuningProgress(
            epoch: s.epoch, network: network,
            weightMoments: try layers.map { try floats("\(prefix).moment.\($0).weight") },
            biasMoments: try layers.map { try floats("\(prefix).moment.\($0).bias") },
            weightSecondMoments: try layers.map { try floats("\(prefix).second_moment.\($0).weight") },
            biasSecondMoments: try layers.map { try floats("\(prefix).second_moment.\($0).bias") },
            updateCounts: s.updateCounts, seed: try seed("\(prefix).seed"), validationIndices: try integers("\(prefix).validation"),
            best: best, stale: s.stale, reports: s.reports)
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
            "\(file): the checkpoint was made with other settings; resume with the same flags or remove it (saved: \(saved.prefix(300)); now: \(current.prefix(300)))"
        case let .corrupt(file, reason): "\(file): damaged checkpoint: \(reason)"
        }
    }
}

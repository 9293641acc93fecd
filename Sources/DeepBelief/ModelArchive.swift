import FineTuning
import Foundation
import Linalg
import ModelFiles
import Pretraining

/// What a model file holds.
public enum ModelKind: String, Sendable, Codable {
    /// A greedy RBM stack (`rbm.{i}.weight`, `rbm.{i}.visible_bias`, `rbm.{i}.hidden_bias`).
    case rbmStack = "rbm-stack"
    /// A feed-forward network (`layers.{i}.weight`, `layers.{i}.bias`), possibly with the RBM
    /// stack it was fine-tuned from.
    case network
}

/// Errors of model files beyond the safetensors format itself.
public enum ModelFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file does not say (or says wrongly) what it holds.
    case badMetadata(file: String, key: String, found: String, expected: String)
    /// The file holds another kind of model than the command needs.
    case wrongKind(file: String, found: ModelKind, expected: ModelKind)
    /// Tensors do not fit together (e.g. layer 1's input is not layer 0's output).
    case inconsistent(file: String, reason: String)
    /// The model does not fit the data (e.g. 784 inputs for 100-pixel images).
    case dataMismatch(file: String, reason: String)

    public var description: String {
        switch self {
        case let .badMetadata(file, key, found, expected):
            "\(file): metadata '\(key)' is \(found.isEmpty ? "missing" : "'\(found)'"), expected \(expected)"
        case let .wrongKind(file, found, expected):
            "\(file): holds a \(found.rawValue), expected a \(expected.rawValue)"
        case let .inconsistent(file, reason): "\(file): \(reason)"
        case let .dataMismatch(file, reason): "\(file): \(reason)"
        }
    }
}

/// Saving and loading RBM stacks and networks as safetensors files.
///
/// Tensor names are plain (`rbm.0.weight` of shape [visible, hidden], `layers.2.weight` of
/// shape [fan_in, fan_out] — the transpose of `torch.nn.Linear.weight`); `__metadata__` holds
/// the format version, the kind, the layer sizes, unit types, activation, input shape, seed and
/// the training configuration as JSON strings.
public enum ModelArchive {
    /// The format version this build writes and the newest it reads.
    public static let formatVersion = 1

    /// Metadata keys.
    public enum Key {
        public static let formatVersion = "format_version"
        public static let kind = "kind"
        public static let layerSizes = "layer_sizes"
        public static let rbmLayerSizes = "rbm_layer_sizes"
        public static let visibleUnits = "visible_units"
        public static let hiddenUnits = "hidden_units"
        public static let activation = "activation"
        public static let output = "output"
        public static let inputShape = "input_shape"
        public static let seed = "seed"
        public static let initialization = "init"
        public static let pretraining = "pretraining"
        public static let fineTuning = "fine_tuning"
        public static let createdBy = "created_by"
    }

    // MARK: Writing

    /// The named tensors of an RBM stack, with `metadata` merged over the standard keys.
    public static func archive(stack: DeepBeliefNetwork, metadata: [String: String] = [:]) -> SafeTensors {
        var file = SafeTensors(metadata: standardMetadata(kind: .rbmStack).merging(stackMetadata(stack)) { $1 }
            .merging(metadata) { $1 })
        addStack(stack, to: &file)
        return file
    }

    /// The named tensors of a network, with the RBM stack it came from if given.
    public static func archive(network: Network, stack: DeepBeliefNetwork? = nil,
                               metadata: [String: String] = [:]) -> SafeTensors {
        var meta = standardMetadata(kind: .network)
        meta[Key.layerSizes] = json(network.sizes)
        meta[Key.activation] = network.hiddenActivation.name
        meta[Key.output] = network.output.name
        if let stack { meta.merge(stackMetadata(stack).filter { $0.key != Key.layerSizes }) { $1 } }
        if let stack { meta[Key.rbmLayerSizes] = json(stack.layerSizes) }
        var file = SafeTensors(metadata: meta.merging(metadata) { $1 })
        addNetwork(network, to: &file)
        if let stack { addStack(stack, to: &file) }
        return file
    }

    /// Adds a stack's tensors: `PREFIX.{i}.weight` [visible, hidden], `.visible_bias`, `.hidden_bias`.
    static func addStack(_ stack: DeepBeliefNetwork, to file: inout SafeTensors, prefix: String = "rbm") {
        for (i, rbm) in stack.layers.enumerated() {
            file["\(prefix).\(i).weight"] = Tensor(rbm.weight)
            file["\(prefix).\(i).visible_bias"] = Tensor(rbm.visibleBias)
            file["\(prefix).\(i).hidden_bias"] = Tensor(rbm.hiddenBias)
        }
    }

    /// Adds a network's tensors: `PREFIX.{i}.weight` [fan_in, fan_out] and `PREFIX.{i}.bias`.
    static func addNetwork(_ network: Network, to file: inout SafeTensors, prefix: String = "layers") {
        for (i, layer) in network.layers.enumerated() {
            file["\(prefix).\(i).weight"] = Tensor(layer.weight)
            file["\(prefix).\(i).bias"] = Tensor(layer.bias)
        }
    }

    private static func standardMetadata(kind: ModelKind) -> [String: String] {
        [Key.formatVersion: String(formatVersion), Key.kind: kind.rawValue, Key.createdBy: "dbn (DeepBelief)"]
    }

    private static func stackMetadata(_ stack: DeepBeliefNetwork) -> [String: String] {
        [Key.layerSizes: json(stack.layerSizes),
         Key.visibleUnits: json(stack.layers.map(\.visibleUnits.rawValue)),
         Key.hiddenUnits: json(stack.layers.map(\.hiddenUnits.rawValue))]
    }

    /// A compact JSON string of an encodable value (for metadata).
    public static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? ""
    }

    // MARK: Reading

    /// The kind of model in `file`, after checking the format version.
    public static func kind(of file: SafeTensors) throws -> ModelKind {
        _ = try file.requireFormatVersion(key: Key.formatVersion, readsUpTo: formatVersion)
        let raw = file.metadata[Key.kind] ?? ""
        guard let kind = ModelKind(rawValue: raw) else {
            throw ModelFileError.badMetadata(file: file.source, key: Key.kind, found: raw,
                                             expected: "'rbm-stack' or 'network'")
        }
        return kind
    }

    /// The RBM stack in `file` (a stack file, or a network file that carries its stack).
    public static func stack(from file: SafeTensors) throws -> DeepBeliefNetwork {
        _ = try kind(of: file)
        let key = file.metadata[Key.rbmLayerSizes] != nil ? Key.rbmLayerSizes : Key.layerSizes
        let sizes = try intList(file, key)
        guard file["rbm.0.weight"] != nil else {
            throw ModelFileError.inconsistent(file: file.source, reason: "holds no RBM stack (no tensor 'rbm.0.weight')")
        }
        let visibleUnits = try unitList(file, Key.visibleUnits, count: sizes.count - 1, as: VisibleUnits.self)
        let hiddenUnits = try unitList(file, Key.hiddenUnits, count: sizes.count - 1, as: HiddenUnits.self)
        var layers: [RBM] = []
        for i in 0..<(sizes.count - 1) {
            let weight = try file.requireMatrix("rbm.\(i).weight", rows: sizes[i], columns: sizes[i + 1])
            let visibleBias = try file.requireVector("rbm.\(i).visible_bias", count: sizes[i])
            let hiddenBias = try file.requireVector("rbm.\(i).hidden_bias", count: sizes[i + 1])
            let rbm = RBM(weight: weight, visibleBias: visibleBias, hiddenBias: hiddenBias,
                          visibleUnits: visibleUnits[i], hiddenUnits: hiddenUnits[i])
            try requireFinite(rbm.weight.isFinite && rbm.visibleBias.allSatisfy(\.isFinite)
                              && rbm.hiddenBias.allSatisfy(\.isFinite), file, "rbm.\(i)")
            layers.append(rbm)
        }
        return DeepBeliefNetwork(layers: layers)
    }

    /// The network in a network file.
    public static func network(from file: SafeTensors) throws -> Network {
        let found = try kind(of: file)
        guard found == .network else { throw ModelFileError.wrongKind(file: file.source, found: found, expected: .network) }
        let sizes = try intList(file, Key.layerSizes)
        let activationName = file.metadata[Key.activation] ?? ""
        guard let activation = Activation(name: activationName) else {
            throw ModelFileError.badMetadata(file: file.source, key: Key.activation, found: activationName,
                                             expected: Activation.allCases.map(\.name).joined(separator: ", "))
        }
        let outputName = file.metadata[Key.output] ?? ""
        guard let output = OutputKind(rawValue: outputName) else {
            throw ModelFileError.badMetadata(file: file.source, key: Key.output, found: outputName,
                                             expected: OutputKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        var layers: [DenseParameters] = []
        for i in 0..<(sizes.count - 1) {
            let weight = try file.requireMatrix("layers.\(i).weight", rows: sizes[i], columns: sizes[i + 1])
            let bias = try file.requireVector("layers.\(i).bias", count: sizes[i + 1])
            let layer = DenseParameters(weight: weight, bias: bias)
            try requireFinite(layer.isFinite, file, "layers.\(i)")
            layers.append(layer)
        }
        return Network(layers: layers, hiddenActivation: activation, output: output)
    }

    /// Checks that a model with `inputs` inputs (and `outputs` outputs, if given) fits the data.
    public static func requireFits(file: String, inputs: Int, outputs: Int?, pixels: Int, classes: Int?) throws {
        if inputs != pixels {
            throw ModelFileError.dataMismatch(file: file, reason: "the model takes \(inputs) inputs but the images have \(pixels) pixels")
        }
        if let outputs, let classes, outputs < classes {
            throw ModelFileError.dataMismatch(file: file, reason: "the model has \(outputs) outputs but the labels have \(classes) classes")
        }
    }

    private static func requireFinite(_ ok: Bool, _ file: SafeTensors, _ name: String) throws {
        if !ok { throw ModelFileError.inconsistent(file: file.source, reason: "tensor '\(name)' holds NaN or infinite values") }
    }

    private static func intList(_ file: SafeTensors, _ key: String) throws -> [Int] {
        let raw = file.metadata[key] ?? ""
        guard let data = raw.data(using: .utf8),
              let list = try? JSONDecoder().decode([Int].self, from: data),
              list.count >= 2, list.allSatisfy({ $0 > 0 && $0 <= 1 << 24 })
        else {
            throw ModelFileError.badMetadata(file: file.source, key: key, found: raw,
                                             expected: "a JSON list of at least two positive layer sizes, e.g. [784,500]")
        }
        return list
    }

    private static func unitList<U: RawRepresentable & CaseIterable>(
        _ file: SafeTensors, _ key: String, count: Int, as type: U.Type
    ) throws -> [U] where U.RawValue == String {
        let raw = file.metadata[key] ?? ""
        let names = raw.data(using: .utf8).flatMap { try? JSONDecoder().decode([String].self, from: $0) }
        guard let names, names.count == count else {
            throw ModelFileError.badMetadata(file: file.source, key: key, found: raw,
                                             expected: "a JSON list of \(count) unit types")
        }
        return try names.map { name in
            guard let unit = U(rawValue: name) else {
                throw ModelFileError.badMetadata(file: file.source, key: key, found: raw,
                                                 expected: "unit types among \(U.allCases.map(\.rawValue))")
            }
            return unit
        }
    }
}

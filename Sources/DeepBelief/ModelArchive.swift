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
        /// Maxout's pieces per hidden unit (a maxout network only).
        public static let maxoutPieces = "maxout_pieces"
        /// "true" for a network whose hidden layers are batch-normalised.
        public static let batchNorm = "batch_norm"
        public static let output = "output"
        public static let inputShape = "input_shape"
        public static let seed = "seed"
        public static let initialization = "init"
        public static let pretraining = "pretraining"
        public static let fineTuning = "fine_tuning"
        public static let createdBy = "created_by"
        /// The number of softmax label units of the top RBM (absent: none).
        public static let labelCount = "label_count"
        /// How a generative DBN's generative weights came about: "tied" (greedy training
        /// only) or "up-down" (fine-tuned, stored as `generative.{i}.weight`).
        public static let generative = "generative"
        /// The up-down configuration (JSON), for a model fine-tuned by up-down.
        public static let upDown = "up_down"
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
        if network.hiddenActivation == .maxout { meta[Key.maxoutPieces] = String(network.maxoutPieces) }
        if network.isBatchNormalized { meta[Key.batchNorm] = "true" }
        if let stack { meta.merge(stackMetadata(stack).filter { $0.key != Key.layerSizes }) { $1 } }
        if let stack { meta[Key.rbmLayerSizes] = json(stack.layerSizes) }
        var file = SafeTensors(metadata: meta.merging(metadata) { $1 })
        addNetwork(network, to: &file)
        if let stack { addStack(stack, to: &file) }
        return file
    }

    /// Adds a stack's tensors: `PREFIX.{i}.weight` [visible, hidden], `.visible_bias`, `.hidden_bias`;
    /// a top RBM's label units apart: `PREFIX.{i}.label_weight` [labels, hidden], `.label_bias`.
    static func addStack(_ stack: DeepBeliefNetwork, to file: inout SafeTensors, prefix: String = "rbm") {
        for (i, rbm) in stack.layers.enumerated() {
            let f = rbm.featureCount, h = rbm.hiddenCount
            file["\(prefix).\(i).weight"] = Tensor(rbm.labelCount == 0 ? rbm.weight
                : Matrix(rows: f, columns: h, elements: Array(rbm.weight.elements[0..<(f * h)])))
            file["\(prefix).\(i).visible_bias"] = Tensor(Array(rbm.visibleBias[0..<f]))
            file["\(prefix).\(i).hidden_bias"] = Tensor(rbm.hiddenBias)
            if rbm.labelCount > 0 {
                file["\(prefix).\(i).label_weight"] = Tensor(
                    Matrix(rows: rbm.labelCount, columns: h, elements: Array(rbm.weight.elements[(f * h)...])))
                file["\(prefix).\(i).label_bias"] = Tensor(Array(rbm.visibleBias[f...]))
            }
        }
    }

    /// The named tensors of a generative DBN: its stack (the recognition weights, the generative
    /// biases, the top RBM with its labels), and once up-down has untied them the generative
    /// weights `generative.{i}.weight` [visible, hidden] of the layers below the top.
    public static func archive(generative model: GenerativeDeepBeliefNetwork,
                               metadata: [String: String] = [:]) -> SafeTensors {
        var meta = metadata
        meta[Key.generative] = model.isUntied ? "up-down" : "tied"
        var file = archive(stack: model.stack, metadata: meta)
        if model.isUntied {
            for (i, weight) in model.generativeWeights.enumerated() { file["generative.\(i).weight"] = Tensor(weight) }
        }
        return file
    }

    /// Adds a network's tensors: `PREFIX.{i}.weight` [fan_in, fan_out] and `PREFIX.{i}.bias`,
    /// and for batch normalisation each hidden layer's `PREFIX.{i}.bn_weight` (gamma),
    /// `.bn_running_mean` and `.bn_running_var` [fan_out] (the shift beta is the bias).
    static func addNetwork(_ network: Network, to file: inout SafeTensors, prefix: String = "layers") {
        for (i, layer) in network.layers.enumerated() {
            file["\(prefix).\(i).weight"] = Tensor(layer.weight)
            file["\(prefix).\(i).bias"] = Tensor(layer.bias)
        }
        for (i, norm) in network.batchNorm.enumerated() {
            file["\(prefix).\(i).bn_weight"] = Tensor(norm.gamma)
            file["\(prefix).\(i).bn_running_mean"] = Tensor(norm.runningMean)
            file["\(prefix).\(i).bn_running_var"] = Tensor(norm.runningVariance)
        }
    }

    private static func standardMetadata(kind: ModelKind) -> [String: String] {
        [Key.formatVersion: String(formatVersion), Key.kind: kind.rawValue, Key.createdBy: "dbn (DeepBelief)"]
    }

    private static func stackMetadata(_ stack: DeepBeliefNetwork) -> [String: String] {
        var meta = [Key.layerSizes: json(stack.layerSizes),
                    Key.visibleUnits: json(stack.layers.map(\.visibleUnits.rawValue)),
                    Key.hiddenUnits: json(stack.layers.map(\.hiddenUnits.rawValue))]
        if stack.labelCount > 0 { meta[Key.labelCount] = String(stack.labelCount) }
        return meta
    }

    /// A compact JSON string of an encodable value (for metadata).
    public static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? ""
    }
}

import FineTuning
import Foundation
import Linalg
import ModelFiles
import Pretraining

// The one reader of RBM stacks and networks, for model files and checkpoints alike. A reader
// needs the tensors and a shape source: the layer sizes and unit types (a stack) or the sizes,
// activation and output (a network). A model file keeps its shape in top-level metadata keys
// (`layer_sizes`, `visible_units`, ...); a checkpoint keeps one JSON record per stored stack or
// network (`PREFIX.shape`). Both records decode to the same `StackShape` / `NetworkShape`.

extension ModelArchive {
    /// What a reader needs besides the tensors of an RBM stack.
    public struct StackShape: Codable, Sendable, Equatable {
        /// Visible size of the first RBM, then the hidden size of each.
        public var sizes: [Int]
        public var visibleUnits: [VisibleUnits]
        public var hiddenUnits: [HiddenUnits]
        /// The number of label units of the top RBM (nil: none; records written before labels
        /// existed have none).
        public var labelCount: Int?

        public init(_ stack: DeepBeliefNetwork) {
            sizes = stack.layerSizes
            visibleUnits = stack.layers.map(\.visibleUnits)
            hiddenUnits = stack.layers.map(\.hiddenUnits)
            labelCount = stack.labelCount > 0 ? stack.labelCount : nil
        }

        public init(sizes: [Int], visibleUnits: [VisibleUnits], hiddenUnits: [HiddenUnits], labelCount: Int? = nil) {
            self.sizes = sizes
            self.visibleUnits = visibleUnits
            self.hiddenUnits = hiddenUnits
            self.labelCount = labelCount
        }
    }

    /// What a reader needs besides the tensors of a network.
    public struct NetworkShape: Codable, Sendable, Equatable {
        /// Input size, then the size of each layer's output.
        public var sizes: [Int]
        /// The hidden activation's name (`Activation.name`).
        public var activation: String
        /// The output kind (`OutputKind.rawValue`).
        public var output: String
        /// Maxout's pieces per hidden unit (nil: not maxout; records before maxout have none).
        public var maxoutPieces: Int?
        /// Whether the hidden layers are batch-normalised (nil or false: no; the tensors
        /// `PREFIX.{i}.bn_weight`, `.bn_running_mean`, `.bn_running_var` of each hidden layer).
        public var batchNorm: Bool?

        public init(_ network: Network) {
            self.init(sizes: network.sizes, activation: network.hiddenActivation.name, output: network.output.rawValue,
                      maxoutPieces: network.hiddenActivation == .maxout ? network.maxoutPieces : nil,
                      batchNorm: network.isBatchNormalized ? true : nil)
        }

        public init(sizes: [Int], activation: String, output: String, maxoutPieces: Int? = nil, batchNorm: Bool? = nil) {
            self.sizes = sizes
            self.activation = activation
            self.output = output
            self.maxoutPieces = maxoutPieces
            self.batchNorm = batchNorm
        }
    }

    // MARK: Model files

    /// The kind of model in `file`, after checking the format version.
    public static func kind(of file: SafeTensors) throws -> ModelKind {
        if isTorchStateDict(file) { return .network }
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
        let shape = StackShape(
            sizes: sizes,
            visibleUnits: try unitList(file, Key.visibleUnits, count: sizes.count - 1, as: VisibleUnits.self),
            hiddenUnits: try unitList(file, Key.hiddenUnits, count: sizes.count - 1, as: HiddenUnits.self),
            labelCount: try labelCount(file))
        return try readStack(file, prefix: "rbm", shape: shape, requireFinite: true)
    }

    /// The generative DBN in a stack file whose top RBM has labels: the generative weights are
    /// `generative.{i}.weight` when stored (after up-down), else the recognition weights.
    public static func generative(from file: SafeTensors) throws -> GenerativeDeepBeliefNetwork {
        let stack = try stack(from: file)
        if let reason = GenerativeDeepBeliefNetwork.unsuitability(of: stack) {
            throw ModelFileError.inconsistent(file: file.source, reason: "not a generative DBN: \(reason)")
        }
        guard file["generative.0.weight"] != nil else { return GenerativeDeepBeliefNetwork(stack: stack) }
        var weights: [Matrix] = []
        for (i, rbm) in stack.layers.dropLast().enumerated() {
            let weight = try file.requireMatrix("generative.\(i).weight", rows: rbm.visibleCount, columns: rbm.hiddenCount)
            try checkFinite(weight.isFinite, file, "generative.\(i)")
            weights.append(weight)
        }
        return GenerativeDeepBeliefNetwork(stack: stack, generativeWeights: weights)
    }

    /// The `label_count` metadata: nil when absent, else a positive count.
    private static func labelCount(_ file: SafeTensors) throws -> Int? {
        guard let raw = file.metadata[Key.labelCount] else { return nil }
        guard let count = Int(raw), count >= 1, count <= 1 << 16 else {
            throw ModelFileError.badMetadata(file: file.source, key: Key.labelCount, found: raw,
                                             expected: "a positive number of label units")
        }
        return count
    }

    /// The network in a network file.
    public static func network(from file: SafeTensors) throws -> Network {
        if isTorchStateDict(file) { return try torchNetwork(from: file) }
        let found = try kind(of: file)
        guard found == .network else { throw ModelFileError.wrongKind(file: file.source, found: found, expected: .network) }
        var pieces: Int?
        if let raw = file.metadata[Key.maxoutPieces] {
            guard let count = Int(raw), count >= 1, count <= 1 << 10 else {
                throw ModelFileError.badMetadata(file: file.source, key: Key.maxoutPieces, found: raw,
                                                 expected: "a positive number of pieces per maxout unit")
            }
            pieces = count
        }
        var batchNorm: Bool?
        if let raw = file.metadata[Key.batchNorm] {
            guard raw == "true" || raw == "false" else {
                throw ModelFileError.badMetadata(file: file.source, key: Key.batchNorm, found: raw, expected: "'true' or 'false'")
            }
            batchNorm = raw == "true"
        }
        let shape = NetworkShape(sizes: try intList(file, Key.layerSizes), activation: file.metadata[Key.activation] ?? "",
                                 output: file.metadata[Key.output] ?? "", maxoutPieces: pieces, batchNorm: batchNorm)
        return try readNetwork(file, prefix: "layers", shape: shape, requireFinite: true) { key, found, expected in
            ModelFileError.badMetadata(file: file.source, key: key == "activation" ? Key.activation
                                           : key == "maxout" ? Key.maxoutPieces : Key.output,
                                       found: found, expected: expected)
        }
    }

    // MARK: The tensors

    /// The stack stored as `PREFIX.{i}.weight` [visible, hidden], `.visible_bias`, `.hidden_bias`.
    static func readStack(_ file: SafeTensors, prefix: String, shape: StackShape,
                          requireFinite: Bool) throws -> DeepBeliefNetwork {
        let sizes = shape.sizes
        precondition(shape.visibleUnits.count == sizes.count - 1 && shape.hiddenUnits.count == sizes.count - 1,
                     "StackShape: \(sizes.count) sizes for \(shape.visibleUnits.count) RBMs")
        var layers: [RBM] = []
        for i in 0..<(sizes.count - 1) {
            var weight = try file.requireMatrix("\(prefix).\(i).weight", rows: sizes[i], columns: sizes[i + 1])
            var visibleBias = try file.requireVector("\(prefix).\(i).visible_bias", count: sizes[i])
            // The top RBM's label units: their rows of the weight and their biases, stored apart.
            let labels = i == sizes.count - 2 ? shape.labelCount ?? 0 : 0
            if labels > 0 {
                let labelWeight = try file.requireMatrix("\(prefix).\(i).label_weight", rows: labels, columns: sizes[i + 1])
                weight = Matrix(rows: sizes[i] + labels, columns: sizes[i + 1],
                                elements: weight.elements + labelWeight.elements)
                visibleBias += try file.requireVector("\(prefix).\(i).label_bias", count: labels)
            }
            let rbm = RBM(weight: weight, visibleBias: visibleBias,
                          hiddenBias: try file.requireVector("\(prefix).\(i).hidden_bias", count: sizes[i + 1]),
                          visibleUnits: shape.visibleUnits[i], hiddenUnits: shape.hiddenUnits[i], labelCount: labels)
            if requireFinite {
                try checkFinite(rbm.weight.isFinite && rbm.visibleBias.allSatisfy(\.isFinite)
                                && rbm.hiddenBias.allSatisfy(\.isFinite), file, "\(prefix).\(i)")
            }
            layers.append(rbm)
        }
        return DeepBeliefNetwork(layers: layers)
    }

    /// The network stored as `PREFIX.{i}.weight` [fan_in, fan_out] and `PREFIX.{i}.bias`
    /// (hidden layers of maxout: fan_out = pieces x units), with batch normalisation's
    /// `PREFIX.{i}.bn_weight`, `.bn_running_mean` and `.bn_running_var` [fan_out] per hidden layer.
    /// `badShape(field, found, expected)` is the error for an unknown activation or output, or
    /// maxout pieces given for another activation ("maxout").
    static func readNetwork(_ file: SafeTensors, prefix: String, shape: NetworkShape, requireFinite: Bool,
                            badShape: (String, String, String) -> Error) throws -> Network {
        guard let activation = Activation(name: shape.activation) else {
            throw badShape("activation", shape.activation, Activation.allCases.map(\.name).joined(separator: ", "))
        }
        guard let output = OutputKind(rawValue: shape.output) else {
            throw badShape("output", shape.output, OutputKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if shape.maxoutPieces != nil && activation != .maxout {
            throw badShape("maxout", "\(shape.maxoutPieces!)", "no maxout pieces for the activation '\(activation.name)'")
        }
        let pieces = activation == .maxout ? shape.maxoutPieces ?? 2 : 1
        let sizes = shape.sizes
        var layers: [DenseParameters] = []
        var norms: [BatchNormalization] = []
        for i in 0..<(sizes.count - 1) {
            let columns = sizes[i + 1] * (i < sizes.count - 2 ? pieces : 1)
            let layer = DenseParameters(
                weight: try file.requireMatrix("\(prefix).\(i).weight", rows: sizes[i], columns: columns),
                bias: try file.requireVector("\(prefix).\(i).bias", count: columns))
            if requireFinite { try checkFinite(layer.isFinite, file, "\(prefix).\(i)") }
            layers.append(layer)
            if shape.batchNorm == true && i < sizes.count - 2 {
                let norm = BatchNormalization(
                    gamma: try file.requireVector("\(prefix).\(i).bn_weight", count: columns),
                    runningMean: try file.requireVector("\(prefix).\(i).bn_running_mean", count: columns),
                    runningVariance: try file.requireVector("\(prefix).\(i).bn_running_var", count: columns))
                if requireFinite { try checkFinite(norm.isFinite, file, "\(prefix).\(i).bn") }
                guard !norm.runningVariance.contains(where: { $0 < 0 }) else {  // NaN: the finiteness checks'
                    throw ModelFileError.inconsistent(file: file.source, reason: "tensor '\(prefix).\(i).bn_running_var' holds a negative variance")
                }
                norms.append(norm)
            }
        }
        return Network(layers: layers, hiddenActivation: activation, output: output, maxoutPieces: pieces, batchNorm: norms)
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

    private static func checkFinite(_ ok: Bool, _ file: SafeTensors, _ name: String) throws {
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

import FineTuning
import Foundation
import Linalg
import ModelFiles

// Plain PyTorch `state_dict` files: what `safetensors.torch.save_file(model.state_dict(), path)`
// writes for a `torch.nn.Sequential` of `torch.nn.Linear` layers and parameter-free activations.
// The tensors are named `{index}.weight` [out, in] and `{index}.bias` [out] (the index of the
// module in the Sequential, so activations leave gaps: 0, 2, 4), with an optional common prefix
// (`model.0.weight`). The file has no `format_version`; the layer sizes follow from the shapes,
// the hidden activation from the metadata key `activation` (a state_dict cannot hold it:
// activations have no parameters), and the output is softmax over the last layer's logits.

extension ModelArchive {
    /// Whether `file` looks like a plain torch `state_dict` of Linear layers (no
    /// `format_version`, and tensors named `[prefix.]{index}.weight`).
    public static func isTorchStateDict(_ file: SafeTensors) -> Bool {
        file.metadata[Key.formatVersion] == nil && !torchLayerNames(file).isEmpty
    }

    /// The Linear layers of a torch state_dict: (prefix + index) names in module order.
    static func torchLayerNames(_ file: SafeTensors) -> [(index: Int, prefix: String)] {
        var layers: [(index: Int, prefix: String)] = []
        for name in file.names where name.hasSuffix(".weight") {
            let stem = name.dropLast(".weight".count)
            let digits = stem.reversed().prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 6, let index = Int(String(digits.reversed())) else { continue }
            let prefix = String(stem.dropLast(digits.count))
            guard prefix.isEmpty || prefix.hasSuffix(".") else { continue }
            layers.append((index, prefix))
        }
        return layers.sorted { $0.index < $1.index }
    }

    /// The network in a torch state_dict file (see `isTorchStateDict`); `activation` overrides
    /// the file's `activation` metadata. Errors name the file and the tensor or key.
    public static func torchNetwork(from file: SafeTensors, activation override: Activation? = nil) throws -> Network {
        let layers = torchLayerNames(file)
        guard let prefix = layers.first?.prefix, layers.allSatisfy({ $0.prefix == prefix }) else {
            throw ModelFileError.inconsistent(file: file.source, reason: "holds no Linear weights named like '0.weight' (a torch state_dict) and no 'format_version' metadata (a dbn model file)")
        }
        var parameters: [DenseParameters] = []
        for (position, layer) in layers.enumerated() {
            let name = "\(prefix)\(layer.index).weight"
            guard let weight = file[name], weight.shape.count == 2 else {
                throw ModelFileError.inconsistent(file: file.source, reason: "tensor '\(name)' has shape \(file[name]?.shape ?? []), expected [out, in] (torch.nn.Linear)")
            }
            let (outputs, inputs) = (weight.shape[0], weight.shape[1])
            if let previous = parameters.last, previous.fanOut != inputs {
                throw ModelFileError.inconsistent(file: file.source, reason: "tensor '\(name)' takes \(inputs) inputs but the layer before it ('\(prefix)\(layers[position - 1].index).weight') has \(previous.fanOut) outputs")
            }
            // torch.nn.Linear stores [out, in]; dbn stores [in, out].
            let matrix = try file.requireMatrix(name, rows: outputs, columns: inputs).transposed()
            let biasName = "\(prefix)\(layer.index).bias"
            let bias = file[biasName] == nil ? [Float](repeating: 0, count: outputs)
                : try file.requireVector(biasName, count: outputs)
            let dense = DenseParameters(weight: matrix, bias: bias)
            guard dense.isFinite else {
                throw ModelFileError.inconsistent(file: file.source, reason: "tensor '\(name)' or '\(biasName)' holds NaN or infinite values")
            }
            parameters.append(dense)
        }
        let activation: Activation
        if let override {
            activation = override
        } else if parameters.count == 1 {
            activation = .sigmoid  // no hidden layer: the activation is never applied
        } else {
            let raw = file.metadata[Key.activation] ?? ""
            guard let named = Activation(name: raw), named != .identity else {
                throw ModelFileError.badMetadata(file: file.source, key: Key.activation, found: raw,
                                                 expected: "the hidden activation of this torch state_dict (one of \(Activation.allCases.filter { $0 != .identity }.map(\.name).joined(separator: ", "))): a state_dict does not hold it; save with metadata={'activation': 'relu'} or with save_dbn")
            }
            activation = named
        }
        return Network(layers: parameters, hiddenActivation: activation, output: .softmax)
    }
}

import FineTuning
import ModelFiles

// Batch normalisation in checkpoints: what a batch-normalised run adds to the fine-tuning
// progress of the schema (Checkpoint+Schema.swift), and the checks of what it reads back.
//
// A batch-normalised network's scales gamma and running statistics travel with the network
// (`PREFIX.{i}.bn_weight`, `.bn_running_mean`, `.bn_running_var`, as in a model file); the
// optimiser's moments of gamma sit beside those of the weights and biases, as
// `PREFIX.moment.{l}.bn_weight` and `PREFIX.second_moment.{l}.bn_weight` (Adam's; empty for
// SGD) for every hidden layer l. A run without batch normalisation writes none of them, so its
// checkpoints are what they were before, and older ones resume as they did.

extension Checkpoint {
    /// The tensor of gamma's first (`second` false) or second moments of layer `l` under `prefix`.
    static func gammaMomentName(_ prefix: String, layer l: Int, second: Bool) -> String {
        "\(prefix).\(second ? "second_moment" : "moment").\(l).bn_weight"
    }

    /// Stores the optimiser's moments of gamma of every batch-normalised layer of `p.network`.
    mutating func setGammaMoments(_ p: FineTuningProgress, prefix: String) {
        for l in p.network.batchNorm.indices {
            setFloats(Self.gammaMomentName(prefix, layer: l, second: false), l < p.gammaMoments.count ? p.gammaMoments[l] : [])
            setFloats(Self.gammaMomentName(prefix, layer: l, second: true),
                      l < p.gammaSecondMoments.count ? p.gammaSecondMoments[l] : [])
        }
    }

    /// The optimiser's moments of gamma stored under `prefix` for `network` (per layer; empty
    /// lists where a layer has no batch normalisation), each checked: as wide as its layer
    /// (the second moments may be empty: SGD keeps none) and finite.
    func gammaMoments(prefix: String, network: Network) throws -> (first: [[Float]], second: [[Float]]) {
        let normalized = network.batchNorm.count
        if normalized > 0, file[Self.gammaMomentName(prefix, layer: 0, second: false)] == nil {
            throw CheckpointError.corrupt(file: file.source, reason: "tensor '\(Self.gammaMomentName(prefix, layer: 0, second: false))' is missing (a batch-normalised run's checkpoint from a version that did not save gamma's optimiser moments cannot be resumed: start the run again)")
        }
        func read(_ l: Int, second: Bool) throws -> [Float] {
            guard l < normalized else { return [] }
            let name = Self.gammaMomentName(prefix, layer: l, second: second)
            let values = try floats(name)
            let width = network.layers[l].fanOut
            guard values.count == width || (second && values.isEmpty) else {
                throw CheckpointError.corrupt(file: file.source, reason: "tensor '\(name)' holds \(values.count) values, expected \(second ? "0 or " : "")\(width) (layer \(l)'s columns)")
            }
            guard values.allSatisfy(\.isFinite) else {
                throw CheckpointError.corrupt(file: file.source, reason: "tensor '\(name)' holds NaN or infinite values")
            }
            return values
        }
        let layers = network.layers.indices
        return (try layers.map { try read($0, second: false) }, try layers.map { try read($0, second: true) })
    }

    /// Checks the batch normalisation of `network`, read from the tensors `PREFIX.{i}.bn_*`:
    /// finite scales and running statistics. (The reader refuses a negative running variance,
    /// in model files and checkpoints alike; a checkpoint's network is read without the
    /// finiteness checks of a model file: the run checks its weights itself.)
    func checkBatchNormalization(of network: Network, prefix: String) throws {
        for (l, norm) in network.batchNorm.enumerated() {
            for (name, values) in [("bn_weight", norm.gamma), ("bn_running_mean", norm.runningMean),
                                   ("bn_running_var", norm.runningVariance)] where !values.allSatisfy(\.isFinite) {
                throw CheckpointError.corrupt(file: file.source, reason: "tensor '\(prefix).\(l).\(name)' holds NaN or infinite values")
            }
        }
    }
}

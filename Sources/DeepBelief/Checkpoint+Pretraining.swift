import Linalg
import ModelFiles
import Pretraining

extension Checkpoint {
    struct RBMScalars: Codable {
        var completedEpochs: Int
        var rows: Int
        var hasFantasy: Bool
        var hasHiddenActivity: Bool
        var reports: [RBMEpochReport]
    }
    struct StackScalars: Codable {
        var layer: Int
    }

    /// Stores the progress of one RBM's training under `prefix`.
    public mutating func setRBMProgress(_ p: RBMTrainingProgress, prefix: String) {
        remove(prefix: prefix + ".")
        setStack(DeepBeliefNetwork(layers: [p.rbm]), prefix: "\(prefix).rbm")
        setFloats("\(prefix).weight_velocity", p.weightVelocity)
        setFloats("\(prefix).visible_velocity", p.visibleVelocity)
        setFloats("\(prefix).hidden_velocity", p.hiddenVelocity)
        if let fantasy = p.fantasy { setFloats("\(prefix).fantasy", fantasy) }
        if let activity = p.hiddenActivity { setFloats("\(prefix).hidden_activity", activity) }
        setWords("\(prefix).seed", [p.seed])
        setValue(prefix, RBMScalars(completedEpochs: p.completedEpochs, rows: p.rows, hasFantasy: p.fantasy != nil,
                                    hasHiddenActivity: p.hiddenActivity != nil, reports: p.reports))
    }

    /// The one-word seed stored as `name`.
    func seed(_ name: String) throws -> UInt64 {
        let values = try words(name)
        guard values.count == 1 else {
            throw CheckpointError.corrupt(file: file.source, reason: "'\(name)' holds \(values.count) words, expected one seed")
        }
        return values[0]
    }

    /// The progress of one RBM's training stored under `prefix`, if any.
    public func rbmProgress(prefix: String) throws -> RBMTrainingProgress? {
        guard let s = try value(prefix, as: RBMScalars.self) else { return nil }
        guard let rbm = try stack(prefix: "\(prefix).rbm")?.layers.first else {
            throw CheckpointError.corrupt(file: file.source, reason: "RBM state '\(prefix)' has no parameters")
        }
        return RBMTrainingProgress(
            completedEpochs: s.completedEpochs, rbm: rbm,
            weightVelocity: try floats("\(prefix).weight_velocity"),
            visibleVelocity: try floats("\(prefix).visible_velocity"),
            hiddenVelocity: try floats("\(prefix).hidden_velocity"),
            fantasy: s.hasFantasy ? try floats("\(prefix).fantasy") : nil,
            hiddenActivity: s.hasHiddenActivity ? try floats("\(prefix).hidden_activity") : nil,
            seed: try seed("\(prefix).seed"), rows: s.rows, reports: s.reports)
    }

    /// Stores the progress of a greedy stack pre-training under `prefix`.
    public mutating func setStackProgress(_ p: StackPretrainingProgress, prefix: String) {
        remove(prefix: prefix + ".")
        setStack(p.stack, prefix: "\(prefix).stack")
        setRBMProgress(p.layerProgress, prefix: "\(prefix).layer")
        setValue(prefix, StackScalars(layer: p.layer))
    }

    /// The progress of a greedy stack pre-training stored under `prefix`, if any.
    public func stackProgress(prefix: String) throws -> StackPretrainingProgress? {
        guard let s = try value(prefix, as: StackScalars.self) else { return nil }
        guard let stack = try stack(prefix: "\(prefix).stack"), let layer = try rbmProgress(prefix: "\(prefix).layer") else {
            throw CheckpointError.corrupt(file: file.source, reason: "pre-training state '\(prefix)' is incomplete")
        }
        return StackPretrainingProgress(layer: s.layer, stack: stack, layerProgress: layer)
    }
}

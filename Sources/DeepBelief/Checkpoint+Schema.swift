import FineTuning
import Linalg
import ModelFiles
import Pretraining

// The checkpoint schema: the one place that says what is stored under which name, for the
// engines' progress (RBM, greedy stack, fine-tuning: weights, velocities, moments, generator
// states, sample order) and for the phases of a `TrainingRun` (finished results, elapsed time).
// When a progress type changes (e.g. generator states give way to counter-based draws), this
// file is the one to change (with Checkpoint+BatchNorm.swift, its part for batch normalisation:
// gamma's optimiser moments and the checks of the running statistics).

extension Checkpoint {
    // MARK: Pre-training progress

    struct RBMScalars: Codable {
        var completedEpochs: Int
        var rows: Int
        var hasFantasy: Bool
        var hasHiddenActivity: Bool
        var reports: [RBMEpochReport]
        // Added later (absent in older checkpoints: nil, and a resumed run starts the tempered
        // chains, the ladder and the hidden offsets again, as those runs did).
        var hasTemperedChains: Bool?
        var swapsAttempted: [Int]?
        var swapsAccepted: [Int]?
        var hasHiddenOffset: Bool?
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
        if let t = p.tempering {
            setFloats("\(prefix).tempered_chains", t.chains)
            setWords("\(prefix).inverse_temperatures", t.inverseTemperatures.map(\.bitPattern))  // exact
        }
        if let offset = p.hiddenOffset { setFloats("\(prefix).hidden_offset", offset) }
        setWords("\(prefix).seed", [p.seed])
        setValue(prefix, RBMScalars(completedEpochs: p.completedEpochs, rows: p.rows, hasFantasy: p.fantasy != nil,
                                    hasHiddenActivity: p.hiddenActivity != nil, reports: p.reports,
                                    hasTemperedChains: p.tempering == nil ? nil : true,
                                    swapsAttempted: p.tempering?.swapsAttempted, swapsAccepted: p.tempering?.swapsAccepted,
                                    hasHiddenOffset: p.hiddenOffset == nil ? nil : true))
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
            tempering: s.hasTemperedChains == true
                ? TemperingState(chains: try floats("\(prefix).tempered_chains"),
                                 inverseTemperatures: try words("\(prefix).inverse_temperatures").map(Double.init(bitPattern:)),
                                 swapsAttempted: s.swapsAttempted ?? [], swapsAccepted: s.swapsAccepted ?? [])
                : nil,
            hiddenOffset: s.hasHiddenOffset == true ? try floats("\(prefix).hidden_offset") : nil,
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
        setGammaMoments(p, prefix: prefix)
        setWords("\(prefix).seed", [p.seed])
        setIntegers("\(prefix).validation", p.validationIndices)
        setValue(prefix, FineTuningScalars(
            epoch: p.epoch, updateCounts: p.updateCounts, stale: p.stale,
            best: p.best.map { .init(epoch: $0.epoch, error: $0.error, loss: $0.loss) }, reports: p.reports,
            layerCount: p.network.layers.count))
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
        let gamma = try gammaMoments(prefix: prefix, network: network)
        return FineTuningProgress(
            epoch: s.epoch, network: network,
            weightMoments: try layers.map { try floats("\(prefix).moment.\($0).weight") },
            biasMoments: try layers.map { try floats("\(prefix).moment.\($0).bias") },
            weightSecondMoments: try layers.map { try floats("\(prefix).second_moment.\($0).weight") },
            biasSecondMoments: try layers.map { try floats("\(prefix).second_moment.\($0).bias") },
            updateCounts: s.updateCounts, seed: try seed("\(prefix).seed"),
            validationIndices: try integers("\(prefix).validation"),
            best: best, stale: s.stale, reports: s.reports, gammaMoments: gamma.first, gammaSecondMoments: gamma.second)
    }

    // MARK: Phases of a training run

    /// The seconds spent in phase `name` so far (0 before its first checkpoint).
    func phaseElapsed(_ name: String) throws -> Double {
        try value("\(name).elapsed", as: Double.self) ?? 0
    }

    /// Stores the progress of the unfinished phase `name` (see `TrainingRun`).
    mutating func setPhaseProgress(_ name: String, elapsed: Double, _ store: (inout Checkpoint, String) -> Void) {
        store(&self, "\(name).progress")
        setValue("\(name).elapsed", elapsed)
    }

    /// Replaces the progress of phase `name` by its result and its seconds.
    mutating func setPhaseFinished(_ name: String, seconds: Double, _ store: (inout Checkpoint, String) -> Void) {
        remove(prefix: "\(name).progress.")
        setValue("\(name).progress", Optional<Int>.none)
        store(&self, "\(name).result")
        setValue("\(name).seconds", seconds)
    }

    /// The seconds of phase `name` if it finished in an earlier run.
    func phaseSeconds(_ name: String) throws -> Double? {
        try value("\(name).seconds", as: Double.self)
    }

    /// Stores a finished fine-tuning result (the network under PREFIX, its reports and best epoch).
    mutating func setTrainingResult(_ result: TrainingResult, prefix: String) {
        setNetwork(result.network, prefix: prefix)
        setValue("\(prefix).reports", result.reports)
        setValue("\(prefix).best_epoch", result.bestEpoch)
    }

    /// The finished fine-tuning result stored under `prefix`, if any.
    func trainingResult(prefix: String) throws -> TrainingResult? {
        guard let network = try network(prefix: prefix),
              let reports = try value("\(prefix).reports", as: [EpochReport].self),
              let bestEpoch = try value("\(prefix).best_epoch", as: Int.self) else { return nil }
        return TrainingResult(network: network, reports: reports, bestEpoch: bestEpoch, stoppedEarly: false)
    }
}

extension Checkpoint {
    // MARK: Generative DBNs and up-down progress

    struct UpDownScalars: Codable {
        var completedEpochs: Int
        var velocityCount: Int
        var reports: [UpDownEpochReport]
        /// Whether the top RBM's persistent chains are stored (nil in older checkpoints: no).
        var hasChains: Bool?
    }

    /// Stores a generative DBN under `prefix`: its stack, and its generative weights as
    /// `PREFIX.generative.{i}` (the stack's shapes).
    public mutating func setGenerative(_ model: GenerativeDeepBeliefNetwork, prefix: String) {
        remove(prefix: prefix + ".")
        setStack(model.stack, prefix: "\(prefix).stack")
        for (i, weight) in model.generativeWeights.enumerated() { setFloats("\(prefix).generative.\(i)", weight.elements) }
    }

    /// The generative DBN stored under `prefix`, if any.
    public func generative(prefix: String) throws -> GenerativeDeepBeliefNetwork? {
        guard let stack = try stack(prefix: "\(prefix).stack") else { return nil }
        if let reason = GenerativeDeepBeliefNetwork.unsuitability(of: stack) {
            throw CheckpointError.corrupt(file: file.source, reason: "generative DBN '\(prefix)': \(reason)")
        }
        var weights: [Matrix] = []
        for (i, rbm) in stack.layers.dropLast().enumerated() {
            let values = try floats("\(prefix).generative.\(i)")
            guard values.count == rbm.visibleCount * rbm.hiddenCount else {
                throw CheckpointError.corrupt(file: file.source, reason: "generative weight \(i) of '\(prefix)' has \(values.count) values")
            }
            weights.append(Matrix(rows: rbm.visibleCount, columns: rbm.hiddenCount, elements: values))
        }
        return GenerativeDeepBeliefNetwork(stack: stack, generativeWeights: weights)
    }

    /// Stores up-down progress under `prefix`.
    public mutating func setUpDownProgress(_ p: UpDownProgress, prefix: String) {
        remove(prefix: prefix + ".")
        setGenerative(p.model, prefix: "\(prefix).model")
        for (i, velocity) in p.velocities.enumerated() { setFloats("\(prefix).velocity.\(i)", velocity) }
        setWords("\(prefix).seed", [p.seed])
        if let chains = p.topChains { setFloats("\(prefix).chains", chains) }
        setValue(prefix, UpDownScalars(completedEpochs: p.completedEpochs, velocityCount: p.velocities.count,
                                       reports: p.reports, hasChains: p.topChains != nil))
    }

    /// The up-down progress stored under `prefix`, if any.
    public func upDownProgress(prefix: String) throws -> UpDownProgress? {
        guard let s = try value(prefix, as: UpDownScalars.self) else { return nil }
        guard let model = try generative(prefix: "\(prefix).model"), (0...4096).contains(s.velocityCount) else {
            throw CheckpointError.corrupt(file: file.source, reason: "up-down state '\(prefix)' is incomplete")
        }
        return UpDownProgress(completedEpochs: s.completedEpochs, model: model,
                              velocities: try (0..<s.velocityCount).map { try floats("\(prefix).velocity.\($0)") },
                              seed: try seed("\(prefix).seed"), reports: s.reports,
                              topChains: s.hasChains == true ? try floats("\(prefix).chains") : nil)
    }
}

/// How one kind of phase stores its result and its progress in a checkpoint (under the
/// prefixes `TrainingRun` gives: `NAME.result`, `NAME.progress`).
struct PhaseSchema<Value, Progress> {
    let restore: (Checkpoint, String) throws -> Value?
    let store: (inout Checkpoint, String, Value) -> Void
    let restoreProgress: (Checkpoint, String) throws -> Progress?
    let storeProgress: (inout Checkpoint, String, Progress) -> Void
}

extension PhaseSchema where Value == DeepBeliefNetwork, Progress == StackPretrainingProgress {
    /// Greedy pre-training: the stack, and the stack's progress.
    static var pretraining: Self {
        Self(restore: { try $0.stack(prefix: $1) }, store: { $0.setStack($2, prefix: $1) },
             restoreProgress: { try $0.stackProgress(prefix: $1) }, storeProgress: { $0.setStackProgress($2, prefix: $1) })
    }
}

extension PhaseSchema where Value == GenerativeDeepBeliefNetwork, Progress == UpDownProgress {
    /// Up-down fine-tuning: the generative DBN, and the up-down progress.
    static var upDown: Self {
        Self(restore: { try $0.generative(prefix: $1) }, store: { $0.setGenerative($2, prefix: $1) },
             restoreProgress: { try $0.upDownProgress(prefix: $1) },
             storeProgress: { $0.setUpDownProgress($2, prefix: $1) })
    }
}

extension PhaseSchema where Value == TrainingResult, Progress == FineTuningProgress {
    /// Fine-tuning: the training result, and the fine-tuning progress.
    static var fineTuning: Self {
        Self(restore: { try $0.trainingResult(prefix: $1) }, store: { $0.setTrainingResult($2, prefix: $1) },
             restoreProgress: { try $0.fineTuningProgress(prefix: $1) },
             storeProgress: { $0.setFineTuningProgress($2, prefix: $1) })
    }
}

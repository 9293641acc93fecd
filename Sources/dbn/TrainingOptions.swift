import ArgumentParser
import DeepBelief
import Foundation

/// The greedy pre-training settings: the one group of pre-training flags, shared by `train`,
/// `compare` and `pretrain`. Options a `dbn compare` preset may set are optional (nil: not given),
/// and their help states the default that applies when neither the flag nor a preset sets them.
struct PretrainingOptions: ParsableArguments {
    static let defaultLayers = "500,500,2000"
    static let defaultEpochs = 5
    static let defaultLearningRate: Float = 0.1
    static let defaultWeightCost: Float = 2e-4

    @Option(help: "Hidden layer sizes, comma-separated (input and output sizes come from the data; default: \(defaultLayers)).")
    var layers: String?

    @Option(help: "Pre-training epochs per RBM layer (default: \(defaultEpochs)).")
    var pretrainEpochs: Int?

    @Option(help: "Pre-training learning rate, weights and biases (default: \(defaultLearningRate)).")
    var pretrainLearningRate: Float?

    @Option(help: "Gibbs steps k of CD-k (default: 1).")
    var cdSteps: Int?

    @Flag(inversion: .prefixedNo, help: "Grow k from 1 at the first epoch to --cd-steps at the last, dividing the learning rate by k (Salakhutdinov & Murray's CD-25; default: off).")
    var growCdSteps: Bool?

    @Option(help: "CD-k's reconstructions: mean (the visible probabilities, as rbm.m; default) or sample (binary states, as Salakhutdinov & Murray 2008), used for the negative statistics and the next hidden step.")
    var negativeVisible: NegativePhaseState?

    @Option(help: "The hidden states that drive CD-k's reconstructions: sample (default) or mean (mean-field).")
    var gibbsHidden: NegativePhaseState?

    @Option(help: "How visible biases start: fromData (log-odds of the pixel means, the practical guide; default) or zero (the released Matlab code).")
    var visibleBias: VisibleBiasInitialization?

    @Flag(help: "Persistent contrastive divergence (Tieleman 2008) instead of CD-k.")
    var persistent = false

    @Option(help: "Parallel tempering (Desjardins et al. 2010; implies --persistent): M chains per minibatch row at inverse temperatures up to 1, neighbour swaps after every Gibbs sweep, an adaptive ladder; the swap rates go to the epoch lines and the log (default: 1, no tempering).")
    var temperatures: Int?

    @Flag(help: "Centered RBM (Melchior, Fischer & Wiskott 2016): visible offsets at the data mean, hidden offsets a moving average of the hidden means, the centered gradient; the saved RBM is the equivalent plain one.")
    var centered = false

    @Option(help: "Rate of the hidden offsets' moving average with --centered (default: 0.01).")
    var hiddenOffsetRate: Float?

    @Option(help: "L2 weight cost of pre-training, weights only (default: \(defaultWeightCost)).")
    var weightCost: Float?

    @Option(help: "Momentum of the first 5 epochs (default: 0.5).")
    var initialMomentum: Float?

    @Option(help: "Momentum from the sixth epoch on (default: 0.9; 0 as PyDeep's PCD and centered runs).")
    var finalMomentum: Float?

    @Option(help: "Target mean activation of hidden units (sparsity); none when not given.")
    var sparsityTarget: Float?

    func validate() throws {
        let hidden = try hiddenSizes()
        // Each weight matrix between hidden layers is held four times (the weights, their
        // momentum, the gradient and the best network), before the data is even loaded.
        try Safeguards.requireMemory(zip(hidden, hidden.dropFirst()).map { [4, $0, $1] }, bytesPerElement: 4,
                                     option: "--layers \(layers ?? Self.defaultLayers)")
        // The library's own range checks, at parse time (before any data is read), naming the flag.
        try TrainingOutput.checkSettings(of: "pretrain", configuration(batchSize: 1, seed: 0).validate)
    }

    /// The values that apply (the flag, else the default).
    var epochs: Int { pretrainEpochs ?? Self.defaultEpochs }
    var learningRate: Float { pretrainLearningRate ?? Self.defaultLearningRate }
    var cost: Float { weightCost ?? Self.defaultWeightCost }
    var steps: Int { cdSteps ?? 1 }

    /// The hidden sizes parsed from `--layers`.
    func hiddenSizes() throws -> [Int] {
        try parseSizes(layers ?? Self.defaultLayers, flag: "--layers")
    }

    /// The RBM training configuration for `batchSize` and `seed`.
    func configuration(batchSize: Int, seed: UInt64, resampleBinaryData: Bool = false) -> RBMTrainingConfiguration {
        let defaults = RBMTrainingConfiguration()
        return RBMTrainingConfiguration(
            epochs: epochs, batchSize: batchSize, learningRate: learningRate,
            initialMomentum: initialMomentum ?? defaults.initialMomentum,
            finalMomentum: finalMomentum ?? defaults.finalMomentum, weightCost: cost, cdSteps: steps,
            growCDSteps: growCdSteps ?? false, persistent: persistent || (temperatures ?? 1) > 1,
            sparsityTarget: sparsityTarget,
            resampleBinaryData: resampleBinaryData, negativeVisible: negativeVisible ?? defaults.negativeVisible,
            gibbsHidden: gibbsHidden ?? defaults.gibbsHidden, visibleBiasStart: visibleBias ?? defaults.visibleBiasStart,
            temperatures: temperatures ?? 1, centered: centered,
            hiddenOffsetRate: hiddenOffsetRate ?? defaults.hiddenOffsetRate, seed: seed)
    }
}

/// Parses "500,500,2000" into sizes, with a clear error.
func parseSizes(_ text: String, flag: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    let sizes = parts.map { Int($0) }
    guard !parts.isEmpty, sizes.allSatisfy({ $0 != nil && $0! > 0 && $0! <= 1 << 20 }) else {
        throw ValidationError("\(flag) must be positive sizes separated by commas (e.g. 500,500,2000), got '\(text)'")
    }
    return sizes.map { $0! }
}

/// The hidden activation of `train` and `finetune` (`compare` takes a list: --activations).
struct ActivationOption: ParsableArguments {
    @Option(name: .customLong("activation"),
            help: "Hidden activation (default: sigmoid; dbn finetune of a network file: the file's).")
    var given: Activation?

    /// The activation that applies: the flag, else sigmoid.
    var activation: Activation { given ?? .sigmoid }
}

/// The fine-tuning settings shared by `train`, `finetune` and `compare`. Options a `dbn compare`
/// preset may set are optional (nil: not given); their help states the default that applies.
struct FineTuningOptions: ParsableArguments {
    static let defaultEpochs = 10
    static let defaultLearningRate: Float = 0.5
    static let defaultBatchSize = 100

    @Option(help: "Fine-tuning epochs (default: \(defaultEpochs); dbn compare presets set their own).")
    var finetuneEpochs: Int?

    @Option(help: "Fine-tuning learning rate (default: \(defaultLearningRate); dbn compare: 0.1, its deep-xor preset 0.05).")
    var finetuneLearningRate: Float?

    @Option(help: "Optimiser: sgd (with --momentum), nesterov, adam.")
    var optimizer: OptimizerChoice = .sgd

    @Option(help: "Momentum of sgd and nesterov.")
    var momentum: Float = 0.9

    @Option(help: "Momentum rising linearly over the first epochs, then constant (sgd and nesterov; replaces --momentum): START:END:EPOCHS, e.g. 0.5:0.99:500 (Srivastava et al. 2014): epoch e uses START + (END - START) (e - 1) / EPOCHS up to EPOCHS, END after. START:END:EPOCHS:dampened also multiplies each epoch's learning rate by 1 - its momentum (the paper's update; the step then stays about the rate as the momentum rises).")
    var momentumSchedule: String?

    @Option(help: "L2 weight decay of fine-tuning (weights only).")
    var weightDecay: Float = 0

    @Option(help: "Max-norm constraint: scale each unit's incoming weight vector back to this length after every update (3-4 with dropout); none when not given.")
    var maxNorm: Float?
    @Option(help: "Dropout rate of hidden layers (inverted dropout, off at evaluation).")
    var dropout: Float = 0

    @Option(help: "Dropout rate of the input layer.")
    var inputDropout: Float = 0

    @Option(help: "Learning-rate schedule: constant, step:EVERY:FACTOR, exp:GAMMA.")
    var schedule: String = "constant"

    @Option(help: "Hold out the last N training images for validation; the best epoch's weights are kept.")
    var validation: Int = 0

    @Option(help: "Stop after N epochs without a better validation error (needs --validation; default: never).")
    var patience: Int?

    @Option(help: "Train only the output layer for the first N epochs.")
    var freezeHiddenEpochs: Int = 0

    @Option(help: "Minibatch size, pre-training and fine-tuning (default: \(defaultBatchSize); deep-xor preset: 4).")
    var batchSize: Int?

    /// The values that apply (the flag, else the default).
    var epochs: Int { finetuneEpochs ?? Self.defaultEpochs }
    var learningRate: Float { finetuneLearningRate ?? Self.defaultLearningRate }
    var batch: Int { batchSize ?? Self.defaultBatchSize }

    func validate() throws {
        if patience != nil && validation == 0 { throw ValidationError("--patience needs --validation N") }
        // The library's own range checks, at parse time (before any data is read), naming the flag.
        try TrainingOutput.checkSettings(of: "finetune", configuration(seed: 0).validate)
    }

    func parsedSchedule() throws -> LearningRateSchedule {
        let parts = schedule.lowercased().split(separator: ":").map(String.init)
        switch (parts.first, parts.count) {
        case ("constant", 1): return .constant
        case ("step", 3):
            if let every = Int(parts[1]), let factor = Float(parts[2]) { return .step(every: every, factor: factor) }
        case ("exp", 2):
            if let gamma = Float(parts[1]) { return .exponential(gamma: gamma) }
        default: break
        }
        throw ValidationError("--schedule must be constant, step:EVERY:FACTOR or exp:GAMMA, got '\(schedule)'")
    }

    /// `--momentum-schedule START:END:EPOCHS` (nil without the flag).
    func parsedMomentumSchedule() throws -> MomentumSchedule? {
        guard let momentumSchedule else { return nil }
        let parts = momentumSchedule.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 3 || (parts.count == 4 && parts[3] == "dampened"),
           let start = Float(parts[0]), let end = Float(parts[1]), let epochs = Int(parts[2]) {
            return MomentumSchedule(start: start, end: end, epochs: epochs, dampened: parts.count == 4)  // ranges: `check`
        }
        throw ValidationError("--momentum-schedule must be START:END:EPOCHS or START:END:EPOCHS:dampened with START and END in [0, 1) and EPOCHS >= 1 (e.g. 0.5:0.99:500), got '\(momentumSchedule)'")
    }

    /// The fine-tuning configuration.
    func configuration(seed: UInt64) throws -> TrainingConfiguration {
        let (optimizer, nesterov) = self.optimizer.optimizer
        return TrainingConfiguration(
            epochs: epochs, batchSize: batch, optimizer: optimizer, learningRate: learningRate,
            momentum: momentum, nesterov: nesterov, weightDecay: weightDecay, maxNorm: maxNorm, inputDropout: inputDropout,
            hiddenDropout: dropout, schedule: try parsedSchedule(), validationCount: validation,
            earlyStoppingPatience: patience, freezeHiddenEpochs: freezeHiddenEpochs, seed: seed,
            momentumSchedule: try parsedMomentumSchedule())
    }
}

/// Parses an activation name with a clear error.
func parseActivation(_ name: String) throws -> Activation {
    guard let activation = Activation(name: name) else {
        throw ValidationError("unknown activation '\(name)': use one of \(Activation.allCases.filter { $0 != .identity }.map(\.name).joined(separator: ", "))")
    }
    return activation
}

/// Parses a start (initialiser) name with a clear error.
func parseInitializer(_ name: String) throws -> WeightInitializer {
    do { return try WeightInitializer(parsing: name) } catch {
        throw ValidationError("\(error)")
    }
}

func parseStart(_ name: String) throws -> ComparisonStart {
    do { return try ComparisonStart(parsing: name) } catch {
        throw ValidationError("\(error)")
    }
}

/// Formats a fraction as a percentage with two decimals.
func percent(_ fraction: Double?) -> String {
    guard let fraction else { return "-" }
    return String(format: "%.2f%%", fraction * 100)
}

/// Formats seconds.
func secondsText(_ seconds: Double) -> String {
    seconds < 100 ? String(format: "%.1f s", seconds) : String(format: "%.0f s", seconds)
}

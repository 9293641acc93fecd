import ArgumentParser
import DeepBelief
import Foundation

/// The greedy pre-training settings shared by `train`, `compare` and `finetune`.
struct PretrainingOptions: ParsableArguments {
    @Option(help: "Hidden layer sizes, comma-separated (input and output sizes come from the data).")
    var layers: String = "500,500,2000"

    @Option(help: "Pre-training epochs per RBM layer.")
    var pretrainEpochs: Int = 5

    @Option(help: "Pre-training learning rate (weights and biases).")
    var pretrainLearningRate: Float = 0.1

    @Option(help: "Gibbs steps k of CD-k.")
    var cdSteps: Int = 1

    @Flag(help: "Persistent contrastive divergence (Tieleman 2008) instead of CD-k.")
    var persistent = false

    @Option(help: "L2 weight cost of pre-training (weights only).")
    var weightCost: Float = 2e-4

    func validate() throws {
        _ = try hiddenSizes()
        if pretrainEpochs < 0 { throw ValidationError("--pretrain-epochs must be >= 0, got \(pretrainEpochs)") }
        if !(pretrainLearningRate > 0) || !pretrainLearningRate.isFinite {
            throw ValidationError("--pretrain-learning-rate must be positive, got \(pretrainLearningRate)")
        }
        if cdSteps < 1 { throw ValidationError("--cd-steps must be >= 1, got \(cdSteps)") }
        if weightCost < 0 { throw ValidationError("--weight-cost must be >= 0, got \(weightCost)") }
    }

    /// The hidden sizes parsed from `--layers`.
    func hiddenSizes() throws -> [Int] {
        try parseSizes(layers, flag: "--layers")
    }

    /// The RBM training configuration for `batchSize` and `seed`.
    func configuration(batchSize: Int, seed: UInt64) -> RBMTrainingConfiguration {
        RBMTrainingConfiguration(epochs: pretrainEpochs, batchSize: batchSize, learningRate: pretrainLearningRate,
                                 weightCost: weightCost, cdSteps: cdSteps, persistent: persistent, seed: seed)
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

/// The fine-tuning settings shared by `train`, `finetune` and `compare`.
struct FineTuningOptions: ParsableArguments {
    @Option(help: "Fine-tuning epochs.")
    var finetuneEpochs: Int = 10

    @Option(help: "Fine-tuning learning rate.")
    var finetuneLearningRate: Float = 0.5

    @Option(help: "Hidden activation: sigmoid, tanh, relu, leaky-relu, elu.")
    var activation: String = "sigmoid"

    @Option(help: "Optimiser: sgd (with --momentum), nesterov, adam.")
    var optimizer: String = "sgd"

    @Option(help: "Momentum of sgd and nesterov.")
    var momentum: Float = 0.9

    @Option(help: "L2 weight decay of fine-tuning (weights only).")
    var weightDecay: Float = 0

    @Option(help: "Max-norm constraint: scale each unit's incoming weight vector back to this length after every update (3-4 with dropout).")
    var maxNorm: Float?
    @Option(help: "Dropout rate of hidden layers (inverted dropout, off at evaluation).")
    var dropout: Float = 0

    @Option(help: "Dropout rate of the input layer.")
    var inputDropout: Float = 0

    @Option(help: "Learning-rate schedule: constant, step:EVERY:FACTOR, exp:GAMMA.")
    var schedule: String = "constant"

    @Option(help: "Hold out the last N training images for validation; the best epoch's weights are kept.")
    var validation: Int = 0

    @Option(help: "Stop after N epochs without a better validation error (needs --validation).")
    var patience: Int?

    @Option(help: "Train only the output layer for the first N epochs.")
    var freezeHiddenEpochs: Int = 0

    @Option(help: "Minibatch size (pre-training and fine-tuning).")
    var batchSize: Int = 100

    func validate() throws {
        _ = try parsedActivation()
        _ = try parsedOptimizer()
        _ = try parsedSchedule()
        if finetuneEpochs < 1 { throw ValidationError("--finetune-epochs must be >= 1, got \(finetuneEpochs)") }
        if !(finetuneLearningRate > 0) || !finetuneLearningRate.isFinite {
            throw ValidationError("--finetune-learning-rate must be positive, got \(finetuneLearningRate)")
        }
        if batchSize < 1 { throw ValidationError("--batch-size must be >= 1, got \(batchSize)") }
        for (name, rate) in [("--dropout", dropout), ("--input-dropout", inputDropout)] where !(rate >= 0 && rate < 1) {
            throw ValidationError("\(name) must be in [0, 1), got \(rate)")
        }
        if !(momentum >= 0 && momentum < 1) { throw ValidationError("--momentum must be in [0, 1), got \(momentum)") }
        if let maxNorm, !(maxNorm > 0 && maxNorm.isFinite) { throw ValidationError("--max-norm must be positive, got \(maxNorm)") }
        if validation < 0 { throw ValidationError("--validation must be >= 0, got \(validation)") }
        if patience != nil && validation == 0 { throw ValidationError("--patience needs --validation N") }
    }

    func parsedActivation() throws -> Activation {
        try parseActivation(activation)
    }

    func parsedOptimizer() throws -> (Optimizer, nesterov: Bool) {
        switch optimizer.lowercased() {
        case "sgd": (.sgd, false)
        case "nesterov": (.sgd, true)
        case "adam": (.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8), false)
        default: throw ValidationError("--optimizer must be sgd, nesterov or adam, got '\(optimizer)'")
        }
    }

    func parsedSchedule() throws -> LearningRateSchedule {
        let parts = schedule.lowercased().split(separator: ":").map(String.init)
        switch (parts.first, parts.count) {
        case ("constant", 1): return .constant
        case ("step", 3):
            if let every = Int(parts[1]), every > 0, let factor = Float(parts[2]), factor > 0 {
                return .step(every: every, factor: factor)
            }
        case ("exp", 2):
            if let gamma = Float(parts[1]), gamma > 0 { return .exponential(gamma: gamma) }
        default: break
        }
        throw ValidationError("--schedule must be constant, step:EVERY:FACTOR or exp:GAMMA, got '\(schedule)'")
    }

    /// The fine-tuning configuration.
    func configuration(seed: UInt64) throws -> TrainingConfiguration {
        let (optimizer, nesterov) = try parsedOptimizer()
        return TrainingConfiguration(
            epochs: finetuneEpochs, batchSize: batchSize, optimizer: optimizer, learningRate: finetuneLearningRate,
            momentum: momentum, nesterov: nesterov, weightDecay: weightDecay, maxNorm: maxNorm, inputDropout: inputDropout,
            hiddenDropout: dropout, schedule: try parsedSchedule(), validationCount: validation,
            earlyStoppingPatience: patience, freezeHiddenEpochs: freezeHiddenEpochs, seed: seed)
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

/// Formats a fraction as a percentage with two decimals.
func percent(_ fraction: Double?) -> String {
    guard let fraction else { return "-" }
    return String(format: "%.2f%%", fraction * 100)
}

/// Formats seconds.
func secondsText(_ seconds: Double) -> String {
    seconds < 100 ? String(format: "%.1f s", seconds) : String(format: "%.0f s", seconds)
}

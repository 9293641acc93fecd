import Linalg

/// The update rule of fine-tuning.
public enum Optimizer: Sendable, Codable, Equatable {
    /// Minibatch SGD with momentum (`TrainingConfiguration.momentum`, 0 for plain SGD),
    /// optionally Nesterov's (`nesterov`):
    /// `v = momentum v - rate g; w += v` (Nesterov: `w += momentum v - rate g`).
    case sgd
    /// Adam (Kingma & Ba 2015) with bias-corrected moments:
    /// `m = b1 m + (1 - b1) g; s = b2 s + (1 - b2) g^2;`
    /// `w -= rate (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + epsilon)`, `t` counting each layer's
    /// updates. Weight decay is added to the gradient (L2, as in the paper), not decoupled.
    /// Use a learning rate of about 1e-3 (the paper's default).
    case adam(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8)

    /// A name for logs and tables.
    public var name: String {
        switch self {
        case .sgd: "sgd"
        case .adam: "adam"
        }
    }
}

/// How the learning rate changes with the epoch (epochs count from 1).
public enum LearningRateSchedule: Sendable, Codable, Equatable {
    /// The base rate throughout.
    case constant
    /// `rate * factor^floor((epoch - 1) / every)`: multiplied by `factor` every `every` epochs.
    case step(every: Int, factor: Float)
    /// `rate * gamma^(epoch - 1)`: multiplied by `gamma` after each epoch.
    case exponential(gamma: Float)

    /// The learning rate of `epoch` (1-based) for a base rate of `base`.
    public func rate(base: Float, epoch: Int) -> Float {
        switch self {
        case .constant: base
        case .step(let every, let factor): base * Float(Libm.pow(Double(factor), Double((epoch - 1) / max(every, 1))))
        case .exponential(let gamma): base * Float(Libm.pow(Double(gamma), Double(epoch - 1)))
        }
    }
}

/// A momentum that rises linearly over the first epochs, then stays (Hinton et al. 2012,
/// "Improving neural networks by preventing co-adaptation of feature detectors", appendix A.1:
/// from 0.5 to 0.99 over the first 500 epochs, with dropout and max-norm; Srivastava et al.
/// 2014, appendix A, recommend 0.95-0.99 with dropout): epoch e (1-based) uses
/// `start + (end - start) (e - 1) / epochs` for `e <= epochs` and `end` after.
///
/// `dampened` takes the paper's update as well: `v = p v - (1 - p) rate g'`, i.e. the epoch's
/// learning rate times `1 - p` (`TrainingConfiguration.learningRate(epoch:)`). With classical
/// momentum (`dampened` false) the step is about `rate / (1 - p)`, so it grows fifty-fold as p
/// rises from 0.5 to 0.99; dampened, it stays about `rate`.
public struct MomentumSchedule: Sendable, Codable, Equatable {
    /// The momentum of the first epoch.
    public var start: Float
    /// The momentum from epoch `epochs + 1` on.
    public var end: Float
    /// The epochs of the rise (T of the paper), at least 1.
    public var epochs: Int
    /// Whether each epoch's learning rate is multiplied by `1 - momentum` (the paper's update).
    public var dampened: Bool

    public init(start: Float, end: Float, epochs: Int, dampened: Bool = false) {
        self.start = start
        self.end = end
        self.epochs = epochs
        self.dampened = dampened
    }

    private enum CodingKeys: String, CodingKey { case start, end, epochs, dampened }

    /// Files and fingerprints written before `dampened` existed lack the key (false).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(start: try c.decode(Float.self, forKey: .start), end: try c.decode(Float.self, forKey: .end),
                  epochs: try c.decode(Int.self, forKey: .epochs),
                  dampened: try c.decodeIfPresent(Bool.self, forKey: .dampened) ?? false)
    }

    /// The key is written only when true, so undampened schedules encode (and fingerprint) as before.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(start, forKey: .start)
        try c.encode(end, forKey: .end)
        try c.encode(epochs, forKey: .epochs)
        if dampened { try c.encode(true, forKey: .dampened) }
    }

    /// The momentum of `epoch` (1-based).
    public func momentum(epoch: Int) -> Float {
        let t = epoch - 1
        guard t < epochs else { return end }
        return start + (end - start) * Float(max(t, 0)) / Float(epochs)
    }
}

/// Which training samples are held out for validation.
public enum ValidationSelection: String, Sendable, Codable, CaseIterable {
    /// The last `validationCount` samples (e.g. the last 10,000 of MNIST's training set).
    case last
    /// A random subset, drawn once from the run's seed (`RandomPurpose.validationSplit`).
    case random
}

/// The settings of one fine-tuning run.
public struct TrainingConfiguration: Sendable, Codable, Equatable {
    /// Passes over the training set.
    public var epochs: Int
    /// Samples per minibatch (the last minibatch of an epoch may be smaller).
    public var batchSize: Int
    /// The update rule.
    public var optimizer: Optimizer
    /// The base learning rate (see `schedule`).
    public var learningRate: Float
    /// Momentum of SGD (ignored by Adam); 0 gives plain SGD. Replaced by `momentumSchedule`
    /// when that is set.
    public var momentum: Float
    /// A momentum that changes with the epoch (SGD and Nesterov; nil: `momentum` throughout).
    /// Absent from the JSON of a configuration without one, which therefore reads as before.
    public var momentumSchedule: MomentumSchedule?
    /// Nesterov's momentum instead of the classical one (SGD only).
    public var nesterov: Bool
    /// L2 weight decay `lambda`: `lambda w` is added to the gradient of the weights (not the biases).
    public var weightDecay: Float
    /// Max-norm constraint (Srivastava et al. 2014): after each update, every unit's vector of
    /// incoming weights (a column of W, fanIn x fanOut) longer than this is scaled back to this
    /// length; nil = no constraint. Usual values 3-4, with dropout.
    public var maxNorm: Float?
    /// Dropout rate of the input units (0 = none); inverted dropout, off at evaluation.
    public var inputDropout: Float
    /// Dropout rate of the hidden units (0 = none); inverted dropout, off at evaluation.
    public var hiddenDropout: Float
    /// The learning-rate schedule.
    public var schedule: LearningRateSchedule
    /// Training samples held out for validation (0 = no validation set).
    public var validationCount: Int
    /// Which samples are held out.
    public var validationSelection: ValidationSelection
    /// Stop after this many epochs without a lower validation error (nil = never stop early).
    /// With a validation set the best epoch's weights are returned in any case.
    public var earlyStoppingPatience: Int?
    /// The first epochs that update only the output layer (as in Hinton & Salakhutdinov's
    /// released code: "first 5 epochs only the top layer"); 0 = train everything from the start.
    public var freezeHiddenEpochs: Int
    /// Training rows used for the per-epoch activation statistics (the first ones; 0 = none).
    public var diagnosticRows: Int
    /// Seed of the run (initialisation, validation split, shuffling, dropout) when the caller
    /// does not pass a generator.
    public var seed: UInt64

    /// A configuration; defaults: 10 epochs, batch 100, SGD with momentum 0.9 at rate 0.05.
    public init(epochs: Int = 10, batchSize: Int = 100, optimizer: Optimizer = .sgd, learningRate: Float = 0.05,
                momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float = 0, maxNorm: Float? = nil,
                inputDropout: Float = 0, hiddenDropout: Float = 0, schedule: LearningRateSchedule = .constant,
                validationCount: Int = 0, validationSelection: ValidationSelection = .last,
                earlyStoppingPatience: Int? = nil, freezeHiddenEpochs: Int = 0, diagnosticRows: Int = 1000,
                seed: UInt64 = 1, momentumSchedule: MomentumSchedule? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.momentum = momentum
        self.momentumSchedule = momentumSchedule
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.maxNorm = maxNorm
        self.inputDropout = inputDropout
        self.hiddenDropout = hiddenDropout
        self.schedule = schedule
        self.validationCount = validationCount
        self.validationSelection = validationSelection
        self.earlyStoppingPatience = earlyStoppingPatience
        self.freezeHiddenEpochs = freezeHiddenEpochs
        self.diagnosticRows = diagnosticRows
        self.seed = seed
    }

    /// The learning rate of `epoch` (1-based): the schedule's, times `1 - momentum` under a
    /// dampened momentum schedule.
    public func learningRate(epoch: Int) -> Float {
        let rate = schedule.rate(base: learningRate, epoch: epoch)
        guard let m = momentumSchedule, m.dampened else { return rate }
        return rate * (1 - m.momentum(epoch: epoch))
    }

    /// The momentum of `epoch` (1-based): the schedule's, else `momentum`.
    public func momentum(epoch: Int) -> Float { momentumSchedule?.momentum(epoch: epoch) ?? momentum }

    /// Checks every setting's range; throws `FineTuningError.invalidSetting` naming the first
    /// one out of range.
    public func validate() throws {
        func fail(_ setting: String, _ requirement: String) throws -> Never {
            throw FineTuningError.invalidSetting(setting: setting, requirement: requirement)
        }
        if epochs < 1 { try fail("epochs", "must be >= 1, got \(epochs)") }
        if batchSize < 1 { try fail("batchSize", "must be >= 1, got \(batchSize)") }
        if !(learningRate > 0 && learningRate.isFinite) { try fail("learningRate", "must be positive, got \(learningRate)") }
        if !(momentum >= 0 && momentum < 1) { try fail("momentum", "must be in [0, 1), got \(momentum)") }
        if let m = momentumSchedule, !(m.start >= 0 && m.start < 1 && m.end >= 0 && m.end < 1 && m.epochs >= 1) {
            try fail("momentumSchedule", "needs START and END in [0, 1) and EPOCHS >= 1, got \(m.start), \(m.end), \(m.epochs)")
        }
        if !(weightDecay >= 0 && weightDecay.isFinite) { try fail("weightDecay", "must be >= 0, got \(weightDecay)") }
        if let maxNorm, !(maxNorm > 0 && maxNorm.isFinite) { try fail("maxNorm", "must be positive, got \(maxNorm)") }
        for (name, rate) in [("inputDropout", inputDropout), ("hiddenDropout", hiddenDropout)] where !(rate >= 0 && rate < 1) {
            try fail(name, "must be in [0, 1), got \(rate)")
        }
        if validationCount < 0 { try fail("validationCount", "must be >= 0, got \(validationCount)") }
        if let patience = earlyStoppingPatience, patience < 1 {
            try fail("earlyStoppingPatience", "must be >= 1, got \(patience)")
        }
        if freezeHiddenEpochs < 0 { try fail("freezeHiddenEpochs", "must be >= 0, got \(freezeHiddenEpochs)") }
        if diagnosticRows < 0 { try fail("diagnosticRows", "must be >= 0, got \(diagnosticRows)") }
        switch schedule {
        case .constant: break
        case .step(let every, let factor) where !(every >= 1 && factor > 0):
            try fail("schedule", "step:EVERY:FACTOR needs EVERY >= 1 and FACTOR > 0, got \(every), \(factor)")
        case .exponential(let gamma) where !(gamma > 0):
            try fail("schedule", "exp:GAMMA needs GAMMA > 0, got \(gamma)")
        default: break
        }
        if case .adam(let b1, let b2, let eps) = optimizer {
            if !(b1 >= 0 && b1 < 1 && b2 >= 0 && b2 < 1 && eps > 0) {
                try fail("optimizer", "Adam needs beta1, beta2 in [0, 1) and epsilon > 0, got \(b1), \(b2), \(eps)")
            }
            if momentumSchedule != nil { try fail("momentumSchedule", "applies to sgd and nesterov, not adam") }
        }
    }
}

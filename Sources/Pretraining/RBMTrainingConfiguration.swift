import Linalg

/// What the next layer of a stack is trained on.
public enum NextLayerInput: String, Sendable, Codable, CaseIterable, Equatable {
    /// The hidden probabilities (means) of the layer below (Hinton & Salakhutdinov 2006).
    case probabilities
    /// One binary (or NReLU) sample of the hidden states of the layer below, drawn once.
    case samples
}

/// What a Gibbs step of the negative phase keeps of a layer: a binary sample of its states, or
/// their means (probabilities). The literature differs: Hinton & Salakhutdinov's `rbm.m`
/// reconstructs the data with the visible means; the training code of Salakhutdinov & Murray
/// (2008), whose likelihoods are the usual reference, samples binary visible states
/// (`negdata = probs > rand`) and uses them for the negative statistics and the next step.
public enum NegativePhaseState: String, Sendable, Codable, CaseIterable, Equatable {
    /// A sample of the states (Bernoulli, or mean + N(0, 1) for Gaussian visible units).
    case sample
    /// The means E[. | other layer], used as they are.
    case mean
}

/// The hyper-parameters of contrastive-divergence training of one RBM.
///
/// The defaults are the recipe of Hinton & Salakhutdinov (2006) and their `rbm.m`: minibatches
/// of 100, learning rate 0.1 for weights and biases, momentum 0.5 for the first 5 epochs then
/// 0.9, L2 weight cost 2e-4 on the weights only, CD-1.
public struct RBMTrainingConfiguration: Sendable, Codable, Equatable {
    /// The number of passes over the training data.
    public var epochs: Int
    /// The number of rows per minibatch (the last minibatch of an epoch may be smaller).
    public var batchSize: Int
    /// The learning rate of weights and biases.
    public var learningRate: Float
    /// The momentum of epochs 0 ..< momentumSwitchEpoch.
    public var initialMomentum: Float
    /// The momentum from epoch `momentumSwitchEpoch` (0-based) on.
    public var finalMomentum: Float
    /// The first (0-based) epoch that uses `finalMomentum`.
    public var momentumSwitchEpoch: Int
    /// The L2 weight cost: the gradient of (weightCost / 2) |W|^2 is subtracted (biases are
    /// not decayed).
    public var weightCost: Float
    /// The number k of Gibbs steps of CD-k (or of the persistent chains per update).
    public var cdSteps: Int
    /// Whether k grows over the run instead of being `cdSteps` throughout: epoch e (0-based) of
    /// E uses k_e = 1 + round((cdSteps - 1) e / (E - 1)), from 1 up to `cdSteps`, with the
    /// learning rate divided by k_e (how Salakhutdinov & Murray 2008 trained their CD-25 RBMs,
    /// "k gradually increased from 1 to 25"). See `gibbsSteps(forEpoch:)`.
    public var growCDSteps: Bool
    /// Persistent CD (Tieleman 2008): negative statistics from fantasy chains (one per
    /// minibatch row) kept across minibatches instead of chains started at the data.
    /// PCD wants smaller steps than CD: with momentum 0.9 the chains lag behind the model and
    /// training can oscillate (seen on small peaked distributions); momentum 0.5 and a learning
    /// rate around 0.01 learn steadily.
    public var persistent: Bool
    /// The target mean activation of each hidden unit, or nil for no sparsity penalty.
    /// Hinton's practical guide, section 11: q_j, an exponentially decaying average of the
    /// mean activation, is pushed towards the target by subtracting
    /// learningRate * sparsityCost * (q_j - target) from the hidden bias and
    /// learningRate * sparsityCost * (q_j - target) * mean(v_i) from W_ij.
    public var sparsityTarget: Float?
    /// The weight of the sparsity penalty.
    public var sparsityCost: Float
    /// The decay of the running average q (0.9 - 0.99 in the guide).
    public var sparsityDecay: Float
    /// What the next layer of a `DeepBeliefNetwork` is trained on.
    public var nextLayerInput: NextLayerInput
    /// Whether each minibatch's data is replaced by a fresh binary sample every time it is
    /// used: v0 ~ Bernoulli(data), the data read as probabilities (as Salakhutdinov & Murray
    /// 2008 trained their MNIST RBMs). Needs Bernoulli visible units. Off: the data are used
    /// as they are (probabilities, as in `rbm.m`, or binarised once by the caller).
    public var resampleBinaryData: Bool
    /// What CD-k's reconstructions v_1 ... v_k are: the visible means (`rbm.m`, the default) or a
    /// binary sample of them (Salakhutdinov & Murray 2008), which then feeds the negative
    /// statistics and the next hidden step. The sample is drawn from the stream
    /// `.visibleSample(layer:, step:)` of the Gibbs step. PCD's chains are always sampled.
    public var negativeVisible: NegativePhaseState
    /// What drives each reconstruction of CD-k: sampled hidden states (`rbm.m` and most of the
    /// literature, the default) or the hidden means (a mean-field negative phase). The last
    /// hidden layer of the negative statistics is always the means E[h | v_k].
    public var gibbsHidden: NegativePhaseState
    /// Parallel tempering (Desjardins et al. 2010): the number M of tempered chains per
    /// minibatch row, at inverse temperatures 0 < beta_1 < ... < beta_M = 1 (p_beta(v, h) ∝
    /// exp(-beta E(v, h))), with neighbour swaps after every Gibbs sweep and an adaptive ladder;
    /// the beta = 1 chains give the negative statistics. 1: no tempering. Needs `persistent`.
    public var temperatures: Int
    /// Centering (Montavon & Müller 2012; Melchior, Fischer & Wiskott 2016): the gradient of
    /// the centered energy with visible offsets at the training data's mean and hidden offsets
    /// a moving average of the data's hidden means (see `CenteredRBM`); the RBM keeps (and
    /// saves) the plain parameters of the same distribution. Works with CD, PCD and tempering.
    public var centered: Bool
    /// The rate nu of the hidden offsets' moving average (Melchior et al.: 0.01).
    public var hiddenOffsetRate: Float
    /// The weight alpha of the discriminative gradient in a hybrid objective (Larochelle &
    /// Bengio 2008, "Classification using discriminative restricted Boltzmann machines"): for
    /// an RBM with label units, every update adds alpha times the exact gradient of the mean
    /// log p(label | features) over the minibatch to the CD (or PCD) gradient. 0: plain CD.
    /// RBMs without label units ignore it. Not with centering or parallel tempering.
    public var discriminativeWeight: Float
    /// How the visible biases start (before the first epoch; not on resuming): from the data's
    /// log-odds (Hinton's practical guide, the default) or at zero (the released code of
    /// Hinton & Salakhutdinov 2006 and of Salakhutdinov & Murray 2008).
    public var visibleBiasStart: VisibleBiasInitialization
    /// The seed the caller creates the training generator from (`makeGenerator()`); the
    /// training functions take the generator itself, per the project's rule that randomness
    /// is passed in. Minibatch order, sampling and monitors all draw from that generator.
    public var seed: UInt64

    public init(epochs: Int = 10, batchSize: Int = 100, learningRate: Float = 0.1,
                initialMomentum: Float = 0.5, finalMomentum: Float = 0.9, momentumSwitchEpoch: Int = 5,
                weightCost: Float = 2e-4, cdSteps: Int = 1, growCDSteps: Bool = false, persistent: Bool = false,
                sparsityTarget: Float? = nil, sparsityCost: Float = 0.1, sparsityDecay: Float = 0.9,
                nextLayerInput: NextLayerInput = .probabilities, resampleBinaryData: Bool = false,
                negativeVisible: NegativePhaseState = .mean, gibbsHidden: NegativePhaseState = .sample,
                visibleBiasStart: VisibleBiasInitialization = .fromData, temperatures: Int = 1, centered: Bool = false,
                hiddenOffsetRate: Float = 0.01, discriminativeWeight: Float = 0, seed: UInt64 = 42) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.initialMomentum = initialMomentum
        self.finalMomentum = finalMomentum
        self.momentumSwitchEpoch = momentumSwitchEpoch
        self.weightCost = weightCost
        self.cdSteps = cdSteps
        self.growCDSteps = growCDSteps
        self.persistent = persistent
        self.sparsityTarget = sparsityTarget
        self.sparsityCost = sparsityCost
        self.sparsityDecay = sparsityDecay
        self.nextLayerInput = nextLayerInput
        self.resampleBinaryData = resampleBinaryData
        self.negativeVisible = negativeVisible
        self.gibbsHidden = gibbsHidden
        self.visibleBiasStart = visibleBiasStart
        self.temperatures = temperatures
        self.centered = centered
        self.hiddenOffsetRate = hiddenOffsetRate
        self.discriminativeWeight = discriminativeWeight
        self.seed = seed
    }

    /// The momentum used during `epoch` (0-based).
    public func momentum(forEpoch epoch: Int) -> Float {
        epoch < momentumSwitchEpoch ? initialMomentum : finalMomentum
    }

    /// The k of CD-k during `epoch` (0-based): `cdSteps`, or with `growCDSteps` a linear ramp
    /// from 1 at the first epoch to `cdSteps` at the last.
    public func gibbsSteps(forEpoch epoch: Int) -> Int {
        guard growCDSteps, cdSteps > 1, epochs > 1 else { return cdSteps }
        let e = min(max(epoch, 0), epochs - 1)
        return 1 + Int((Double(cdSteps - 1) * Double(e) / Double(epochs - 1)).rounded())
    }

    /// The learning rate during `epoch` (0-based): `learningRate`, divided by k with
    /// `growCDSteps`.
    public func learningRate(forEpoch epoch: Int) -> Float {
        growCDSteps ? learningRate / Float(gibbsSteps(forEpoch: epoch)) : learningRate
    }

    /// A generator seeded with `seed`.
    public func makeGenerator() -> Xoshiro256StarStar { Xoshiro256StarStar(seed: seed) }

    /// Throws `PretrainingError.invalidSetting` naming the first setting out of range.
    public func validate() throws {
        func fail(_ setting: String, _ requirement: String) throws -> Never {
            throw PretrainingError.invalidSetting(setting: setting, requirement: requirement)
        }
        if epochs < 0 { try fail("epochs", "must be >= 0, got \(epochs)") }
        if batchSize < 1 { try fail("batchSize", "must be >= 1, got \(batchSize)") }
        if !(learningRate.isFinite && learningRate > 0) { try fail("learningRate", "must be > 0, got \(learningRate)") }
        for (name, m) in [("initialMomentum", initialMomentum), ("finalMomentum", finalMomentum)]
        where !(m >= 0 && m < 1) { try fail(name, "must be in [0, 1), got \(m)") }
        if momentumSwitchEpoch < 0 { try fail("momentumSwitchEpoch", "must be >= 0, got \(momentumSwitchEpoch)") }
        if !(weightCost.isFinite && weightCost >= 0) { try fail("weightCost", "must be >= 0, got \(weightCost)") }
        if cdSteps < 1 { try fail("cdSteps", "(k of CD-k) must be >= 1, got \(cdSteps)") }
        if let target = sparsityTarget, !(target > 0 && target < 1) {
            try fail("sparsityTarget", "must be in (0, 1), got \(target)")
        }
        if !(sparsityCost.isFinite && sparsityCost >= 0) { try fail("sparsityCost", "must be >= 0, got \(sparsityCost)") }
        if !(sparsityDecay >= 0 && sparsityDecay < 1) { try fail("sparsityDecay", "must be in [0, 1), got \(sparsityDecay)") }
        if !(1...1000).contains(temperatures) { try fail("temperatures", "must be in 1 ... 1000, got \(temperatures)") }
        if !(hiddenOffsetRate > 0 && hiddenOffsetRate <= 1) {
            try fail("hiddenOffsetRate", "must be in (0, 1], got \(hiddenOffsetRate)")
        }
        if !(discriminativeWeight.isFinite && discriminativeWeight >= 0) {
            try fail("discriminativeWeight", "must be >= 0, got \(discriminativeWeight)")
        }
        if discriminativeWeight > 0 && (centered || temperatures > 1) {
            try fail("discriminativeWeight", "(\(discriminativeWeight)) works with plain CD or PCD, not with centering or parallel tempering")
        }
        if temperatures > 1 && !persistent {
            try fail("temperatures", "(\(temperatures)) needs persistent training: parallel tempering keeps its chains")
        }
    }
}

// The JSON form (model metadata, checkpoint fingerprints): the options added after the first
// release are written only when they differ from their defaults, so a configuration without
// them encodes exactly as before and old checkpoints still resume; reading takes the defaults
// for missing keys.
extension RBMTrainingConfiguration {
    private enum CodingKeys: String, CodingKey {
        case epochs, batchSize, learningRate, initialMomentum, finalMomentum, momentumSwitchEpoch, weightCost, cdSteps,
             growCDSteps, persistent, sparsityTarget, sparsityCost, sparsityDecay, nextLayerInput, resampleBinaryData,
             negativeVisible, gibbsHidden, visibleBiasStart, temperatures, centered, hiddenOffsetRate,
             discriminativeWeight, seed
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = RBMTrainingConfiguration()
        self.init(epochs: try c.decode(Int.self, forKey: .epochs), batchSize: try c.decode(Int.self, forKey: .batchSize),
                  learningRate: try c.decode(Float.self, forKey: .learningRate),
                  initialMomentum: try c.decode(Float.self, forKey: .initialMomentum),
                  finalMomentum: try c.decode(Float.self, forKey: .finalMomentum),
                  momentumSwitchEpoch: try c.decode(Int.self, forKey: .momentumSwitchEpoch),
                  weightCost: try c.decode(Float.self, forKey: .weightCost), cdSteps: try c.decode(Int.self, forKey: .cdSteps),
                  growCDSteps: try c.decode(Bool.self, forKey: .growCDSteps),
                  persistent: try c.decode(Bool.self, forKey: .persistent),
                  sparsityTarget: try c.decodeIfPresent(Float.self, forKey: .sparsityTarget),
                  sparsityCost: try c.decode(Float.self, forKey: .sparsityCost),
                  sparsityDecay: try c.decode(Float.self, forKey: .sparsityDecay),
                  nextLayerInput: try c.decode(NextLayerInput.self, forKey: .nextLayerInput),
                  resampleBinaryData: try c.decode(Bool.self, forKey: .resampleBinaryData),
                  negativeVisible: try c.decodeIfPresent(NegativePhaseState.self, forKey: .negativeVisible)
                      ?? defaults.negativeVisible,
                  gibbsHidden: try c.decodeIfPresent(NegativePhaseState.self, forKey: .gibbsHidden) ?? defaults.gibbsHidden,
                  visibleBiasStart: try c.decodeIfPresent(VisibleBiasInitialization.self, forKey: .visibleBiasStart)
                      ?? defaults.visibleBiasStart,
                  temperatures: try c.decodeIfPresent(Int.self, forKey: .temperatures) ?? defaults.temperatures,
                  centered: try c.decodeIfPresent(Bool.self, forKey: .centered) ?? defaults.centered,
                  hiddenOffsetRate: try c.decodeIfPresent(Float.self, forKey: .hiddenOffsetRate) ?? defaults.hiddenOffsetRate,
                  discriminativeWeight: try c.decodeIfPresent(Float.self, forKey: .discriminativeWeight)
                      ?? defaults.discriminativeWeight,
                  seed: try c.decode(UInt64.self, forKey: .seed))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        let defaults = RBMTrainingConfiguration()
        try c.encode(epochs, forKey: .epochs)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(initialMomentum, forKey: .initialMomentum)
        try c.encode(finalMomentum, forKey: .finalMomentum)
        try c.encode(momentumSwitchEpoch, forKey: .momentumSwitchEpoch)
        try c.encode(weightCost, forKey: .weightCost)
        try c.encode(cdSteps, forKey: .cdSteps)
        try c.encode(growCDSteps, forKey: .growCDSteps)
        try c.encode(persistent, forKey: .persistent)
        try c.encodeIfPresent(sparsityTarget, forKey: .sparsityTarget)
        try c.encode(sparsityCost, forKey: .sparsityCost)
        try c.encode(sparsityDecay, forKey: .sparsityDecay)
        try c.encode(nextLayerInput, forKey: .nextLayerInput)
        try c.encode(resampleBinaryData, forKey: .resampleBinaryData)
        if negativeVisible != defaults.negativeVisible { try c.encode(negativeVisible, forKey: .negativeVisible) }
        if gibbsHidden != defaults.gibbsHidden { try c.encode(gibbsHidden, forKey: .gibbsHidden) }
        if visibleBiasStart != defaults.visibleBiasStart { try c.encode(visibleBiasStart, forKey: .visibleBiasStart) }
        if temperatures != defaults.temperatures { try c.encode(temperatures, forKey: .temperatures) }
        if centered != defaults.centered { try c.encode(centered, forKey: .centered) }
        if hiddenOffsetRate != defaults.hiddenOffsetRate { try c.encode(hiddenOffsetRate, forKey: .hiddenOffsetRate) }
        if discriminativeWeight != defaults.discriminativeWeight {
            try c.encode(discriminativeWeight, forKey: .discriminativeWeight)
        }
        try c.encode(seed, forKey: .seed)
    }
}

/// What a training loop reports after each minibatch, for progress displays and per-step logs:
/// where it is in the epoch, the minibatch's loss and learning rate, and (at the steps the
/// caller asked for) the gradient norms. Observers only: nothing they do changes the training.
public struct MinibatchProgress: Sendable, Equatable {
    /// The epoch (1-based).
    public var epoch: Int
    /// Minibatches done in this epoch (1-based) and their number.
    public var minibatch: Int
    public var minibatches: Int
    /// Samples in this minibatch.
    public var rows: Int
    /// The minibatch's mean loss: cross-entropy (fine-tuning) or squared reconstruction error
    /// per sample (pre-training).
    public var loss: Double
    /// The learning rate of this step.
    public var learningRate: Double
    /// The norm of each layer's weight gradient of this step (one entry for an RBM), measured
    /// by an observer only at the steps asked for (`gradientNormsEvery`), else nil.
    public var gradientNorms: [Double]?

    /// Steps since the start of the phase (of the layer, in pre-training), 1-based:
    /// (epoch - 1) x minibatches + minibatch.
    public var step: Int { (epoch - 1) * minibatches + minibatch }

    public init(epoch: Int, minibatch: Int, minibatches: Int, rows: Int, loss: Double,
                learningRate: Double = 0, gradientNorms: [Double]? = nil) {
        self.epoch = epoch
        self.minibatch = minibatch
        self.minibatches = minibatches
        self.rows = rows
        self.loss = loss
        self.learningRate = learningRate
        self.gradientNorms = gradientNorms
    }

    /// Whether step `step` (1-based) gets its gradient norms measured when they are asked
    /// for every `every` steps (0: never).
    public static func measures(step: Int, every: Int) -> Bool { every > 0 && step % every == 0 }
}

/// What a training loop reports after each minibatch, for progress displays: where it is in
/// the epoch and the minibatch's loss. Observers only: nothing they do changes the training.
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

    public init(epoch: Int, minibatch: Int, minibatches: Int, rows: Int, loss: Double) {
        self.epoch = epoch
        self.minibatch = minibatch
        self.minibatches = minibatches
        self.rows = rows
        self.loss = loss
    }
}

import Linalg

/// The hyper-parameters of up-down fine-tuning (contrastive wake-sleep, Hinton, Osindero & Teh
/// 2006, appendix B). One learning rate, momentum schedule and weight cost for every weight, as
/// in the paper's code; the weight cost decays the weights only (not the biases).
///
/// The paper ran 300 epochs with CD-3 in the top RBM for the first 100, CD-6 for the next 100
/// and CD-10 for the last 100: `cdSchedule` [3, 6, 10] splits the epochs into equal parts.
/// With `persistent`, the top RBM's negative phase is persistent CD instead (Tieleman 2008; k
/// Gibbs steps of one fantasy chain per minibatch row, kept across minibatches and epochs), and
/// the sleep phase starts from those chains: samples of the model rather than of CD-k
/// reconstructions of the data.
public struct UpDownConfiguration: Sendable, Codable, Equatable {
    /// The epochs, minibatch size, learning rate, momentum schedule, weight cost, `persistent`
    /// and seed, as for CD (its k is the largest of `cdSchedule`; its other CD options are not
    /// used).
    public var training: RBMTrainingConfiguration
    /// The k of CD-k in the top RBM: the epochs are split into `cdSchedule.count` equal parts,
    /// part i using cdSchedule[i].
    public var cdSchedule: [Int]

    public init(epochs: Int = 10, batchSize: Int = 100, learningRate: Float = 0.01, initialMomentum: Float = 0.5,
                finalMomentum: Float = 0.9, momentumSwitchEpoch: Int = 5, weightCost: Float = 2e-4,
                cdSchedule: [Int] = [3, 6, 10], persistent: Bool = false, discriminativeWeight: Float = 0,
                seed: UInt64 = 42) {
        training = RBMTrainingConfiguration(epochs: epochs, batchSize: batchSize, learningRate: learningRate,
                                            initialMomentum: initialMomentum, finalMomentum: finalMomentum,
                                            momentumSwitchEpoch: momentumSwitchEpoch, weightCost: weightCost,
                                            cdSteps: cdSchedule.max() ?? 1, persistent: persistent,
                                            discriminativeWeight: discriminativeWeight,
                                            seed: seed)
        self.cdSchedule = cdSchedule
    }

    public var epochs: Int { training.epochs }
    public var batchSize: Int { training.batchSize }
    public var learningRate: Float { training.learningRate }
    public var weightCost: Float { training.weightCost }
    /// Whether the top RBM's negative phase uses persistent chains (see the type's comment).
    public var persistent: Bool { training.persistent }
    /// The weight of the discriminative gradient added to the top RBM's CD-k (see
    /// `RBMTrainingConfiguration.discriminativeWeight`; 0: the paper's up-down).
    public var discriminativeWeight: Float { training.discriminativeWeight }
    public var seed: UInt64 { training.seed }

    /// The k of CD-k in the top RBM during `epoch` (0-based).
    public func cdSteps(forEpoch epoch: Int) -> Int {
        let part = epochs > 0 ? min(max(epoch, 0), epochs - 1) * cdSchedule.count / epochs : 0
        return cdSchedule[min(part, cdSchedule.count - 1)]
    }

    /// The momentum used during `epoch` (0-based).
    public func momentum(forEpoch epoch: Int) -> Float { training.momentum(forEpoch: epoch) }

    /// Throws `PretrainingError.invalidSetting` naming the first setting out of range
    /// (`cdSchedule`, or one of `training`'s).
    public func validate() throws {
        if cdSchedule.isEmpty || cdSchedule.contains(where: { $0 < 1 }) {
            throw PretrainingError.invalidSetting(setting: "cdSchedule", requirement: "must be one or more k >= 1, got \(cdSchedule)")
        }
        try training.validate()
    }
}

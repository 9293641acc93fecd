import Linalg

/// Everything needed to continue a fine-tuning run after one of its epochs, bit for bit: the
/// weights (with batch normalisation's scales and running statistics), the optimiser's moments
/// (gamma's too), the run's seed (every random draw of the run is a pure
/// function of it and what the draw is for) and the best epoch so far.
/// A checkpoint file stores it (see the DeepBelief module's `Checkpoint`).
public struct FineTuningProgress: Sendable, Equatable {
    /// The best epoch so far (with a validation set).
    public struct Best: Sendable, Equatable {
        public var epoch: Int
        public var error: Double
        public var loss: Double
        public var network: Network
        public init(epoch: Int, error: Double, loss: Double, network: Network) {
            self.epoch = epoch
            self.error = error
            self.loss = loss
            self.network = network
        }
    }

    /// Epochs completed (1-based count).
    public var epoch: Int
    /// The weights after `epoch`.
    public var network: Network
    /// Per layer: SGD's velocity or Adam's first moment, for weights (fanIn x fanOut, flat) and biases.
    public var weightMoments: [[Float]]
    public var biasMoments: [[Float]]
    /// Per layer: Adam's second moments (empty for SGD).
    public var weightSecondMoments: [[Float]]
    public var biasSecondMoments: [[Float]]
    /// Per layer: the moments of batch normalisation's scales gamma (SGD's velocity or Adam's
    /// first moment, and Adam's second moment), `fanOut` values for a batch-normalised hidden
    /// layer, none elsewhere (empty lists for a network without batch normalisation).
    public var gammaMoments: [[Float]]
    public var gammaSecondMoments: [[Float]]
    /// Per layer: updates applied so far (Adam's t).
    public var updateCounts: [Int]
    /// The run's seed: it keys the validation split, each epoch's order and the dropout masks.
    public var seed: UInt64
    /// The validation samples (sorted).
    public var validationIndices: [Int]
    public var best: Best?
    /// Epochs since the best one (early stopping).
    public var stale: Int
    /// The reports of epochs 1...epoch.
    public var reports: [EpochReport]

    public init(epoch: Int, network: Network, weightMoments: [[Float]], biasMoments: [[Float]],
                weightSecondMoments: [[Float]], biasSecondMoments: [[Float]], updateCounts: [Int],
                seed: UInt64, validationIndices: [Int], best: Best?, stale: Int,
                reports: [EpochReport], gammaMoments: [[Float]] = [], gammaSecondMoments: [[Float]] = []) {
        self.epoch = epoch
        self.network = network
        self.weightMoments = weightMoments
        self.biasMoments = biasMoments
        self.weightSecondMoments = weightSecondMoments
        self.biasSecondMoments = biasSecondMoments
        self.gammaMoments = gammaMoments
        self.gammaSecondMoments = gammaSecondMoments
        self.updateCounts = updateCounts
        self.seed = seed
        self.validationIndices = validationIndices
        self.best = best
        self.stale = stale
        self.reports = reports
    }

    /// Checks that this progress belongs to a run of `network`'s shape on `dataCount` samples.
    func check(fits network: Network, dataCount: Int, configuration: TrainingConfiguration) throws {
        let layers = network.layers.count
        guard self.network.sizes == network.sizes else {
            throw FineTuningError.invalidConfiguration("the checkpoint is for layer sizes \(self.network.sizes), the run has \(network.sizes)")
        }
        // The run continues the saved network, so it must be the run's kind of network.
        let saved = self.network
        guard saved.hiddenActivation == network.hiddenActivation, saved.maxoutPieces == network.maxoutPieces,
              saved.output == network.output, saved.isBatchNormalized == network.isBatchNormalized else {
            func kind(_ n: Network) -> String {
                "\(n.hiddenActivation.name)\(n.maxoutPieces > 1 ? " (\(n.maxoutPieces) pieces)" : "") network"
                    + " \(n.isBatchNormalized ? "with" : "without") batch normalisation (\(n.output.rawValue) output)"
            }
            throw FineTuningError.invalidConfiguration("the checkpoint is for a \(kind(saved)), the run trains a \(kind(network))")
        }
        guard validationIndices == Trainer.split(count: dataCount, configuration: configuration, seed: seed).validation
        else {
            throw FineTuningError.invalidConfiguration("the checkpoint's validation split does not fit \(dataCount) samples (data or validation settings changed?)")
        }
        guard weightMoments.count == layers, biasMoments.count == layers, updateCounts.count == layers,
              weightSecondMoments.count == layers, biasSecondMoments.count == layers
        else { throw FineTuningError.invalidConfiguration("the checkpoint's optimiser state is incomplete") }
        for l in 0..<layers {
            let w = network.layers[l].weight.count, b = network.layers[l].fanOut
            let adam = configuration.usesSecondMoment
            guard weightMoments[l].count == w, biasMoments[l].count == b,
                  weightSecondMoments[l].count == (adam ? w : 0), biasSecondMoments[l].count == (adam ? b : 0)
            else { throw FineTuningError.invalidConfiguration("the checkpoint's optimiser state does not fit layer \(l) (optimiser changed?)") }
            // Gamma's moments: fanOut values for a batch-normalised hidden layer, none elsewhere.
            let g = l < network.batchNorm.count ? network.layers[l].fanOut : 0
            guard (l < gammaMoments.count ? gammaMoments[l].count : 0) == g,
                  (l < gammaSecondMoments.count ? gammaSecondMoments[l].count : 0) == (adam ? g : 0)
            else { throw FineTuningError.invalidConfiguration("the checkpoint's optimiser state of gamma does not fit layer \(l) (optimiser or batch normalisation changed?)") }
        }
        guard gammaMoments.count <= layers, gammaSecondMoments.count <= layers else {
            throw FineTuningError.invalidConfiguration("the checkpoint's optimiser state of gamma has more layers than the network")
        }
    }
}

extension BackpropEngine {
    /// The progress after `epoch`.
    func progress(epoch: Int, network: Network, seed: UInt64, validationIndices: [Int],
                  best: FineTuningProgress.Best?, stale: Int, reports: [EpochReport]) -> FineTuningProgress {
        FineTuningProgress(
            epoch: epoch, network: network,
            weightMoments: weightMoments.map(\.array), biasMoments: biasMoments.map(\.array),
            weightSecondMoments: weightSecondMoments.map(\.array), biasSecondMoments: biasSecondMoments.map(\.array),
            updateCounts: updateCounts, seed: seed, validationIndices: validationIndices, best: best, stale: stale,
            reports: reports, gammaMoments: gammaMoments.map(\.array), gammaSecondMoments: gammaSecondMoments.map(\.array))
    }

    /// Restores the optimiser's moments and counters (the weights come from the network).
    func restore(_ progress: FineTuningProgress) {
        for l in 0..<layerCount {
            weightMoments[l].copy(from: progress.weightMoments[l])
            biasMoments[l].copy(from: progress.biasMoments[l])
            weightSecondMoments[l].copy(from: progress.weightSecondMoments[l])
            biasSecondMoments[l].copy(from: progress.biasSecondMoments[l])
            if l < progress.gammaMoments.count { gammaMoments[l].copy(from: progress.gammaMoments[l]) }
            if l < progress.gammaSecondMoments.count { gammaSecondMoments[l].copy(from: progress.gammaSecondMoments[l]) }
        }
        updateCounts = progress.updateCounts
    }
}

import Linalg

/// What one epoch of up-down fine-tuning did.
public struct UpDownEpochReport: Sendable, Codable, Equatable {
    /// The epoch (0-based) and the run's epoch count.
    public var epoch: Int, epochs: Int
    /// The k of CD-k in the top RBM during the epoch.
    public var cdSteps: Int
    /// Wall-clock seconds of the epoch.
    public var seconds: Double
    /// The mean over the rows of the summed squared error of the pixels predicted by the
    /// generative weights from the wake states of the layer above (before each update).
    public var pixelError: Double
    /// Per directed layer d (0: the pixels), the mean over the rows of the summed squared error
    /// of predicting the wake states of layer d from those of layer d + 1 with the generative
    /// weights (before each update; entry 0 is `pixelError`). Nil in reports of older runs.
    public var wakeErrors: [Double]?
    /// The top RBM's reconstruction error during the epoch: the mean over the rows of the
    /// summed squared error of its CD reconstruction of [units below the labels, labels].
    public var topReconstructionError: Double?
    /// The test error (label of least free energy) after the epoch, when measured.
    public var testError: Double?

    public init(epoch: Int, epochs: Int, cdSteps: Int, seconds: Double, pixelError: Double,
                wakeErrors: [Double]? = nil, topReconstructionError: Double? = nil, testError: Double? = nil) {
        self.epoch = epoch
        self.epochs = epochs
        self.cdSteps = cdSteps
        self.seconds = seconds
        self.pixelError = pixelError
        self.wakeErrors = wakeErrors
        self.topReconstructionError = topReconstructionError
        self.testError = testError
    }
}

/// The state of an up-down run between two epochs: enough to continue it bit-identically.
public struct UpDownProgress: Sendable, Equatable {
    /// The epochs done.
    public var completedEpochs: Int
    /// The parameters after them.
    public var model: GenerativeDeepBeliefNetwork
    /// The velocities (`UpDownEngine.velocities`' order: for each directed layer R, c, G, b;
    /// then the top RBM's weight, visible and hidden velocities).
    public var velocities: [[Float]]
    /// The run's seed (keys every draw).
    public var seed: UInt64
    /// The reports of the epochs done.
    public var reports: [UpDownEpochReport]
    /// With a persistent top phase, the top RBM's fantasy chains (batch size x (units below the
    /// labels + labels), row-major); nil otherwise or before the first epoch.
    public var topChains: [Float]?

    public init(completedEpochs: Int, model: GenerativeDeepBeliefNetwork, velocities: [[Float]], seed: UInt64,
                reports: [UpDownEpochReport], topChains: [Float]? = nil) {
        self.completedEpochs = completedEpochs
        self.model = model
        self.velocities = velocities
        self.seed = seed
        self.reports = reports
        self.topChains = topChains
    }
}

extension GenerativeDeepBeliefNetwork {
    /// Up-down fine-tuning (contrastive wake-sleep, Hinton, Osindero & Teh 2006) on the rows of
    /// `data` (shape (n, inputs), values in [0, 1]) with their `labels` (0 ..< K): every epoch
    /// visits the rows in a fresh random order, in minibatches of `configuration.batchSize`,
    /// each one `UpDownEngine` step (see there for the algorithm). The generative weights are
    /// untied from the recognition weights by the first update.
    ///
    /// The run's seed is one draw of `generator` (drawn when resuming too); every draw is keyed
    /// by it, so the result does not depend on the number of threads. After every epoch
    /// `onProgress` (if given) receives the state to resume from; passing it as `resumeFrom`
    /// continues the run after that epoch and ends bit-identical to an uninterrupted run.
    /// With `test` (images and labels), the report of every `testEvery`-th epoch and of the
    /// last carries the test error by free energy (not counted in `seconds`).
    /// Throws `PretrainingError` for bad data, labels or configurations, and `.diverged`
    /// when a parameter becomes NaN or infinite (the model keeps the last finite epoch's).
    public mutating func upDown(on data: Matrix, labels: [Int], configuration: UpDownConfiguration,
                                generator: inout Xoshiro256StarStar, resumeFrom progress: UpDownProgress? = nil,
                                test: (images: Matrix, labels: [Int])? = nil, testEvery: Int = 1,
                                onEpoch: (UpDownEpochReport) -> Void = { _ in },
                                onProgress: ((UpDownProgress) throws -> Void)? = nil) throws {
        let drawn = generator.next()
        try configuration.validate()
        guard data.columns == inputCount else {
            throw PretrainingError.shapeMismatch(what: "training data", expected: inputCount, found: data.columns)
        }
        try stack.layers[0].validate(data, what: "training data")
        try DeepBeliefNetwork.checkLabels(labels, count: labelCount, rows: data.rows)
        var reports: [UpDownEpochReport] = []
        let batchSize = min(configuration.batchSize, data.rows)
        if let progress {
            guard progress.model.stack.layerSizes == stack.layerSizes, progress.model.labelCount == labelCount,
                  (0...configuration.epochs).contains(progress.completedEpochs) else {
                throw PretrainingError.invalidConfiguration("the up-down progress does not fit this model or run")
            }
            self = progress.model
            reports = progress.reports
        }
        let seed = progress?.seed ?? drawn
        let engine = UpDownEngine(model: self, configuration: configuration, capacity: batchSize, seed: seed)
        if let progress {
            guard engine.fits(velocities: progress.velocities) else {
                throw PretrainingError.invalidConfiguration("the up-down progress's velocities do not fit this model")
            }
            engine.restore(velocities: progress.velocities)
            if let chains = progress.topChains {
                guard engine.fits(topChains: chains) else {
                    throw PretrainingError.invalidConfiguration(configuration.persistent
                        ? "the up-down progress holds \(chains.count) chain values, this run needs \(batchSize) chains of \(top.visibleCount) units: the batch size changed"
                        : "the up-down progress holds persistent chains, this run's top phase is CD-k")
                }
                engine.restore(topChains: chains)
            } else if configuration.persistent && progress.completedEpochs > 0 {
                throw PretrainingError.invalidConfiguration("the up-down progress has no persistent chains, this run's top phase is persistent")
            }
        }
        let clock = ContinuousClock()
        let rows = data.rows, depth = stack.layers.count - 1
        for epoch in (progress?.completedEpochs ?? 0)..<configuration.epochs {
            let start = clock.now
            engine.setEpoch(epoch)
            let order = Self.minibatchOrder(rows: rows, seed: seed, epoch: epoch)
            var error = 0.0
            Lanes.withSingleThreadedBLAS {
                data.elements.withUnsafeBufferPointer { pd in
                    labels.withUnsafeBufferPointer { pl in
                        order.withUnsafeBufferPointer { po in
                            for first in stride(from: 0, to: rows, by: batchSize) {
                                let minibatch = UnsafeBufferPointer(rebasing: po[first..<min(first + batchSize, rows)])
                                error += engine.step(data: pd.baseAddress!, labels: pl.baseAddress!, rows: minibatch)
                            }
                        }
                    }
                }
            }
            guard engine.parametersAreFinite else { throw PretrainingError.diverged(layer: depth, epoch: epoch) }
            engine.store(into: &self)
            let seconds = (clock.now - start).seconds
            var testError: Double?
            if let test, (epoch + 1) % max(testEvery, 1) == 0 || epoch + 1 == configuration.epochs {
                let wrong = zip(classify(test.images), test.labels).filter { $0 != $1 }.count
                testError = Double(wrong) / Double(max(test.labels.count, 1))
            }
            let report = UpDownEpochReport(epoch: epoch, epochs: configuration.epochs,
                                           cdSteps: configuration.cdSteps(forEpoch: epoch),
                                           seconds: seconds, pixelError: error / Double(rows),
                                           wakeErrors: engine.wakeErrorSums.map { $0 / Double(rows) },
                                           topReconstructionError: engine.topErrorSum / Double(rows),
                                           testError: testError)
            reports.append(report)
            onEpoch(report)
            if let onProgress {
                try onProgress(UpDownProgress(completedEpochs: epoch + 1, model: self, velocities: engine.velocities,
                                              seed: seed, reports: reports, topChains: engine.topChains))
            }
        }
    }

    /// The order in which epoch `epoch` of the up-down run seeded with `seed` visits `rows` rows.
    public static func minibatchOrder(rows: Int, seed: UInt64, epoch: Int) -> [Int] {
        RandomStream(seed: seed, purpose: .shuffle(layer: -2), epoch: epoch).shuffled(Array(0..<rows))
    }
}

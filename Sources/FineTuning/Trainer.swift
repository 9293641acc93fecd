import Linalg

/// The outcome of fine-tuning.
public struct TrainingResult: Sendable {
    /// The trained network: the best epoch's weights when there is a validation set (lowest
    /// validation error, ties broken by the lower validation loss), else the last epoch's.
    public var network: Network
    /// One report per epoch run.
    public var reports: [EpochReport]
    /// The epoch whose weights `network` holds.
    public var bestEpoch: Int
    /// Whether early stopping ended the run before `epochs`.
    public var stoppedEarly: Bool

    public init(network: Network, reports: [EpochReport], bestEpoch: Int, stoppedEarly: Bool) {
        self.network = network
        self.reports = reports
        self.bestEpoch = bestEpoch
        self.stoppedEarly = stoppedEarly
    }
}

/// Fine-tunes a network by minibatch backpropagation (see `TrainingConfiguration`).
public struct Trainer: Sendable {
    /// The settings of the run.
    public var configuration: TrainingConfiguration
    /// Whether each epoch's report measures the gradient norms (an observer: the weights are
    /// the same either way; off only to show that in tests).
    var measuresGradients = true

    public init(configuration: TrainingConfiguration) {
        self.configuration = configuration
    }

    /// Trains `network` on `data`. The run's seed is drawn once from `generator` (one
    /// `next()`, also when resuming, so the generator ends in the same state either way); every
    /// random draw of the run is a pure function of that seed and what it is for: the
    /// validation split (`RandomPurpose.validationSplit`), each epoch's order (a fresh
    /// Fisher-Yates shuffle of the training indices, `.shuffle(layer: -1)` at the epoch) and the
    /// dropout masks (`.dropout(layer:)` at the epoch and minibatch). `test` (if given) is
    /// evaluated after every epoch. `onEpoch` sees each epoch's report and the weights after it.
    /// `onMinibatch` sees every step; every `gradientNormsEvery` steps (0: never) its report
    /// carries the norms of that step's weight gradients, measured by an observer before the
    /// update (`FineTuningStepper.gradientNorms`), which leaves the trajectory unchanged.
    ///
    /// The result does not depend on the number of threads (`Lanes.setThreads`): the steps
    /// split their products into blocks fixed by the shapes, and evaluation runs in chunks of
    /// fixed size.
    ///
    /// Throws `FineTuningError.invalidConfiguration`/`invalidData` for bad settings or shapes
    /// and `FineTuningError.diverged(epoch:)` if the loss or the weights stop being finite.
    ///
    /// `resumeFrom` continues a run from the progress an earlier run reported through
    /// `onProgress` after one of its epochs (the seed comes from it): the result is
    /// bit-identical to the uninterrupted run with the same data and configuration.
    public func train(_ network: Network, data: LabeledData, test: LabeledData? = nil,
                      generator: inout Xoshiro256StarStar,
                      resumeFrom progress: FineTuningProgress? = nil,
                      onEpoch: (EpochReport, Network) -> Void = { _, _ in },
                      onProgress: ((FineTuningProgress) throws -> Void)? = nil,
                      onMinibatch: ((MinibatchProgress) -> Void)? = nil,
                      gradientNormsEvery: Int = 0) throws -> TrainingResult {
        let c = configuration
        try c.validate()
        try Trainer.check(data, fits: network, name: "training data")
        if let test { try Trainer.check(test, fits: network, name: "test data") }
        guard c.validationCount < data.count else {
            throw FineTuningError.invalidConfiguration(
                "validationCount \(c.validationCount) leaves no training samples out of \(data.count)")
        }
        if c.earlyStoppingPatience != nil && c.validationCount == 0 {
            throw FineTuningError.invalidConfiguration("earlyStoppingPatience needs a validation set (validationCount > 0)")
        }
        let drawnSeed = generator.next()
        try progress?.check(fits: network, dataCount: data.count, configuration: c)
        let seed = progress?.seed ?? drawnSeed

        // The split, the validation set and the diagnostic batch are fixed for the whole run.
        let (training, validationIndices) = Trainer.split(count: data.count, configuration: c, seed: seed)
        let validation = validationIndices.isEmpty ? nil : data.rows(at: validationIndices)
        let diagnosticBatch = c.diagnosticRows > 0 ? data.inputs.rows(at: training.prefix(c.diagnosticRows)) : nil

        let stepper = try FineTuningStepper(network: progress?.network ?? network, configuration: c,
                                            batchSize: min(c.batchSize, training.count), seed: seed)
        var current = progress?.network ?? network
        var reports: [EpochReport] = progress?.reports ?? []
        var best: FineTuningProgress.Best? = progress?.best
        var stale = progress?.stale ?? 0
        var stoppedEarly = false
        let clock = ContinuousClock()
        if let progress { stepper.engine.restore(progress) }

        for epoch in stride(from: (progress?.epoch ?? 0) + 1, through: c.epochs, by: 1) {
            let rate = c.learningRate(epoch: epoch)
            let trainHidden = epoch > c.freezeHiddenEpochs
            let order = Trainer.order(of: training, seed: seed, epoch: epoch)
            let batches = stride(from: 0, to: order.count, by: stepper.batchSize).map {
                order[$0..<min($0 + stepper.batchSize, order.count)]
            }

            // Observer: the gradient norms on the epoch's first minibatch, before its step.
            let gradientNorms = measuresGradients
                ? stepper.gradientNorms(on: data, rows: batches[0], epoch: epoch, minibatch: 0)
                : Array(repeating: 0, count: network.layers.count)

            // The minibatch loop: one step (forward, loss, backward, update) per minibatch.
            let started = clock.now
            var lossSum = 0.0, errors = 0
            try BLASThreads.singleThreaded {
                for (k, rows) in batches.enumerated() {
                    let step = (epoch - 1) * batches.count + k + 1
                    let norms = onMinibatch != nil && MinibatchProgress.measures(step: step, every: gradientNormsEvery)
                        ? stepper.gradientNorms(on: data, rows: rows, epoch: epoch, minibatch: k) : nil
                    let stats = stepper.step(on: data, rows: rows, learningRate: rate, trainHidden: trainHidden,
                                             epoch: epoch, minibatch: k)
                    let loss = stats.lossSum / Double(rows.count)
                    guard loss.isFinite else { throw FineTuningError.diverged(epoch: epoch) }
                    lossSum += loss
                    errors += stats.errors
                    onMinibatch?(MinibatchProgress(epoch: epoch, minibatch: k + 1, minibatches: batches.count,
                                                   rows: rows.count, loss: loss, learningRate: Double(rate),
                                                   gradientNorms: norms))
                }
            }
            let seconds = Trainer.seconds(clock.now - started)
            guard stepper.parametersAreFinite else { throw FineTuningError.diverged(epoch: epoch) }
            current = stepper.network

            // Evaluation and diagnostics (evaluation mode; observers).
            let evaluationStarted = clock.now
            let validationResult = validation.map { current.evaluate($0) }
            let testResult = test.map { current.evaluate($0) }
            let layers = current.diagnostics(on: diagnosticBatch, gradientNorms: gradientNorms)
            let report = EpochReport(
                epoch: epoch, trainLoss: lossSum / Double(batches.count),
                trainError: Double(errors) / Double(network.output.errorDenominator(rows: order.count, outputs: network.outputCount)),
                validationLoss: validationResult?.loss, validationError: validationResult?.errorRate,
                testLoss: testResult?.loss, testError: testResult?.errorRate,
                learningRate: rate, onlyOutputLayerTrained: !trainHidden, seconds: seconds,
                evaluationSeconds: Trainer.seconds(clock.now - evaluationStarted), layers: layers)
            reports.append(report)
            onEpoch(report, current)

            // Keep the best epoch's weights; stop when patience runs out.
            if let validationResult {
                if best == nil || validationResult.errorRate < best!.error
                    || (validationResult.errorRate == best!.error && validationResult.loss < best!.loss) {
                    best = .init(epoch: epoch, error: validationResult.errorRate, loss: validationResult.loss, network: current)
                    stale = 0
                } else {
                    stale += 1
                }
                if let patience = c.earlyStoppingPatience, stale >= patience, epoch < c.epochs {
                    stoppedEarly = true
                }
            }
            if let onProgress {
                try onProgress(stepper.engine.progress(
                    epoch: stoppedEarly ? c.epochs : epoch, network: current, seed: seed,
                    validationIndices: validationIndices, best: best, stale: stale, reports: reports))
            }
            if stoppedEarly { break }
        }
        if let best {
            return TrainingResult(network: best.network, reports: reports, bestEpoch: best.epoch, stoppedEarly: stoppedEarly)
        }
        return TrainingResult(network: current, reports: reports, bestEpoch: reports.count, stoppedEarly: stoppedEarly)
    }

    /// Trains with a generator seeded from `configuration.seed`.
    public func train(_ network: Network, data: LabeledData, test: LabeledData? = nil,
                      onEpoch: (EpochReport, Network) -> Void = { _, _ in }) throws -> TrainingResult {
        var generator = Xoshiro256StarStar(seed: configuration.seed)
        return try train(network, data: data, test: test, generator: &generator, onEpoch: onEpoch)
    }

    /// The training indices (in their original order) and the validation indices (sorted) of
    /// the run seeded with `seed`: the last `validationCount` samples, or a random subset drawn
    /// with `RandomStream(seed: seed, purpose: .validationSplit)`.
    static func split(count: Int, configuration c: TrainingConfiguration,
                      seed: UInt64) -> (training: [Int], validation: [Int]) {
        let k = c.validationCount
        guard k > 0 else { return (Array(0..<count), []) }
        switch c.validationSelection {
        case .last:
            return (Array(0..<(count - k)), Array((count - k)..<count))
        case .random:
            let all = RandomStream(seed: seed, purpose: .validationSplit).shuffled(Array(0..<count))
            let held = Set(all.prefix(k))
            return ((0..<count).filter { !held.contains($0) }, all.prefix(k).sorted())
        }
    }

    /// The order of epoch `epoch` (1-based): a fresh Fisher-Yates shuffle of `training` with
    /// `RandomStream(seed: seed, purpose: .shuffle(layer: -1), epoch: epoch)`.
    static func order(of training: [Int], seed: UInt64, epoch: Int) -> [Int] {
        RandomStream(seed: seed, purpose: .shuffle(layer: -1), epoch: epoch).shuffled(training)
    }

    static func check(_ data: LabeledData, fits network: Network, name: String) throws {
        guard data.inputs.columns == network.inputCount else {
            throw FineTuningError.invalidData("\(name) has \(data.inputs.columns) features, the network takes \(network.inputCount)")
        }
        guard data.targets.columns == network.outputCount else {
            throw FineTuningError.invalidData("\(name) has \(data.targets.columns) target columns, the network has \(network.outputCount) outputs")
        }
        guard data.count > 0 else { throw FineTuningError.invalidData("\(name) is empty") }
    }

    static func seconds(_ duration: Duration) -> Double {
        let (s, attoseconds) = duration.components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}

/// Fine-tunes `network` on `data` with `configuration`: the same as
/// `Trainer(configuration:).train(network, data:test:generator:onEpoch:)`.
public func train(network: Network, data: LabeledData, test: LabeledData? = nil,
                  configuration: TrainingConfiguration, generator: inout Xoshiro256StarStar,
                  onEpoch: (EpochReport, Network) -> Void = { _, _ in }) throws -> TrainingResult {
    try Trainer(configuration: configuration).train(network, data: data, test: test, generator: &generator, onEpoch: onEpoch)
}

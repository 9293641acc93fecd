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

    public init(configuration: TrainingConfiguration) {
        self.configuration = configuration
    }

    /// Trains `network` on `data`, drawing the validation split, the order of each epoch and
    /// the dropout masks from `generator`. `test` (if given) is evaluated after every epoch.
    /// `onEpoch` sees each epoch's report and the weights after it.
    ///
    /// Throws `FineTuningError.invalidConfiguration`/`invalidData` for bad settings or shapes
    /// and `FineTuningError.diverged(epoch:)` if the loss or the weights stop being finite.
    ///
    /// `resumeFrom` continues a run from the progress an earlier run reported through
    /// `onProgress` after one of its epochs (the generator's state is restored from it): the
    /// result is bit-identical to the uninterrupted run with the same data, configuration and
    /// thread count.
    public func train(_ network: Network, data: LabeledData, test: LabeledData? = nil,
                      generator: inout Xoshiro256StarStar,
                      resumeFrom progress: FineTuningProgress? = nil,
                      onEpoch: (EpochReport, Network) -> Void = { _, _ in },
                      onProgress: ((FineTuningProgress) throws -> Void)? = nil) throws -> TrainingResult {
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

        // The split, the validation set and the diagnostic batch are fixed for the whole run.
        var (order, validationIndices) = Trainer.split(count: data.count, configuration: c, generator: &generator)
        if let progress {
            try progress.check(fits: network, dataCount: data.count, configuration: c)
            validationIndices = progress.validationIndices
            let held = Set(validationIndices)
            order = (0..<data.count).filter { !held.contains($0) }
        }
        let validation = validationIndices.isEmpty ? nil : data.rows(at: validationIndices)
        let diagnosticBatch = c.diagnosticRows > 0 ? data.inputs.rows(at: order.prefix(c.diagnosticRows)) : nil

        let state = TrainingState(network: progress?.network ?? network, capacity: min(c.batchSize, order.count), configuration: c)
        var current = progress?.network ?? network
        var reports: [EpochReport] = progress?.reports ?? []
        var best: (epoch: Int, error: Double, loss: Double, network: Network)?
        var stale = progress?.stale ?? 0
        var stoppedEarly = false
        let clock = ContinuousClock()
        if let progress {
            state.restore(progress)
            order = progress.order
            generator = Xoshiro256StarStar(state: (progress.generatorState[0], progress.generatorState[1],
                                                   progress.generatorState[2], progress.generatorState[3]))
            if let b = progress.best { best = (b.epoch, b.error, b.loss, b.network) }
        }
        let firstEpoch = (progress?.epoch ?? 0) + 1
        guard firstEpoch <= c.epochs else {
            let finished = best?.network ?? current
            return TrainingResult(network: finished, reports: reports, bestEpoch: best?.epoch ?? reports.count, stoppedEarly: false)
        }

        for epoch in firstEpoch...c.epochs {
            let rate = c.learningRate(epoch: epoch)
            let trainHidden = epoch > c.freezeHiddenEpochs
            generator.shuffle(&order)

            // The minibatch loop: gather, step (forward, loss, backward, update).
            let started = clock.now
            var lossSum = 0.0, batches = 0, errors = 0
            // The lanes call BLAS side by side: single-threaded BLAS during the minibatch loop.
            try Lanes.withSingleThreadedBLAS {
                try data.inputs.elements.withUnsafeBufferPointer { x in
                    try data.targets.elements.withUnsafeBufferPointer { t in
                        var first = 0
                        while first < order.count {
                            let rows = min(state.capacity, order.count - first)
                            state.loadRows(order[first..<(first + rows)], inputs: x.baseAddress!, targets: t.baseAddress!)
                            let stats = state.step(rows: rows, learningRate: rate, trainHidden: trainHidden,
                                                   recordGradientNorms: first == 0, generator: &generator)
                            let loss = stats.lossSum / Double(rows)
                            guard loss.isFinite else { throw FineTuningError.diverged(epoch: epoch) }
                            lossSum += loss
                            errors += stats.errors
                            batches += 1
                            first += rows
                        }
                    }
                }
            }
            let seconds = Trainer.seconds(clock.now - started)
            guard state.parametersAreFinite else { throw FineTuningError.diverged(epoch: epoch) }
            state.store(into: &current)

            // Evaluation and diagnostics (evaluation mode).
            let evaluationStarted = clock.now
            let validationResult = validation.map { current.evaluate($0) }
            let testResult = test.map { current.evaluate($0) }
            let layers = current.diagnostics(on: diagnosticBatch, gradientNorms: state.gradientNorms)
            let report = EpochReport(
                epoch: epoch, trainLoss: lossSum / Double(max(batches, 1)),
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
                    best = (epoch, validationResult.errorRate, validationResult.loss, current)
                    stale = 0
                } else {
                    stale += 1
                }
                if let patience = c.earlyStoppingPatience, stale >= patience, epoch < c.epochs {
                    stoppedEarly = true
                }
            }
            if let onProgress {
                try onProgress(state.progress(
                    epoch: stoppedEarly ? c.epochs : epoch, network: current, generator: generator, order: order,
                    validationIndices: validationIndices, best: best.map { .init(epoch: $0.epoch, error: $0.error, loss: $0.loss, network: $0.network) },
                    stale: stale, reports: reports))
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

    /// The training indices (in their original order) and the validation indices.
    static func split(count: Int, configuration c: TrainingConfiguration,
                      generator: inout Xoshiro256StarStar) -> (training: [Int], validation: [Int]) {
        let k = c.validationCount
        guard k > 0 else { return (Array(0..<count), []) }
        switch c.validationSelection {
        case .last:
            return (Array(0..<(count - k)), Array((count - k)..<count))
        case .random:
            var all = Array(0..<count)
            generator.shuffle(&all)
            let held = Set(all.prefix(k))
            return ((0..<count).filter { !held.contains($0) }, all.prefix(k).sorted())
        }
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

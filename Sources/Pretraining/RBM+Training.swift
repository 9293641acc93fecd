import Linalg

extension RBM {
    /// Trains the RBM by CD-k or persistent CD on the rows of `data` (shape (n, visibleCount);
    /// never modified), calling `onEpoch` after each epoch.
    ///
    /// Each epoch visits the rows in a fresh random order (`RBM.minibatchOrder`) in minibatches
    /// of `configuration.batchSize`; every minibatch is one `ContrastiveDivergenceStepper` step
    /// (see `RBMTrainingConfiguration` for the recipe). The run's seed is one draw of
    /// `generator`; every random draw (orders, Gibbs samples, monitors) is keyed by it and by
    /// what it is for, so the result does not depend on the number of threads.
    ///
    /// Resuming: after each epoch `onProgress` (if given) receives the complete training state
    /// (`RBMTrainingProgress`); if it throws, training stops and the error propagates. Passing
    /// such a progress as `resumeFrom` continues that run after its epoch, with its parameters
    /// (the RBM's own are replaced; its shape and unit types must match) and its seed (`generator`
    /// is not drawn from): the run ends bit-identical to the uninterrupted one with the same
    /// data, configuration and monitors. `onEpoch` sees only the epochs run now. A progress that
    /// does not fit gives `PretrainingError.invalidConfiguration`.
    ///
    /// Throws `PretrainingError.diverged` when a weight or bias becomes NaN or infinite (the
    /// RBM keeps the parameters of the last finite epoch), and typed errors for bad data,
    /// configurations or monitor options.
    public mutating func train(on data: Matrix, configuration: RBMTrainingConfiguration,
                               monitors: MonitorOptions = .none, generator: inout Xoshiro256StarStar,
                               resumeFrom progress: RBMTrainingProgress? = nil,
                               onEpoch: (RBMEpochReport) -> Void = { _ in },
                               onProgress: ((RBMTrainingProgress) throws -> Void)? = nil) throws {
        let drawn = generator.next()  // drawn on resuming too, so that the generator ends the same
        let seed = progress?.seed ?? drawn
        try train(on: data, configuration: configuration, monitors: monitors, layer: 0, seed: seed,
                  resumeFrom: progress, onEpoch: onEpoch, onProgress: onProgress)
    }

    /// `train` with the run's seed and the layer of the stack (named in errors; both key the
    /// random draws).
    mutating func train(on data: Matrix, configuration: RBMTrainingConfiguration, monitors: MonitorOptions,
                        layer: Int, seed: UInt64, resumeFrom progress: RBMTrainingProgress? = nil,
                        onEpoch: (RBMEpochReport) -> Void = { _ in },
                        onProgress: ((RBMTrainingProgress) throws -> Void)? = nil,
                        onMinibatch: ((MinibatchProgress) -> Void)? = nil,
                        gradientNormsEvery: Int = 0) throws {
        try configuration.validate()
        try validate(data, what: layer == 0 ? "training data" : "training data of layer \(layer + 1)")
        let rows = data.rows
        let batchSize = min(configuration.batchSize, rows)
        var reports: [RBMEpochReport] = []
        if let progress {
            try progress.check(fits: self, configuration: configuration, rows: rows, batchSize: batchSize,
                               what: layer == 0 ? "the checkpoint" : "the checkpoint of layer \(layer + 1)")
            self = progress.rbm
            reports = progress.reports
        }
        let seed = progress?.seed ?? seed
        let stepper = try ContrastiveDivergenceStepper(rbm: self, configuration: configuration, batchSize: batchSize,
                                                       seed: seed, layer: layer,
                                                       visibleOffset: configuration.centered ? data.columnMeans() : nil)
        if let progress { stepper.restore(progress) }
        let monitorRoot = RandomStream(seed: seed, purpose: .monitor(layer: layer)).generator()
        let monitor = try MonitorState(options: monitors, rbm: self, data: data, root: monitorRoot)
        let clock = ContinuousClock()

        for epoch in (progress?.completedEpochs ?? 0)..<configuration.epochs {
            let start = clock.now
            stepper.setEpoch(epoch)
            let order = RBM.minibatchOrder(rows: rows, seed: seed, layer: layer, epoch: epoch)
            var error = 0.0
            data.elements.withUnsafeBufferPointer { pd in
                order.withUnsafeBufferPointer { po in
                    let minibatches = (rows + batchSize - 1) / batchSize
                    for first in stride(from: 0, to: rows, by: batchSize) {
                        let minibatch = UnsafeBufferPointer(rebasing: po[first..<min(first + batchSize, rows)])
                        let step = epoch * minibatches + first / batchSize + 1
                        let measured = onMinibatch != nil && MinibatchProgress.measures(step: step, every: gradientNormsEvery)
                        if measured { stepper.measureGradientNormOfNextStep() }
                        let batchError = stepper.step(data: pd.baseAddress!, rows: minibatch)
                        error += batchError
                        onMinibatch?(MinibatchProgress(epoch: epoch + 1, minibatch: first / batchSize + 1, minibatches: minibatches,
                                                       rows: minibatch.count, loss: batchError / Double(minibatch.count),
                                                       learningRate: Double(stepper.learningRate),
                                                       gradientNorms: measured ? [stepper.measuredGradientNorm] : nil))
                    }
                }
            }
            guard stepper.parametersAreFinite else { throw PretrainingError.diverged(layer: layer, epoch: epoch) }
            stepper.store(into: &self)
            let seconds = (clock.now - start).seconds

            var report = RBMEpochReport(epoch: epoch, epochs: configuration.epochs, seconds: seconds, monitorSeconds: 0,
                                        momentum: configuration.momentum(forEpoch: epoch),
                                        summedReconstructionError: error, reconstructionError: error / Double(rows))
            if let tempering = stepper.tempering {
                report.inverseTemperatures = tempering.inverseTemperatures
                report.swapRates = tempering.swapRates
            }
            if monitor.isMonitored(epoch: epoch, of: configuration.epochs) {
                let monitorStart = clock.now
                try monitor.measure(self, into: &report)
                report.monitorSeconds = (clock.now - monitorStart).seconds
            }
            reports.append(report)
            onEpoch(report)
            if let onProgress {
                try onProgress(stepper.progress(completedEpochs: epoch + 1, rbm: self, rows: rows, reports: reports))
            }
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}

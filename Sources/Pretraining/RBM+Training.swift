import Linalg

extension RBM {
    /// Trains the RBM by CD-k or persistent CD on the rows of `data` (shape (n, visibleCount);
    /// never modified), calling `onEpoch` after each epoch.
    ///
    /// Each epoch shuffles the rows with `generator` and walks them in minibatches of
    /// `configuration.batchSize`; every minibatch is one update (see `RBMTrainingConfiguration`
    /// for the recipe). The monitors and the lanes' sampling get their own generators, split
    /// off `generator` at the start.
    ///
    /// Threads: with n > 1 BLAS threads (`BLASThreads`), each minibatch's work is split into n
    /// lanes that call single-threaded BLAS side by side on blocks of columns (faster than
    /// OpenBLAS's own threading on products this small); the BLAS thread count is set to 1
    /// during each epoch's updates and restored before the monitors and `onEpoch` run. Results
    /// are reproducible for a given seed and thread count.
    ///
    /// Resuming: after each epoch `onProgress` (if given) receives the complete training state
    /// (`RBMTrainingProgress`); if it throws, training stops and the error propagates. Passing
    /// such a progress as `resumeFrom` continues that run after its epoch, with its parameters
    /// (the RBM's own are replaced; its shape and unit types must match) and its generators
    /// (`generator` is overwritten and, as in the uninterrupted run, ends in the training
    /// generator's final state): the run ends bit-identical to the uninterrupted one with the
    /// same data, configuration, monitors and thread count. `onEpoch` sees only the epochs run
    /// now. A progress that does not fit gives `PretrainingError.invalidConfiguration`.
    ///
    /// Throws `PretrainingError.diverged` when a weight or bias becomes NaN or infinite (the
    /// RBM keeps the parameters of the last finite epoch), and typed errors for bad data,
    /// configurations or monitor options.
    public mutating func train(on data: Matrix, configuration: RBMTrainingConfiguration,
                               monitors: MonitorOptions = .none, generator: inout Xoshiro256StarStar,
                               resumeFrom progress: RBMTrainingProgress? = nil,
                               onEpoch: (RBMEpochReport) -> Void = { _ in },
                               onProgress: ((RBMTrainingProgress) throws -> Void)? = nil) throws {
        try train(on: data, configuration: configuration, monitors: monitors, layer: 0, lanes: nil,
                  generator: &generator, resumeFrom: progress, onEpoch: onEpoch, onProgress: onProgress)
    }

    /// `train`, with `layer` named in errors and the number of lanes (nil: the default, see
    /// `CDWorkspace.defaultLanes`).
    mutating func train(on data: Matrix, configuration: RBMTrainingConfiguration, monitors: MonitorOptions,
                        layer: Int, lanes: Int?, generator: inout Xoshiro256StarStar,
                        resumeFrom progress: RBMTrainingProgress? = nil,
                        onEpoch: (RBMEpochReport) -> Void = { _ in },
                        onProgress: ((RBMTrainingProgress) throws -> Void)? = nil) throws {
        try configuration.validate()
        if configuration.resampleBinaryData && visibleUnits != .bernoulli {
            throw PretrainingError.invalidConfiguration(
                "resampleBinaryData needs Bernoulli visible units, this RBM has \(visibleUnits.rawValue) ones")
        }
        try validate(data, what: layer == 0 ? "training data" : "training data of layer \(layer + 1)")
        let rows = data.rows
        let batchSize = min(configuration.batchSize, rows)
        let laneCount = CDWorkspace.laneCount(requested: lanes, visibleCount: visibleCount, hiddenCount: hiddenCount)
        if let progress {
            try progress.check(fits: self, configuration: configuration, rows: rows, batchSize: batchSize,
                               lanes: laneCount, what: layer == 0 ? "the checkpoint" : "the checkpoint of layer \(layer + 1)")
            self = progress.rbm
        }

        // The generators: the monitors' root and the lanes' are split off `generator` (a resumed
        // run takes all three from the progress instead).
        var scratch = Xoshiro256StarStar(seed: 0)
        let monitorRoot = progress.map { Xoshiro256StarStar(words: $0.monitorGeneratorState) } ?? generator.split()
        let monitor = try MonitorState(options: monitors, rbm: self, data: data, root: monitorRoot)
        let workspace: CDWorkspace
        if progress == nil {
            workspace = CDWorkspace(rbm: self, configuration: configuration, batchSize: batchSize,
                                    lanes: laneCount, generator: &generator)
        } else {
            workspace = CDWorkspace(rbm: self, configuration: configuration, batchSize: batchSize,
                                    lanes: laneCount, generator: &scratch)
        }
        var order = Array(0..<rows)
        var reports: [RBMEpochReport] = []
        if let progress {
            workspace.restore(progress)
            generator = Xoshiro256StarStar(words: progress.generatorState)
            order = progress.order
            reports = progress.reports
        }
        let clock = ContinuousClock()

        for epoch in (progress?.completedEpochs ?? 0)..<configuration.epochs {
            let start = clock.now
            generator.shuffle(&order)
            let momentum = configuration.momentum(forEpoch: epoch)
            workspace.setEpoch(epoch, of: configuration)
            var error = 0.0
            // The lanes call BLAS side by side: single-threaded BLAS during the updates.
            Lanes.withSingleThreadedBLAS {
                data.elements.withUnsafeBufferPointer { pd in
                    order.withUnsafeBufferPointer { po in
                        var first = 0
                        while first < rows {
                            let last = min(first + batchSize, rows)
                            let next = last < rows ? momentum : configuration.momentum(forEpoch: epoch + 1)
                            error += workspace.step(data: pd.baseAddress!,
                                                    rows: UnsafeBufferPointer(rebasing: po[first..<last]),
                                                    momentum: momentum, nextMomentum: next)
                            first = last
                        }
                    }
                }
            }
            guard workspace.parametersAreFinite else { throw PretrainingError.diverged(layer: layer, epoch: epoch) }
            workspace.store(into: &self)
            let seconds = (clock.now - start).seconds

            var report = RBMEpochReport(epoch: epoch, epochs: configuration.epochs, seconds: seconds, monitorSeconds: 0,
                                     momentum: momentum, summedReconstructionError: error,
                                     reconstructionError: error / Double(rows))
            if monitor.isMonitored(epoch: epoch, of: configuration.epochs) {
                let monitorStart = clock.now
                try monitor.measure(self, into: &report)
                report.monitorSeconds = (clock.now - monitorStart).seconds
            }
            reports.append(report)
            onEpoch(report)
            if let onProgress {
                try onProgress(workspace.progress(completedEpochs: epoch + 1, rbm: self, generator: generator,
                                                  monitorRoot: monitorRoot, order: order, reports: reports))
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

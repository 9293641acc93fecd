import Linalg

extension RBM {
    /// Trains the RBM by CD-k or persistent CD on the rows of `data` (shape (n, visibleCount);
    /// never modified), calling `onEpoch` after each epoch.
    ///
    /// Each epoch shuffles the rows with `generator` and walks them in minibatches of
    /// `configuration.batchSize`; every minibatch is one update (see `RBMTrainingConfiguration`
    /// for the recipe).
    ///
    /// Threads: with n > 1 BLAS threads (`BLASThreads`), each minibatch's work is split into n
    /// lanes that call single-threaded BLAS side by side on blocks of columns (faster than
    /// OpenBLAS's own threading on products this small); the BLAS thread count is set to 1
    /// during each epoch's updates and restored before the monitors and `onEpoch` run. Results
    /// are reproducible for a given seed and thread count.
    ///
    /// Throws `PretrainingError.diverged` when a weight or bias becomes NaN or infinite (the
    /// RBM keeps the parameters of the last finite epoch), and typed errors for bad data,
    /// configurations or monitor options.
    public mutating func train(on data: Matrix, configuration: RBMTrainingConfiguration,
                               monitors: MonitorOptions = .none, generator: inout Xoshiro256StarStar,
                               onEpoch: (RBMEpochReport) -> Void = { _ in }) throws {
        try train(on: data, configuration: configuration, monitors: monitors, layer: 0, lanes: nil,
                  generator: &generator, onEpoch: onEpoch)
    }

    /// `train`, with `layer` named in a divergence error and the number of lanes (nil: the
    /// default, see `CDWorkspace.defaultLanes`).
    mutating func train(on data: Matrix, configuration: RBMTrainingConfiguration, monitors: MonitorOptions,
                        layer: Int, lanes: Int?, generator: inout Xoshiro256StarStar,
                        onEpoch: (RBMEpochReport) -> Void) throws {
        try configuration.validate()
        try validate(data, what: layer == 0 ? "training data" : "training data of layer \(layer + 1)")
        var monitor = try MonitorState(options: monitors, rbm: self, data: data, generator: generator.split())
        let rows = data.rows
        let batchSize = min(configuration.batchSize, rows)
        let workspace = CDWorkspace(rbm: self, configuration: configuration, batchSize: batchSize,
                                    lanes: lanes, generator: &generator)
        var order = Array(0..<rows)
        let clock = ContinuousClock()

        for epoch in 0..<configuration.epochs {
            let start = clock.now
            generator.shuffle(&order)
            let momentum = configuration.momentum(forEpoch: epoch)
            var error = 0.0
            // The lanes call BLAS side by side: single-threaded BLAS during the updates.
            let blasThreads = BLASThreads.count
            if workspace.lanes > 1 && blasThreads != 1 { BLASThreads.set(1) }
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
            if BLASThreads.count != blasThreads { BLASThreads.set(blasThreads) }
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
            onEpoch(report)
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

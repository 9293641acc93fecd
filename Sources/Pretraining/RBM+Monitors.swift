import Linalg

extension RBM {
    /// The stochastic pseudo-log-likelihood of each row of `v` (shape (n, visibleCount)), as in
    /// scikit-learn's `BernoulliRBM.score_samples`: flip one randomly chosen unit i of each row
    /// (v_i -> 1 - v_i) and return V * log sigmoid(F(v_flipped) - F(v)).
    ///
    /// Scaling: log sigmoid(F(v~) - F(v)) = log p(v_i | v_-i) for the chosen unit; times V it is
    /// an unbiased one-sample estimate of the pseudo-log-likelihood sum_i log p(v_i | v_-i),
    /// i.e. a total over the visible units of one sample (not a per-unit average).
    /// Bernoulli visible units only.
    public func pseudoLogLikelihood(_ v: Matrix, generator: inout Xoshiro256StarStar) throws -> [Double] {
        guard visibleUnits == .bernoulli else {
            throw PretrainingError.unsupportedUnits(operation: "pseudo-log-likelihood", visible: visibleUnits,
                                                    hidden: hiddenUnits)
        }
        try validate(v, what: "pseudoLogLikelihood")
        var flipped = v
        for r in 0..<v.rows {
            let i = Int(generator.next() % UInt64(visibleCount))
            flipped[r, i] = 1 - flipped[r, i]
        }
        let f = freeEnergy(v), fFlipped = freeEnergy(flipped)
        let scale = Double(visibleCount)
        // log sigmoid(z) = -softplus(-z)
        return (0..<v.rows).map { -scale * softplus(-(fFlipped[$0] - f[$0])) }
    }

    /// The free-energy gap between `training` and `heldOut` rows (Hinton's overfitting monitor).
    public func freeEnergyGap(training: Matrix, heldOut: Matrix) -> FreeEnergyGap {
        func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(max(x.count, 1)) }
        return FreeEnergyGap(training: mean(freeEnergy(training)), heldOut: mean(freeEnergy(heldOut)))
    }
}

/// The fixed data the monitors of one training run look at, chosen once at its start.
///
/// Randomness: everything is derived from one `root` generator that never advances, so that a
/// resumed run (see `RBMTrainingProgress.monitorGeneratorState`, which stores the root) redraws
/// the same training subset and gives every monitored epoch the same stream: the subset is
/// drawn from `root.split()` (the root's first output as seed), epoch e's measurements
/// (pseudo-log-likelihood, AIS) from the split of the root's (e + 2)-th output.
struct MonitorState {
    let options: MonitorOptions
    let trainingSubset: Matrix
    let heldOut: Matrix?
    let baseRateBias: [Float]?
    /// The generator the subset and the per-epoch streams are derived from (never advanced).
    let root: Xoshiro256StarStar

    /// Checks the options against `rbm` and `data` and draws the training subset from `root`.
    init(options: MonitorOptions, rbm: RBM, data: Matrix, root: Xoshiro256StarStar) throws {
        self.options = options
        self.root = root
        if options.interval < 1 {
            throw PretrainingError.invalidConfiguration("monitor interval must be >= 1, got \(options.interval)")
        }
        if options.sampleCount < 1 && !options.isEmpty {
            throw PretrainingError.invalidConfiguration("monitor sample count must be >= 1, got \(options.sampleCount)")
        }
        if options.pseudoLogLikelihood && rbm.visibleUnits != .bernoulli {
            throw PretrainingError.unsupportedUnits(operation: "pseudo-log-likelihood",
                                                    visible: rbm.visibleUnits, hidden: rbm.hiddenUnits)
        }
        if let ais = options.annealedImportanceSampling {
            guard rbm.visibleUnits == .bernoulli && rbm.hiddenUnits == .bernoulli else {
                throw PretrainingError.unsupportedUnits(operation: "annealed importance sampling",
                                                        visible: rbm.visibleUnits, hidden: rbm.hiddenUnits)
            }
            try ais.validate()
            baseRateBias = RBM.baseRateVisibleBias(for: data, smoothing: ais.baseRateSmoothing)
        } else {
            baseRateBias = nil
        }
        if options.exactLogLikelihood { try rbm.checkExactPartitionIsAvailable() }
        if let heldOut = options.heldOut {
            try rbm.validate(heldOut, what: "held-out monitor data")
            self.heldOut = heldOut.rows > options.sampleCount ? heldOut.rows(in: 0..<options.sampleCount) : heldOut
        } else {
            self.heldOut = nil
        }
        if options.isEmpty {
            trainingSubset = Matrix(rows: 0, columns: data.columns)
        } else if data.rows <= options.sampleCount {
            trainingSubset = data
        } else {
            var order = Array(0..<data.rows)
            var first = root
            var subsetGenerator = first.split()
            subsetGenerator.shuffle(&order)
            trainingSubset = data.rows(at: order[0..<options.sampleCount])
        }
    }

    /// Whether epoch `epoch` (0-based) of `epochs` is monitored.
    func isMonitored(epoch: Int, of epochs: Int) -> Bool {
        !options.isEmpty && ((epoch + 1) % options.interval == 0 || epoch == epochs - 1)
    }

    /// The generator of epoch `epoch`'s (0-based) measurements: the split of the root's
    /// (epoch + 2)-th output.
    func generator(forEpoch epoch: Int) -> Xoshiro256StarStar {
        var g = root
        for _ in 0...epoch { _ = g.next() }
        return g.split()
    }

    /// Fills the monitor fields of `report` (of epoch `report.epoch`) for `rbm`.
    func measure(_ rbm: RBM, into report: inout RBMEpochReport) throws {
        var generator = generator(forEpoch: report.epoch)
        if let heldOut {
            report.freeEnergyGap = rbm.freeEnergyGap(training: trainingSubset, heldOut: heldOut)
        }
        if options.pseudoLogLikelihood {
            let values = try rbm.pseudoLogLikelihood(trainingSubset, generator: &generator)
            report.pseudoLogLikelihood = values.reduce(0, +) / Double(values.count)
        }
        if let ais = options.annealedImportanceSampling, let baseRateBias {
            let result = try rbm.annealedImportanceSampling(baseVisibleBias: baseRateBias, configuration: ais,
                                                            generator: &generator)
            report.annealedImportanceSampling = result
            report.logPartition = result.logZ
        }
        if options.exactLogLikelihood { report.logPartition = try rbm.exactLogPartition() }
        if let logZ = report.logPartition {
            report.trainingLogLikelihood = rbm.averageLogLikelihood(trainingSubset, logPartition: logZ)
            if let heldOut { report.heldOutLogLikelihood = rbm.averageLogLikelihood(heldOut, logPartition: logZ) }
        }
    }
}

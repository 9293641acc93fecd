import Linalg

// One run of a comparison: its start (pre-trained layers cached per seed), a rate-selection
// run scored on a validation split, and a scored run on the test set. `Comparison.run` calls these.

extension Comparison {
    /// The pre-trained layers, one closure call per seed (and per activation if they depend on it).
    struct PretrainedLayers {
        let pretrain: ((Activation, UInt64) throws -> [DenseParameters])?
        let dependsOnActivation: Bool
        var cache: [String: (layers: [DenseParameters], seconds: Double)] = [:]

        mutating func layers(_ activation: Activation, seed: UInt64) throws -> (layers: [DenseParameters], seconds: Double) {
            let key = dependsOnActivation ? "\(seed)/\(activation.name)" : "\(seed)"
            if let cached = cache[key] { return cached }
            guard let pretrain else { throw FineTuningError.missingPretrainedLayers }
            let clock = ContinuousClock()
            let began = clock.now
            let layers = try pretrain(activation, seed)
            cache[key] = (layers, Trainer.seconds(clock.now - began))
            return cache[key]!
        }
    }

    /// The network of `key`'s arm for its seed, with its generator for training and the
    /// pre-training seconds.
    func start(_ key: ComparisonRunKey, data: LabeledData,
               layers: inout PretrainedLayers) throws -> (Network, Xoshiro256StarStar, Double) {
        var initializer = key.start.initializer
        var seconds = 0.0
        if initializer.isPretrained {
            let pretrained = try layers.layers(key.activation, seed: key.seed)
            initializer = initializer.withPretrainedLayers(pretrained.layers)
            seconds = pretrained.seconds
        }
        var root = Xoshiro256StarStar(seed: key.seed)
        var initGenerator = root.split()
        let trainGenerator = root.split()
        let calibration = data.inputs.rows(in: 0..<min(calibrationRows, data.count))
        let network = try Network(sizes: sizes, hiddenActivation: key.activation, output: output, maxoutPieces: maxoutPieces,
                                  initializer: initializer, calibrationData: calibration, generator: &initGenerator)
        return (key.start.batchNorm ? network.withBatchNormalization() : network, trainGenerator, seconds)
    }

    /// The validation error of a rate-selection run (nil if it diverged): the training set
    /// minus a random split of `selectionValidationCount` samples, no test set.
    func selectionError(_ key: ComparisonRunKey, data: LabeledData, layers: inout PretrainedLayers,
                        onEpoch: (ComparisonRunKey, EpochReport) -> Void,
                        observers: ComparisonObservers = ComparisonObservers()) throws -> Double? {
        var c = configuration
        c.learningRate = key.learningRate
        c.validationCount = selectionValidationCount
        c.validationSelection = .random
        var (network, generator, _) = try start(key, data: data, layers: &layers)
        do {
            let result = try observedTraining(key, network, data: data, test: nil, configuration: c, generator: &generator,
                                              observers: observers) { report in onEpoch(key, report) }
            return result.reports[result.bestEpoch - 1].validationError
        } catch FineTuningError.diverged {
            return nil
        }
    }

    /// One scored run: `epochs` epochs at the key's rate on the whole training set, the
    /// returned network scored on the test set.
    func scoredRun(_ key: ComparisonRunKey, epochs: Int, data: LabeledData, test: LabeledData?,
                   layers: inout PretrainedLayers, onEpoch: (ComparisonRunKey, EpochReport) -> Void,
                   onTrained: (ComparisonRunKey, Network) -> Void = { _, _ in },
                   observers: ComparisonObservers = ComparisonObservers()) throws -> ComparisonRow {
        var c = configuration
        c.learningRate = key.learningRate
        c.epochs = epochs
        var (network, generator, pretrainingSeconds) = try start(key, data: data, layers: &layers)
        var reports: [EpochReport] = []
        var row = ComparisonRow(start: key.start.name, activation: key.activation.name, seed: key.seed,
                                learningRate: key.learningRate, epochs: epochs, testError: nil, validationError: nil,
                                bestEpoch: 0, finalTrainLoss: nil, fineTuningSeconds: 0, pretrainingSeconds: pretrainingSeconds,
                                totalSeconds: 0, firstEpochGradientNorms: [], divergedAtEpoch: nil, reports: [],
                                misclassifiedTestSamples: nil)
        do {
            let result = try observedTraining(key, network, data: data, test: test, configuration: c, generator: &generator,
                                              observers: observers) { report in
                reports.append(report)
                onEpoch(key, report)
            }
            if let test {
                row.testError = result.network.evaluate(test).errorRate
                if output == .softmax { row.misclassifiedTestSamples = result.network.misclassified(test) }
            }
            row.validationError = result.reports[result.bestEpoch - 1].validationError
            row.bestEpoch = result.bestEpoch
            onTrained(key, result.network)
        } catch FineTuningError.diverged(let epoch) {
            row.divergedAtEpoch = epoch
        }
        row.reports = reports
        row.finalTrainLoss = reports.last?.trainLoss
        row.fineTuningSeconds = reports.reduce(0) { $0 + $1.seconds }
        row.totalSeconds = row.pretrainingSeconds + row.fineTuningSeconds
        row.firstEpochGradientNorms = reports.first?.layers.map(\.gradientNorm) ?? []
        return row
    }

    /// `Trainer.train` of one run with the observers attached.
    private func observedTraining(_ key: ComparisonRunKey, _ network: Network, data: LabeledData, test: LabeledData?,
                                  configuration c: TrainingConfiguration, generator: inout Xoshiro256StarStar,
                                  observers: ComparisonObservers, onEpoch: (EpochReport) -> Void) throws -> TrainingResult {
        try Trainer(configuration: c).train(
            network, data: data, test: test, generator: &generator,
            onEpoch: { report, network in
                onEpoch(report)
                observers.onParameters?(key, report.epoch, network)
            },
            onMinibatch: observers.onMinibatch.map { observe in { observe(key, $0) } },
            gradientNormsEvery: observers.gradientNormsEvery)
    }
}

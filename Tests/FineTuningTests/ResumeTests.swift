import Linalg
import Testing
@testable import FineTuning

@Suite struct ResumeTests {
    /// Stopping after epoch k and resuming from the reported progress ends with exactly the
    /// weights (bit patterns) of the uninterrupted run, also on another number of threads (SGD
    /// with Nesterov momentum and max-norm, and Adam; input and hidden dropout, weight decay, a
    /// frozen first epoch, a random validation split and early-stopping bookkeeping; SGD also
    /// with a momentum schedule rising over the epochs of the resumed part); the caller's
    /// generator ends in the same state either way.
    @Test(arguments: [(Optimizer.sgd, nil), (.sgd, MomentumSchedule(start: 0.5, end: 0.95, epochs: 4)),
                      (.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8), nil)])
    func resumingFromAnyEpochMatchesTheUninterruptedRun(optimizer: Optimizer, momentumSchedule: MomentumSchedule?) throws {
        let data = try LabeledData(inputs: randomInputs(rows: 60, columns: 5, seed: 1),
                                   labels: randomLabels(count: 60, classes: 3, seed: 2), classCount: 3)
        var configuration = TrainingConfiguration(epochs: 6, batchSize: 8, optimizer: optimizer, learningRate: 0.05,
                                                  momentum: 0.9, nesterov: true, weightDecay: 1e-3, maxNorm: 1.5, seed: 3)
        configuration.inputDropout = 0.1
        configuration.hiddenDropout = 0.2
        configuration.freezeHiddenEpochs = 1
        configuration.validationCount = 10
        configuration.validationSelection = .random
        configuration.earlyStoppingPatience = 10
        configuration.momentumSchedule = momentumSchedule
        var g = Xoshiro256StarStar(seed: 4)
        let start = try Network(sizes: [5, 7, 3], hiddenActivation: .tanh, initializer: .xavierNormal, generator: &g)
        let trainer = Trainer(configuration: configuration)

        var saved: [FineTuningProgress] = []
        var full = Xoshiro256StarStar(seed: 9)
        let uninterrupted = try trainer.train(start, data: data, generator: &full, onProgress: { saved.append($0) })
        #expect(saved.count == 6)
        #expect(saved.allSatisfy { $0.seed == saved[0].seed && $0.validationIndices.count == 10 })

        try expectResumes(trainer, start, data, from: saved, after: [1, 3, 5], like: uninterrupted, generator: full)
        // The seed rules, not the caller's generator: a different generator resumes the same run.
        var other = Xoshiro256StarStar(seed: 12345)
        let resumed = try trainer.train(start, data: data, generator: &other, resumeFrom: saved[2])
        #expect(bitPatterns(resumed.network) == bitPatterns(uninterrupted.network))
    }

    /// Batch normalisation (gamma, beta, the running statistics and gamma's optimiser moments)
    /// and maxout resume bit for bit too: SGD with momentum and Adam, with a validation split
    /// whose best network is kept, resumed after epoch 1 (before the best) and 3, on 1 and 2
    /// threads. Gamma's moments matter: resumed without them, the run ends elsewhere.
    @Test(arguments: [(Activation.relu, Optimizer.sgd), (.maxout, .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)),
                      (.sigmoid, .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8))])
    func batchNormalisedAndMaxoutRunsResumeBitIdentically(activation: Activation, optimizer: Optimizer) throws {
        let data = try LabeledData(inputs: randomInputs(rows: 60, columns: 5, seed: 1),
                                   labels: randomLabels(count: 60, classes: 3, seed: 2), classCount: 3)
        var configuration = TrainingConfiguration(epochs: 5, batchSize: 8, optimizer: optimizer, learningRate: 0.05,
                                                  momentum: 0.9, seed: 3)
        configuration.validationCount = 10
        configuration.earlyStoppingPatience = 10
        var g = Xoshiro256StarStar(seed: 4)
        let start = try Network(sizes: [5, 7, 6, 3], hiddenActivation: activation, maxoutPieces: 3, initializer: .heNormal,
                                generator: &g).withBatchNormalization()
        let trainer = Trainer(configuration: configuration)

        var saved: [FineTuningProgress] = []
        var full = Xoshiro256StarStar(seed: 9)
        let uninterrupted = try trainer.train(start, data: data, generator: &full, onProgress: { saved.append($0) })
        try #require(saved.count == 5)
        let last = try #require(saved.last)
        #expect(last.network.batchNorm[1].runningMean.contains { $0 != 0 } && last.network.batchNorm[1].gamma.contains { $0 != 1 })
        #expect(last.gammaMoments.count == 3 && last.gammaMoments[0].count == start.layers[0].fanOut && last.gammaMoments[2].isEmpty)
        #expect(last.gammaMoments[0].contains { $0 != 0 })
        #expect(last.gammaSecondMoments[1].count == (configuration.usesSecondMoment ? start.layers[1].fanOut : 0))

        try expectResumes(trainer, start, data, from: saved, after: [1, 3], like: uninterrupted, generator: full)

        var forgetful = saved[1]
        forgetful.gammaMoments = forgetful.gammaMoments.map { Array(repeating: 0, count: $0.count) }
        forgetful.gammaSecondMoments = forgetful.gammaSecondMoments.map { Array(repeating: 0, count: $0.count) }
        let elsewhere = try trainer.train(start, data: data, generator: &g, resumeFrom: forgetful)
        #expect(elsewhere.reports.map(\.trainLoss) != uninterrupted.reports.map(\.trainLoss))
    }

    /// Resumes from `saved[k - 1]` for every k in `epochs` (with a generator seeded 9, on 1
    /// thread after epoch 3, else 2): the weights (bit patterns), best epoch and losses of the
    /// uninterrupted run, and the caller's generator ends as the uninterrupted run's (`full`).
    private func expectResumes(_ trainer: Trainer, _ start: Network, _ data: LabeledData, from saved: [FineTuningProgress],
                               after epochs: [Int], like uninterrupted: TrainingResult,
                               generator full: Xoshiro256StarStar) throws {
        for k in epochs {
            var fresh = Xoshiro256StarStar(seed: 9)  // the seed comes from the progress
            let resumed = try withThreads(k == 3 ? 1 : 2) {
                try trainer.train(start, data: data, generator: &fresh, resumeFrom: saved[k - 1])
            }
            #expect(bitPatterns(resumed.network) == bitPatterns(uninterrupted.network), "resumed after epoch \(k)")
            #expect(resumed.bestEpoch == uninterrupted.bestEpoch)
            #expect(resumed.reports.map(\.trainLoss) == uninterrupted.reports.map(\.trainLoss))
            #expect(resumed.reports.map(\.validationLoss) == uninterrupted.reports.map(\.validationLoss))
            #expect(fresh == full)
        }
    }

    @Test func progressOfAnotherSplitIsRejected() throws {
        let data = try LabeledData(inputs: randomInputs(rows: 30, columns: 5, seed: 1),
                                   labels: randomLabels(count: 30, classes: 3, seed: 2), classCount: 3)
        let configuration = TrainingConfiguration(epochs: 2, batchSize: 5, validationCount: 6, validationSelection: .random)
        var g = Xoshiro256StarStar(seed: 4)
        let network = try Network(sizes: [5, 4, 3], hiddenActivation: .sigmoid, initializer: .xavierNormal, generator: &g)
        var saved: FineTuningProgress?
        _ = try Trainer(configuration: configuration).train(network, data: data, generator: &g, onProgress: { saved = $0 })
        var tampered = try #require(saved)
        tampered.validationIndices[0] = tampered.validationIndices[0] == 0 ? 1 : 0
        #expect(throws: FineTuningError.self) {
            _ = try Trainer(configuration: configuration).train(network, data: data, generator: &g, resumeFrom: tampered)
        }
        var fewer = configuration
        fewer.validationCount = 5
        #expect(throws: FineTuningError.self) {
            _ = try Trainer(configuration: fewer).train(network, data: data, generator: &g, resumeFrom: saved)
        }
    }

    @Test func progressOfAnotherArchitectureIsRejected() throws {
        let data = try LabeledData(inputs: randomInputs(rows: 20, columns: 5, seed: 1),
                                   labels: randomLabels(count: 20, classes: 3, seed: 2), classCount: 3)
        let configuration = TrainingConfiguration(epochs: 2, batchSize: 5, seed: 3)
        var g = Xoshiro256StarStar(seed: 4)
        let small = try Network(sizes: [5, 4, 3], hiddenActivation: .sigmoid, initializer: .xavierNormal, generator: &g)
        let large = try Network(sizes: [5, 6, 3], hiddenActivation: .sigmoid, initializer: .xavierNormal, generator: &g)
        var saved: FineTuningProgress?
        _ = try Trainer(configuration: configuration).train(small, data: data, generator: &g, onProgress: { saved = $0 })
        #expect(throws: FineTuningError.self) {
            _ = try Trainer(configuration: configuration).train(large, data: data, generator: &g, resumeFrom: saved)
        }
        // The same sizes, another kind of network: batch-normalised, or maxout, or not.
        let normalized = small.withBatchNormalization()
        var normalizedProgress: FineTuningProgress?
        _ = try Trainer(configuration: configuration).train(normalized, data: data, generator: &g,
                                                            onProgress: { normalizedProgress = $0 })
        let refusal = "the checkpoint is for a sigmoid network with batch normalisation (softmax output), the run trains a sigmoid network without batch normalisation (softmax output)"
        #expect(throws: FineTuningError.invalidConfiguration(refusal)) {
            _ = try Trainer(configuration: configuration).train(small, data: data, generator: &g, resumeFrom: normalizedProgress)
        }
        #expect(throws: FineTuningError.self) {
            _ = try Trainer(configuration: configuration).train(normalized, data: data, generator: &g, resumeFrom: saved)
        }
        let maxout = try Network(sizes: [5, 4, 3], hiddenActivation: .maxout, maxoutPieces: 1, initializer: .xavierNormal,
                                 generator: &g)
        #expect(throws: FineTuningError.self) {
            _ = try Trainer(configuration: configuration).train(maxout, data: data, generator: &g, resumeFrom: saved)
        }
        // Gamma's moments must fit the layers.
        var short = try #require(normalizedProgress)
        short.gammaMoments[0].removeLast()
        #expect(throws: FineTuningError.self) {
            _ = try Trainer(configuration: configuration).train(normalized, data: data, generator: &g, resumeFrom: short)
        }
    }
}

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

        for k in [1, 3, 5] {
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
        // The seed rules, not the caller's generator: a different generator resumes the same run.
        var other = Xoshiro256StarStar(seed: 12345)
        let resumed = try trainer.train(start, data: data, generator: &other, resumeFrom: saved[2])
        #expect(bitPatterns(resumed.network) == bitPatterns(uninterrupted.network))
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
    }
}

import Linalg
import Testing
@testable import FineTuning

@Suite struct ResumeTests {
    /// Stopping after epoch k and resuming from the reported progress ends with exactly the
    /// weights of the uninterrupted run (SGD with momentum, dropout, and Adam; with a random
    /// validation split and early-stopping bookkeeping).
    @Test(arguments: [Optimizer.sgd, .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)])
    func resumingFromAnyEpochMatchesTheUninterruptedRun(optimizer: Optimizer) throws {
        let data = try LabeledData(inputs: randomInputs(rows: 60, columns: 5, seed: 1),
                                   labels: randomLabels(count: 60, classes: 3, seed: 2), classCount: 3)
        var configuration = TrainingConfiguration(epochs: 6, batchSize: 8, optimizer: optimizer, learningRate: 0.05,
                                                  momentum: 0.9, seed: 3)
        configuration.hiddenDropout = 0.2
        configuration.validationCount = 10
        configuration.validationSelection = .random
        var g = Xoshiro256StarStar(seed: 4)
        let start = try Network(sizes: [5, 7, 3], hiddenActivation: .tanh, initializer: .xavierNormal, generator: &g)
        let trainer = Trainer(configuration: configuration)

        var saved: [FineTuningProgress] = []
        var full = Xoshiro256StarStar(seed: 9)
        let uninterrupted = try trainer.train(start, data: data, generator: &full, onProgress: { saved.append($0) })
        #expect(saved.count == 6)

        for k in [1, 3, 5] {
            var fresh = Xoshiro256StarStar(seed: 12345)  // overwritten by the progress
            let resumed = try trainer.train(start, data: data, generator: &fresh, resumeFrom: saved[k - 1])
            #expect(resumed.network == uninterrupted.network, "resumed after epoch \(k)")
            #expect(resumed.bestEpoch == uninterrupted.bestEpoch)
            #expect(resumed.reports.map(\.trainLoss) == uninterrupted.reports.map(\.trainLoss))
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

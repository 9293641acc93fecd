import Linalg
import Testing
@testable import FineTuning

/// One seed, one result: `Trainer.train` gives byte-identical networks (and the same
/// validation and test figures, hence the same best epoch) on 1, 2 and 3 threads, and a run
/// with the gradient diagnostics on gives the same network as one without.
@Suite(.serialized) struct ThreadCountTests {
    let data: LabeledData
    let test: LabeledData
    let start: Network

    init() throws {
        // 450 validation + training rows and 300 test rows: several evaluation chunks of 250 rows.
        data = try LabeledData(inputs: randomInputs(rows: 450, columns: 200, seed: 31),
                               labels: randomLabels(count: 450, classes: 10, seed: 32), classCount: 10)
        test = try LabeledData(inputs: randomInputs(rows: 300, columns: 200, seed: 33),
                               labels: randomLabels(count: 300, classes: 10, seed: 34), classCount: 10)
        var g = Xoshiro256StarStar(seed: 35)
        // 200 x 170 and 170 x 200 are split into 4 blocks, 200 x 10 is one.
        start = try Network(sizes: [200, 170, 200, 10], hiddenActivation: .relu, initializer: .heNormal, generator: &g)
    }

    static let configurations: [TrainingConfiguration] = [
        // Dropout (input and hidden), SGD momentum, weight decay, a frozen epoch, a random
        // validation split and early stopping.
        TrainingConfiguration(epochs: 4, batchSize: 48, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3,
                              inputDropout: 0.2, hiddenDropout: 0.5, validationCount: 150, validationSelection: .random,
                              earlyStoppingPatience: 1, freezeHiddenEpochs: 1, diagnosticRows: 50),
        TrainingConfiguration(epochs: 3, batchSize: 64, optimizer: .adam(), learningRate: 0.003, weightDecay: 1e-4,
                              hiddenDropout: 0.3, validationCount: 100),
        TrainingConfiguration(epochs: 3, batchSize: 50, learningRate: 0.05, momentum: 0.8, nesterov: true, maxNorm: 1.2,
                              schedule: .exponential(gamma: 0.7), validationCount: 100),
    ]

    func run(_ c: TrainingConfiguration, threads: Int, measuringGradients: Bool = true) throws -> TrainingResult {
        try withThreads(threads) {
            var trainer = Trainer(configuration: c)
            trainer.measuresGradients = measuringGradients
            var g = Xoshiro256StarStar(seed: 36)
            return try trainer.train(start, data: data, test: test, generator: &g)
        }
    }

    @Test("1, 2 and 3 threads give byte-identical networks (dropout; Adam; SGD + Nesterov + max-norm)",
          arguments: [0, 1, 2])
    func threadCountDoesNotMatter(index: Int) throws {
        let c = ThreadCountTests.configurations[index]
        let one = try run(c, threads: 1)
        #expect(one.network != start)
        for threads in [2, 3] {
            let other = try run(c, threads: threads)
            #expect(bitPatterns(other.network) == bitPatterns(one.network), "\(threads) threads")
            #expect(other.bestEpoch == one.bestEpoch && other.stoppedEarly == one.stoppedEarly)
            #expect(other.reports.map(\.trainLoss) == one.reports.map(\.trainLoss))
            #expect(other.reports.map(\.validationLoss) == one.reports.map(\.validationLoss))
            #expect(other.reports.map(\.testLoss) == one.reports.map(\.testLoss))
            #expect(other.reports.map(\.layers) == one.reports.map(\.layers))
        }
    }

    @Test("gradient diagnostics on or off give byte-identical networks", arguments: [0, 1, 2])
    func diagnosticsOnlyObserve(index: Int) throws {
        let c = ThreadCountTests.configurations[index]
        let observed = try run(c, threads: 2)
        let plain = try run(c, threads: 2, measuringGradients: false)
        #expect(observed.reports.first!.layers.allSatisfy { $0.gradientNorm > 0 })
        #expect(plain.reports.first!.layers.allSatisfy { $0.gradientNorm == 0 })
        #expect(bitPatterns(observed.network) == bitPatterns(plain.network))
        #expect(observed.reports.map(\.trainLoss) == plain.reports.map(\.trainLoss))
    }

    @Test("evaluation gives the same bits on any number of threads")
    func evaluationIsThreadIndependent() throws {
        let one = withThreads(1) { (start.evaluate(test), start.probabilities(test.inputs), start.hiddenOutputs(test.inputs)) }
        for threads in [2, 3] {
            let other = withThreads(threads) {
                (start.evaluate(test), start.probabilities(test.inputs), start.hiddenOutputs(test.inputs))
            }
            #expect(other.0 == one.0)
            #expect(other.1.elements.map(\.bitPattern) == one.1.elements.map(\.bitPattern))
            #expect(other.2 == one.2)
        }
    }
}

import Foundation
import Testing
import Linalg
@testable import FineTuning

@Suite struct TrainingTests {
    /// The lecture's deep-XOR experiment: 10 sigmoid hidden layers from N(0, 0.01^2) stay at
    /// chance (the gradient vanishes on the way down), ReLU from a He start solves it.
    @Test func deepXORSigmoidStaysAtChanceReLUSolvesIt() throws {
        let data = xorData()
        let sizes = [2] + Array(repeating: 12, count: 10) + [2]
        let configuration = TrainingConfiguration(epochs: 500, batchSize: 4, learningRate: 0.05, momentum: 0.9,
                                                  diagnosticRows: 4, seed: 1)
        var g = Xoshiro256StarStar(seed: 1)
        let sigmoidNet = try Network(sizes: sizes, hiddenActivation: .sigmoid, initializer: .normal(0.01), generator: &g)
        let sigmoid = try Trainer(configuration: configuration).train(sigmoidNet, data: data)
        let reluNet = try Network(sizes: sizes, hiddenActivation: .relu, initializer: .heNormal, generator: &g)
        let relu = try Trainer(configuration: configuration).train(reluNet, data: data)

        #expect(sigmoid.network.evaluate(data).errorRate == 0.5)
        // The four outputs are indistinguishable: the top layer sees the same input for all.
        let p = sigmoid.network.probabilities(data.inputs)
        for r in 1..<4 { #expect(abs(p[r, 0] - p[0, 0]) < 1e-6) }
        // Vanishing gradients, as numbers: the first layer's gradient is orders of magnitude
        // below the output layer's.
        let norms = sigmoid.reports[0].layers.map(\.gradientNorm)
        #expect(norms[0] < 1e-12 * norms[norms.count - 1])

        #expect(relu.network.evaluate(data).errorRate == 0)
        #expect(relu.reports.last!.trainLoss < 0.01)
    }

    /// From zeros, every hidden unit of a layer computes the same function and gets the same
    /// gradient: the columns of each hidden weight matrix stay identical.
    @Test func zeroStartNeverBreaksSymmetry() throws {
        var g = Xoshiro256StarStar(seed: 3)
        let network = try Network(sizes: [4, 6, 5, 3], hiddenActivation: .sigmoid, initializer: .zeros, generator: &g)
        let data = try LabeledData(inputs: randomInputs(rows: 30, columns: 4, seed: 4),
                                   labels: randomLabels(count: 30, classes: 3, seed: 5), classCount: 3)
        let configuration = TrainingConfiguration(epochs: 30, batchSize: 10, learningRate: 0.5, momentum: 0.9, seed: 6)
        let trained = try Trainer(configuration: configuration).train(network, data: data).network
        for l in 0..<2 {
            let w = trained.layers[l].weight
            var scale: Float = 0
            for v in w.elements { scale = max(scale, abs(v)) }
            #expect(scale > 1e-3, "layer \(l) did learn something")
            for r in 0..<w.rows {
                for c in 1..<w.columns { #expect(abs(w[r, c] - w[r, 0]) <= 1e-5 * scale) }
            }
            let b = trained.layers[l].bias
            for c in 1..<b.count { #expect(abs(b[c] - b[0]) <= 1e-5 * scale) }
        }
    }

    @Test func dropoutIsOffAtEvaluationAndOnInTraining() throws {
        var g = Xoshiro256StarStar(seed: 5)
        let network = try Network(sizes: [5, 8, 8, 3], hiddenActivation: .relu, initializer: .heNormal, generator: &g)
        let x = randomInputs(rows: 10, columns: 5, seed: 6)
        let evaluation = network.probabilities(x)
        #expect(network.probabilities(x) == evaluation)
        #expect(network.predict(x) == network.predict(x))
        let key = StepKey(seed: 7, epoch: 1, minibatch: 0)
        let noDropout = network.trainingModeProbabilities(x, inputDropout: 0, hiddenDropout: 0, key: key)
        for i in 0..<evaluation.count { #expect(abs(noDropout.elements[i] - evaluation.elements[i]) < 1e-6) }
        let first = network.trainingModeProbabilities(x, inputDropout: 0.2, hiddenDropout: 0.5, key: key)
        let again = network.trainingModeProbabilities(x, inputDropout: 0.2, hiddenDropout: 0.5, key: key)
        var next = key
        next.minibatch = 1
        let second = network.trainingModeProbabilities(x, inputDropout: 0.2, hiddenDropout: 0.5, key: next)
        #expect(first != evaluation)
        #expect(first == again)  // the masks are a function of the key
        #expect(first != second)
    }

    @Test func learningRateSchedules() {
        let step = LearningRateSchedule.step(every: 2, factor: 0.5)
        #expect((1...5).map { step.rate(base: 0.8, epoch: $0) } == [0.8, 0.8, 0.4, 0.4, 0.2])
        let exponential = LearningRateSchedule.exponential(gamma: 0.9)
        for epoch in 1...5 {
            #expect(abs(exponential.rate(base: 0.1, epoch: epoch) - Float(0.1 * pow(0.9, Double(epoch - 1)))) < 1e-8)
            #expect(LearningRateSchedule.constant.rate(base: 0.3, epoch: epoch) == 0.3)
        }
    }

    @Test func reportsCarryTheScheduledRate() throws {
        var g = Xoshiro256StarStar(seed: 1)
        let network = try Network(sizes: [3, 4, 2], initializer: .xavierUniform, generator: &g)
        let data = try LabeledData(inputs: randomInputs(rows: 20, columns: 3, seed: 2),
                                   labels: randomLabels(count: 20, classes: 2, seed: 3), classCount: 2)
        let configuration = TrainingConfiguration(epochs: 4, batchSize: 5, learningRate: 0.2,
                                                  schedule: .step(every: 2, factor: 0.1), freezeHiddenEpochs: 1)
        let result = try Trainer(configuration: configuration).train(network, data: data)
        #expect(result.reports.map(\.learningRate) == [0.2, 0.2, 0.020000001, 0.020000001])
        #expect(result.reports.map(\.onlyOutputLayerTrained) == [true, false, false, false])
        #expect(result.reports.allSatisfy { $0.layers.count == 2 && $0.layers[0].saturatedFraction != nil })
        #expect(result.reports[0].summary.hasPrefix("epoch 1: loss "))
    }

    @Test func frozenHiddenLayersDoNotMove() throws {
        var g = Xoshiro256StarStar(seed: 1)
        let network = try Network(sizes: [3, 4, 4, 2], hiddenActivation: .tanh, initializer: .xavierUniform, generator: &g)
        let data = try LabeledData(inputs: randomInputs(rows: 20, columns: 3, seed: 2),
                                   labels: randomLabels(count: 20, classes: 2, seed: 3), classCount: 2)
        for optimizer in [Optimizer.sgd, .adam()] {
            let configuration = TrainingConfiguration(epochs: 2, batchSize: 5, optimizer: optimizer, learningRate: 0.1,
                                                      freezeHiddenEpochs: 2)
            let trained = try Trainer(configuration: configuration).train(network, data: data).network
            #expect(trained.layers[0] == network.layers[0] && trained.layers[1] == network.layers[1])
            #expect(trained.layers[2] != network.layers[2])
        }
    }

    @Test func divergenceIsATypedErrorSuggestingALowerRate() throws {
        var g = Xoshiro256StarStar(seed: 1)
        let network = try Network(sizes: [4, 16, 16, 3], hiddenActivation: .relu, initializer: .heNormal, generator: &g)
        let data = try LabeledData(inputs: randomInputs(rows: 40, columns: 4, seed: 2),
                                   labels: randomLabels(count: 40, classes: 3, seed: 3), classCount: 3)
        let configuration = TrainingConfiguration(epochs: 50, batchSize: 10, learningRate: 1e5, momentum: 0.9)
        do {
            _ = try Trainer(configuration: configuration).train(network, data: data)
            Issue.record("training at rate 1e5 should diverge")
        } catch let error as FineTuningError {
            guard case .diverged(let epoch) = error else { Issue.record("unexpected \(error)"); return }
            #expect(epoch >= 1 && epoch <= 50)
            #expect(error.description.contains("lower the learning rate"))
        }
    }

    @Test func badSettingsAndShapesAreTypedErrors() throws {
        var g = Xoshiro256StarStar(seed: 1)
        let network = try Network(sizes: [3, 2], initializer: .zeros, generator: &g)
        let data = try LabeledData(inputs: randomInputs(rows: 10, columns: 3, seed: 2),
                                   labels: randomLabels(count: 10, classes: 2, seed: 3), classCount: 2)
        let bad = [
            TrainingConfiguration(epochs: 0), TrainingConfiguration(batchSize: 0), TrainingConfiguration(learningRate: -1),
            TrainingConfiguration(momentum: 1), TrainingConfiguration(hiddenDropout: 1),
            TrainingConfiguration(validationCount: 10), TrainingConfiguration(earlyStoppingPatience: 2),
        ]
        for configuration in bad {
            #expect(throws: FineTuningError.self) { try Trainer(configuration: configuration).train(network, data: data) }
        }
        let wrongShape = try LabeledData(inputs: randomInputs(rows: 10, columns: 4, seed: 2),
                                         labels: randomLabels(count: 10, classes: 2, seed: 3), classCount: 2)
        #expect(throws: FineTuningError.self) { try Trainer(configuration: .init()).train(network, data: wrongShape) }
        #expect(throws: FineTuningError.self) { try LabeledData(inputs: data.inputs, labels: Array(repeating: 2, count: 10), classCount: 2) }
    }

    @Test func trainingIsDeterministicFromTheSeed() throws {
        var g = Xoshiro256StarStar(seed: 1)
        let network = try Network(sizes: [4, 8, 3], hiddenActivation: .relu, initializer: .heUniform, generator: &g)
        let data = try LabeledData(inputs: randomInputs(rows: 50, columns: 4, seed: 2),
                                   labels: randomLabels(count: 50, classes: 3, seed: 3), classCount: 3)
        let configuration = TrainingConfiguration(epochs: 3, batchSize: 8, hiddenDropout: 0.3, validationCount: 10,
                                                  validationSelection: .random, seed: 77)
        let a = try Trainer(configuration: configuration).train(network, data: data)
        let b = try Trainer(configuration: configuration).train(network, data: data)
        #expect(a.network == b.network)
        #expect(a.reports.map(\.trainLoss) == b.reports.map(\.trainLoss))
    }

    @Test func multiLabelSigmoidOutputsLearn() throws {
        // Two independent bits: x0 > 0 and x1 > 0.
        let x = randomInputs(rows: 200, columns: 2, seed: 4)
        var t = Matrix(rows: 200, columns: 2)
        for r in 0..<200 { t[r, 0] = x[r, 0] > 0 ? 1 : 0; t[r, 1] = x[r, 1] > 0 ? 1 : 0 }
        let data = try LabeledData(inputs: x, targets: t)
        var g = Xoshiro256StarStar(seed: 5)
        let network = try Network(sizes: [2, 8, 2], hiddenActivation: .tanh, output: .sigmoid,
                                  initializer: .xavierUniform, generator: &g)
        let configuration = TrainingConfiguration(epochs: 30, batchSize: 20, optimizer: .adam(), learningRate: 0.02)
        let result = try Trainer(configuration: configuration).train(network, data: data)
        #expect(result.network.evaluate(data).errorRate < 0.05)
        #expect(result.reports.last!.trainLoss < result.reports.first!.trainLoss)
    }

    @Test func configurationsAndReportsRoundTripThroughJSON() throws {
        let configuration = TrainingConfiguration(epochs: 7, batchSize: 32, optimizer: .adam(beta1: 0.8), learningRate: 1e-3,
                                                  schedule: .step(every: 3, factor: 0.5), validationCount: 100,
                                                  validationSelection: .random, earlyStoppingPatience: 4, seed: 99)
        let decoded = try JSONDecoder().decode(TrainingConfiguration.self, from: JSONEncoder().encode(configuration))
        #expect(decoded == configuration)

        var g = Xoshiro256StarStar(seed: 1)
        let network = try Network(sizes: [3, 4, 2], initializer: .xavierUniform, generator: &g)
        let data = try LabeledData(inputs: randomInputs(rows: 20, columns: 3, seed: 2),
                                   labels: randomLabels(count: 20, classes: 2, seed: 3), classCount: 2)
        let report = try Trainer(configuration: TrainingConfiguration(epochs: 1, batchSize: 5)).train(network, data: data).reports[0]
        #expect(try JSONDecoder().decode(EpochReport.self, from: JSONEncoder().encode(report)) == report)
    }
}

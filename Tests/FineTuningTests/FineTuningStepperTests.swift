import Linalg
import Testing
@testable import FineTuning

@Suite struct FineTuningStepperTests {
    let data: LabeledData

    init() throws {
        data = try LabeledData(inputs: randomInputs(rows: 45, columns: 6, seed: 20),
                               labels: randomLabels(count: 45, classes: 3, seed: 21), classCount: 3)
    }

    /// `Trainer.train` (no validation set) redone by hand with the stepper, as documented on
    /// the type: the seed drawn once from the generator, a fresh shuffle per epoch, the
    /// gradient-norm observer on each epoch's first minibatch.
    func trainByHand(_ network: Network, _ c: TrainingConfiguration, seed: UInt64)
        throws -> (network: Network, generator: Xoshiro256StarStar, losses: [Double], norms: [Double]) {
        var g = Xoshiro256StarStar(seed: seed)
        let runSeed = g.next()
        let n = data.count
        let stepper = try FineTuningStepper(network: network, configuration: c, batchSize: min(c.batchSize, n),
                                            seed: runSeed)
        #expect(stepper.seed == runSeed)
        var losses: [Double] = [], norms: [Double] = []
        for epoch in 1...c.epochs {
            var order = Array(0..<n)
            var shuffler = RandomStream(seed: runSeed, purpose: .shuffle(layer: -1), epoch: epoch).generator()
            shuffler.shuffle(&order)
            norms = stepper.gradientNorms(on: data, rows: order[0..<stepper.batchSize], epoch: epoch, minibatch: 0)
            var loss = 0.0, batches = 0, first = 0
            while first < n {
                let last = min(first + stepper.batchSize, n)
                let stats = stepper.step(on: data, rows: order[first..<last], learningRate: c.learningRate(epoch: epoch),
                                         trainHidden: epoch > c.freezeHiddenEpochs, epoch: epoch, minibatch: batches)
                loss += stats.lossSum / Double(last - first)
                batches += 1
                first = last
            }
            losses.append(loss / Double(batches))
        }
        return (stepper.network, g, losses, norms)
    }

    @Test("stepping by hand is bit-identical to Trainer.train (SGD, Nesterov + dropout + max-norm, Adam; frozen epoch; schedule)",
          arguments: [
              TrainingConfiguration(epochs: 3, batchSize: 10, learningRate: 0.1, momentum: 0.9, weightDecay: 1e-3),
              TrainingConfiguration(epochs: 3, batchSize: 8, learningRate: 0.05, momentum: 0.5, nesterov: true, maxNorm: 1,
                                    inputDropout: 0.1, hiddenDropout: 0.3, schedule: .step(every: 2, factor: 0.5),
                                    freezeHiddenEpochs: 1),
              TrainingConfiguration(epochs: 2, batchSize: 16, optimizer: .adam(), learningRate: 0.01),
              TrainingConfiguration(epochs: 2, batchSize: 100, learningRate: 0.1, momentum: 0),
          ])
    func matchesTrainer(_ c: TrainingConfiguration) throws {
        var g0 = Xoshiro256StarStar(seed: 22)
        let network = try Network(sizes: [6, 7, 5, 3], initializer: .xavierUniform, generator: &g0)
        var g = Xoshiro256StarStar(seed: 23)
        let reference = try Trainer(configuration: c).train(network, data: data, generator: &g)
        let byHand = try trainByHand(network, c, seed: 23)
        #expect(byHand.network == reference.network)
        #expect(byHand.network != network)
        #expect(byHand.generator == g)
        #expect(byHand.losses == reference.reports.map(\.trainLoss))
        #expect(byHand.norms == reference.reports.last!.layers.map(\.gradientNorm))
        #expect(byHand.norms.allSatisfy { $0 > 0 })
    }

    @Test("the gradient-norm observer changes nothing: the same steps with and without it give the same bits")
    func observerOnlyReads() throws {
        var g = Xoshiro256StarStar(seed: 26)
        let network = try Network(sizes: [6, 9, 7, 3], hiddenActivation: .relu, initializer: .heNormal, generator: &g)
        let c = TrainingConfiguration(batchSize: 9, optimizer: .adam(), learningRate: 0.01, weightDecay: 1e-3, maxNorm: 1.5,
                                      inputDropout: 0.2, hiddenDropout: 0.4)
        func run(observing: Bool) throws -> (Network, [Double]) {
            let stepper = try FineTuningStepper(network: network, configuration: c, seed: 5)
            var losses: [Double] = []
            for k in 0..<5 {
                let rows = Array((k * 9)..<(k * 9 + 9))[...]
                if observing { _ = stepper.gradientNorms(on: data, rows: rows, epoch: 1, minibatch: k) }
                losses.append(stepper.step(on: data, rows: rows, trainHidden: k != 1, epoch: 1, minibatch: k).lossSum)
                if observing { _ = stepper.gradientNorms(on: data, rows: Array(0..<9)[...], epoch: 7, minibatch: 3) }
            }
            return (stepper.network, losses)
        }
        let plain = try run(observing: false), observed = try run(observing: true)
        #expect(bitPatterns(plain.0) == bitPatterns(observed.0))
        #expect(plain.1 == observed.1)
    }

    @Test("a step returns the loss before its update (naive double-precision reference), and steps lower it")
    func lossFalls() throws {
        var g = Xoshiro256StarStar(seed: 24)
        let network = try Network(sizes: [6, 8, 3], initializer: .xavierUniform, generator: &g)
        let c = TrainingConfiguration(batchSize: 15, learningRate: 0.2, momentum: 0.9)
        let stepper = try FineTuningStepper(network: network, configuration: c)
        #expect(stepper.batchSize == 15 && stepper.inputCount == 6 && stepper.outputCount == 3)
        #expect(stepper.network == network)
        let rows = Array(0..<15)
        let batch = data.rows(at: rows)
        let first = stepper.step(on: data, rows: rows[...], epoch: 1, minibatch: 0)
        let naive = naiveLoss(doubleLayers(network), activation: .sigmoid, output: .softmax,
                              inputs: batch.inputs, targets: batch.targets)
        #expect(abs(first.lossSum / 15 - naive) < 1e-5 * max(1, naive), "stepper \(first.lossSum / 15), naive \(naive)")
        #expect(first.errors == batch.count - zip(network.classify(batch.inputs), batch.labels).filter { $0 == $1 }.count)
        // Fitting one minibatch of 15 random labels: 6 inputs and 8 hidden units memorise it.
        var last = first
        for k in 0..<100 { last = stepper.step(on: data, rows: rows[...], epoch: 1, minibatch: k + 1) }
        #expect(last.lossSum < 0.5 * first.lossSum, "first \(first.lossSum), after 100 steps \(last.lossSum)")
        let trained = stepper.network
        let trainedNaive = naiveLoss(doubleLayers(trained), activation: .sigmoid, output: .softmax,
                                     inputs: batch.inputs, targets: batch.targets)
        #expect(trainedNaive < 0.5 * naive)
        #expect(stepper.parametersAreFinite)
    }

    @Test("bad settings throw")
    func badSettings() throws {
        var g = Xoshiro256StarStar(seed: 25)
        let network = try Network(sizes: [6, 3], initializer: .xavierUniform, generator: &g)
        #expect(throws: FineTuningError.self) {
            try FineTuningStepper(network: network, configuration: TrainingConfiguration(), batchSize: 0)
        }
        #expect(throws: FineTuningError.self) {
            try FineTuningStepper(network: network, configuration: TrainingConfiguration(momentum: 1.5))
        }
    }
}

import Linalg
import Testing
@testable import Pretraining

/// `growCDSteps`: k of CD-k grows from 1 to `cdSteps` over the run, the learning rate divided by k.
@Suite struct GrowingCDStepsTests {
    @Test("the schedule: a linear ramp of k from 1 to cdSteps, the rate divided by k; off, or 1 epoch: constant")
    func schedule() {
        let c = RBMTrainingConfiguration(epochs: 5, learningRate: 0.1, cdSteps: 25, growCDSteps: true)
        let steps: [Int] = (0..<5).map { c.gibbsSteps(forEpoch: $0) }
        #expect(steps == [1, 7, 13, 19, 25])
        let rates: [Float] = (0..<5).map { c.learningRate(forEpoch: $0) }
        let expected: [Float] = [1, 7, 13, 19, 25].map { Float(0.1) / Float($0) }
        #expect(rates == expected)
        let fixed = RBMTrainingConfiguration(epochs: 5, learningRate: 0.1, cdSteps: 25)
        let fixedSteps: [Int] = (0..<5).map { fixed.gibbsSteps(forEpoch: $0) }
        #expect(fixedSteps == [25, 25, 25, 25, 25])
        #expect(fixed.learningRate(forEpoch: 3) == 0.1)
        let one = RBMTrainingConfiguration(epochs: 1, cdSteps: 3, growCDSteps: true)
        #expect(one.gibbsSteps(forEpoch: 0) == 3)
    }

    @Test("training follows the schedule: each epoch equals a workspace run with that epoch's k and rate")
    func trainingUsesTheSchedule() throws {
        var g = Xoshiro256StarStar(seed: 70)
        let data = Matrix.uniform(rows: 24, columns: 6, using: &g)
        let start = randomRBM(visible: 6, hidden: 4, weightScale: 0.3, biasScale: 0.2, seed: 71)
        let growing = RBMTrainingConfiguration(epochs: 3, batchSize: 8, learningRate: 0.1, cdSteps: 5, growCDSteps: true)
        var generator = Xoshiro256StarStar(seed: 72)
        var trained = start
        try trained.train(on: data, configuration: growing, generator: &generator)

        // By hand with the stepper, as its documentation says, with and without setEpoch.
        func byHand(settingEpochs: Bool) throws -> RBM {
            var g = Xoshiro256StarStar(seed: 72)
            let seed = g.next()
            let stepper = try ContrastiveDivergenceStepper(rbm: start, configuration: growing, batchSize: 8, seed: seed)
            for epoch in 0..<3 {
                let order = RBM.minibatchOrder(rows: 24, seed: seed, layer: 0, epoch: epoch)
                if settingEpochs { stepper.setEpoch(epoch) }
                for first in stride(from: 0, to: 24, by: 8) { stepper.step(on: data, rows: order[first..<(first + 8)]) }
            }
            return stepper.rbm
        }
        #expect(try byHand(settingEpochs: true) == trained)
        #expect(try byHand(settingEpochs: false) != trained)  // epoch 0's k and rate throughout: another run
    }
}

import Linalg
import Testing
@testable import Pretraining

@Suite("ContrastiveDivergenceStepper")
struct ContrastiveDivergenceStepperTests {
    let data = prototypeData(prototypes: tenBitPrototypes, rows: 60, noise: 0.05, seed: 90)

    /// `RBM.train` redone by hand with the stepper, as its documentation says; returns the RBM
    /// and each epoch's summed error.
    func trainByHand(_ start: RBM, _ c: RBMTrainingConfiguration, seed: UInt64) throws -> (rbm: RBM, errors: [Double]) {
        let n = data.rows
        let stepper = try ContrastiveDivergenceStepper(rbm: start, configuration: c, batchSize: min(c.batchSize, n),
                                                       seed: seed)
        var errors: [Double] = []
        for epoch in 0..<c.epochs {
            stepper.setEpoch(epoch)
            let order = RBM.minibatchOrder(rows: n, seed: seed, layer: 0, epoch: epoch)
            var error = 0.0
            for first in stride(from: 0, to: n, by: stepper.batchSize) {
                error += stepper.step(on: data, rows: order[first..<min(first + stepper.batchSize, n)])
            }
            errors.append(error)
        }
        return (stepper.rbm, errors)
    }

    @Test("stepping by hand is bit-identical to RBM.train (CD-1, CD-2, PCD; a momentum switch)",
          arguments: [(1, false), (2, false), (1, true)])
    func matchesTrain(cdSteps: Int, persistent: Bool) throws {
        // Batch 7 of 60 rows: a short last minibatch; the momentum switches after epoch 1.
        let c = RBMTrainingConfiguration(epochs: 3, batchSize: 7, learningRate: 0.05, momentumSwitchEpoch: 1,
                                         cdSteps: cdSteps, persistent: persistent)
        var g0 = Xoshiro256StarStar(seed: 91)
        let start = RBM(visibleCount: 10, hiddenCount: 6, data: data, generator: &g0)

        var reference = start
        var g = Xoshiro256StarStar(seed: 92)
        var reports: [RBMEpochReport] = []
        try reference.train(on: data, configuration: c, generator: &g) { reports.append($0) }
        var seedSource = Xoshiro256StarStar(seed: 92)
        let byHand = try trainByHand(start, c, seed: seedSource.next())
        #expect(byHand.rbm == reference)
        #expect(byHand.rbm != start)
        #expect(byHand.errors == reports.map(\.summedReconstructionError))
    }

    @Test("the block count follows the shape, and the shape accessors")
    func accessors() throws {
        var g = Xoshiro256StarStar(seed: 93)
        let rbm = RBM(visibleCount: 10, hiddenCount: 6, generator: &g)
        let stepper = try ContrastiveDivergenceStepper(rbm: rbm, configuration: RBMTrainingConfiguration(batchSize: 5),
                                                       generator: &g)
        #expect(stepper.blocks == 1)  // 60 weights: too small to split
        #expect(stepper.batchSize == 5 && stepper.visibleCount == 10 && stepper.hiddenCount == 6)
        #expect(stepper.rbm == rbm)
        #expect(stepper.parametersAreFinite)
        let wide = try ContrastiveDivergenceStepper(rbm: RBM(visibleCount: 300, hiddenCount: 200, generator: &g),
                                                    configuration: RBMTrainingConfiguration(), generator: &g)
        #expect(wide.blocks == 4)
    }

    @Test("steps lower the reconstruction error of a tiny problem, and store(into:) copies the parameters")
    func errorFalls() throws {
        let c = RBMTrainingConfiguration(batchSize: 10, learningRate: 0.1, momentumSwitchEpoch: 1)
        var g = Xoshiro256StarStar(seed: 94)
        var rbm = RBM(visibleCount: 10, hiddenCount: 6, data: data, generator: &g)
        let stepper = try ContrastiveDivergenceStepper(rbm: rbm, configuration: c, generator: &g)
        let order = Array(0..<data.rows)
        func epochError(_ epoch: Int) -> Double {
            stepper.setEpoch(epoch)
            return stride(from: 0, to: data.rows, by: 10).reduce(0.0) { $0 + stepper.step(on: data, rows: order[$1..<($1 + 10)]) }
        }
        let first = epochError(0)
        var last = first
        for epoch in 1...30 { last = epochError(epoch) }
        // Three noisy prototypes of 10 bits: the error per row falls from about 2.5 (biases
        // only) towards the noise floor (10 x 0.05 flips, about 0.5).
        #expect(last < 0.6 * first, "first epoch \(first), last \(last)")
        stepper.store(into: &rbm)
        #expect(rbm == stepper.rbm)
    }

    @Test("bad settings throw")
    func badSettings() throws {
        var g = Xoshiro256StarStar(seed: 95)
        let rbm = RBM(visibleCount: 4, hiddenCount: 3, generator: &g)
        #expect(throws: PretrainingError.self) {
            try ContrastiveDivergenceStepper(rbm: rbm, configuration: RBMTrainingConfiguration(), batchSize: 0, generator: &g)
        }
        #expect(throws: PretrainingError.self) {
            try ContrastiveDivergenceStepper(rbm: rbm, configuration: RBMTrainingConfiguration(learningRate: -1),
                                             generator: &g)
        }
    }
}

@Suite("ContrastiveDivergenceStepper gradient-norm observer")
struct GradientNormObserverTests {
    let data = prototypeData(prototypes: tenBitPrototypes, rows: 60, noise: 0.05, seed: 90)

    /// Measuring |G| changes no bit of the run, and from zero velocity without weight cost the
    /// first update is lr G, so |w1 - w0| / lr is the measured norm.
    @Test func measuringTheGradientNormObservesOnly() throws {
        let c = RBMTrainingConfiguration(epochs: 1, batchSize: 10, learningRate: 0.05, weightCost: 0)
        var g0 = Xoshiro256StarStar(seed: 91)
        let start = RBM(visibleCount: 10, hiddenCount: 6, data: data, generator: &g0)
        let plain = try ContrastiveDivergenceStepper(rbm: start, configuration: c, seed: 5)
        let observed = try ContrastiveDivergenceStepper(rbm: start, configuration: c, seed: 5)
        plain.setEpoch(0)
        observed.setEpoch(0)
        var norms: [Double] = []
        for first in stride(from: 0, to: 60, by: 10) {
            let rows = Array(first..<first + 10)[...]
            let error = plain.step(on: data, rows: rows)
            observed.measureGradientNormOfNextStep()
            #expect(observed.step(on: data, rows: rows) == error)
            norms.append(observed.measuredGradientNorm)
            if first == 0 {
                let moved = zip(observed.rbm.weight.elements, start.weight.elements).map { Double($0 - $1) }
                let expected = moved.map { $0 * $0 }.reduce(0, +).squareRoot() / Double(observed.learningRate)
                #expect(abs(norms[0] - expected) <= 1e-3 * expected, "\(norms[0]) vs \(expected)")
            }
        }
        #expect(observed.rbm == plain.rbm)
        #expect(norms.allSatisfy { $0 > 0 && $0.isFinite })
        #expect(abs(Double(observed.learningRate) - 0.05) < 1e-9)
    }
}

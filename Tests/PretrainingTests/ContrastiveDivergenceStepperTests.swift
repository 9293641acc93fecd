import Linalg
import Testing
@testable import Pretraining

@Suite("ContrastiveDivergenceStepper")
struct ContrastiveDivergenceStepperTests {
    let data = prototypeData(prototypes: tenBitPrototypes, rows: 60, noise: 0.05, seed: 90)

    /// `RBM.train` redone by hand with the stepper (the order of generator draws as documented
    /// on the type); returns the RBM, the generator afterwards and each epoch's summed error.
    func trainByHand(_ start: RBM, _ c: RBMTrainingConfiguration, lanes: Int?, seed: UInt64)
        throws -> (rbm: RBM, generator: Xoshiro256StarStar, errors: [Double]) {
        var g = Xoshiro256StarStar(seed: seed)
        _ = g.split()  // train's monitor generator
        let n = data.rows
        let stepper = try ContrastiveDivergenceStepper(rbm: start, configuration: c, batchSize: min(c.batchSize, n),
                                                       lanes: lanes, generator: &g)
        var order = Array(0..<n)
        var errors: [Double] = []
        for epoch in 0..<c.epochs {
            g.shuffle(&order)
            let momentum = c.momentum(forEpoch: epoch)
            var error = 0.0, first = 0
            while first < n {
                let last = min(first + stepper.batchSize, n)
                error += stepper.step(on: data, rows: order[first..<last], momentum: momentum,
                                      nextMomentum: last < n ? momentum : c.momentum(forEpoch: epoch + 1))
                first = last
            }
            errors.append(error)
        }
        return (stepper.rbm, g, errors)
    }

    @Test("stepping by hand is bit-identical to RBM.train (CD-1, CD-2, PCD; 1 and 2 lanes; a momentum switch)",
          arguments: [(1, false, 1), (1, false, 2), (2, false, 2), (1, true, 1), (1, true, 2)])
    func matchesTrain(cdSteps: Int, persistent: Bool, lanes: Int) throws {
        // Batch 7 of 60 rows: a short last minibatch; the momentum switches after epoch 1.
        let c = RBMTrainingConfiguration(epochs: 3, batchSize: 7, learningRate: 0.05, momentumSwitchEpoch: 1,
                                         cdSteps: cdSteps, persistent: persistent)
        var g0 = Xoshiro256StarStar(seed: 91)
        let start = RBM(visibleCount: 10, hiddenCount: 6, data: data, generator: &g0)

        var reference = start
        var g = Xoshiro256StarStar(seed: 92)
        var reports: [RBMEpochReport] = []
        try reference.train(on: data, configuration: c, monitors: .none, layer: 0, lanes: lanes, generator: &g) {
            reports.append($0)
        }
        let byHand = try trainByHand(start, c, lanes: lanes, seed: 92)
        #expect(byHand.rbm == reference)
        #expect(byHand.rbm != start)
        #expect(byHand.generator == g)
        #expect(byHand.errors == reports.map(\.summedReconstructionError))
    }

    @Test("the default lane count matches train's and the shape accessors")
    func accessors() throws {
        var g = Xoshiro256StarStar(seed: 93)
        let rbm = RBM(visibleCount: 10, hiddenCount: 6, generator: &g)
        let stepper = try ContrastiveDivergenceStepper(rbm: rbm, configuration: RBMTrainingConfiguration(batchSize: 5),
                                                       generator: &g)
        #expect(stepper.lanes == 1)  // 60 weights: too small for lanes
        #expect(stepper.batchSize == 5 && stepper.visibleCount == 10 && stepper.hiddenCount == 6)
        #expect(stepper.rbm == rbm)
        #expect(stepper.parametersAreFinite)
        let wide = try ContrastiveDivergenceStepper(rbm: rbm, configuration: RBMTrainingConfiguration(), lanes: 50,
                                                    generator: &g)
        #expect(wide.lanes == 6)  // at most min(V, H)
    }

    @Test("steps lower the reconstruction error of a tiny problem, and store(into:) copies the parameters")
    func errorFalls() throws {
        let c = RBMTrainingConfiguration(batchSize: 10, learningRate: 0.1)
        var g = Xoshiro256StarStar(seed: 94)
        var rbm = RBM(visibleCount: 10, hiddenCount: 6, data: data, generator: &g)
        let stepper = try ContrastiveDivergenceStepper(rbm: rbm, configuration: c, generator: &g)
        let order = Array(0..<data.rows)
        func epochError(momentum: Float) -> Double {
            stride(from: 0, to: data.rows, by: 10).reduce(0.0) {
                $0 + stepper.step(on: data, rows: order[$1..<($1 + 10)], momentum: momentum)
            }
        }
        let first = epochError(momentum: 0.5)
        var last = first
        for _ in 0..<30 { last = epochError(momentum: 0.9) }
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
        #expect(throws: PretrainingError.self) {
            try ContrastiveDivergenceStepper(rbm: rbm, configuration: RBMTrainingConfiguration(), lanes: 0, generator: &g)
        }
    }
}

import Foundation
import Linalg
import Testing
@testable import FineTuning

/// The momentum schedule (a linear rise, then constant): its values, that training uses the
/// epoch's value, and that a constant schedule is today's momentum bit for bit.
@Suite struct MomentumScheduleTests {
    @Test func valuesOfTheSchedule() {
        // The dropout paper's: 0.5 to 0.99 over 500 epochs.
        let paper = MomentumSchedule(start: 0.5, end: 0.99, epochs: 500)
        #expect(paper.momentum(epoch: 1) == 0.5)
        #expect(abs(paper.momentum(epoch: 251) - 0.745) < 1e-6)
        #expect(abs(paper.momentum(epoch: 500) - (0.5 + 0.49 * 499 / 500)) < 1e-6)
        #expect(paper.momentum(epoch: 501) == 0.99 && paper.momentum(epoch: 3000) == 0.99)
        let one = MomentumSchedule(start: 0.5, end: 0.9, epochs: 1)
        #expect(one.momentum(epoch: 1) == 0.5 && one.momentum(epoch: 2) == 0.9)
        var c = TrainingConfiguration(momentum: 0.8)
        #expect(c.momentum(epoch: 7) == 0.8)
        c.momentumSchedule = paper
        #expect(c.momentum(epoch: 1) == 0.5 && c.momentum(epoch: 600) == 0.99)
        // The learning rate is the schedule's, times 1 - momentum only when dampened.
        c.learningRate = 2
        c.schedule = .exponential(gamma: 0.5)
        #expect(c.learningRate(epoch: 1) == 2 && c.learningRate(epoch: 3) == 0.5)
        c.momentumSchedule?.dampened = true
        #expect(c.learningRate(epoch: 1) == 2 * (1 - 0.5))
        #expect(c.learningRate(epoch: 3) == 0.5 * (1 - c.momentum(epoch: 3)))
    }

    @Test func badSchedulesAreRejected() {
        for schedule in [MomentumSchedule(start: -0.1, end: 0.9, epochs: 3), MomentumSchedule(start: 0.5, end: 1, epochs: 3),
                         MomentumSchedule(start: 0.5, end: 0.9, epochs: 0)] {
            #expect(throws: FineTuningError.self) { try TrainingConfiguration(momentumSchedule: schedule).validate() }
        }
        // A momentum schedule means nothing to Adam (its learning rate would be dampened silently).
        let adam = TrainingConfiguration(optimizer: .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8),
                                         momentumSchedule: MomentumSchedule(start: 0.5, end: 0.9, epochs: 3, dampened: true))
        #expect(throws: FineTuningError.self) { try adam.validate() }
    }

    /// A configuration without a schedule encodes as before (no key: run fingerprints and
    /// model metadata are unchanged); one with a schedule round-trips.
    @Test func jsonOfTheConfiguration() throws {
        let plain = String(decoding: try JSONEncoder().encode(TrainingConfiguration()), as: UTF8.self)
        #expect(!plain.contains("momentumSchedule"))
        let scheduled = TrainingConfiguration(momentumSchedule: MomentumSchedule(start: 0.5, end: 0.99, epochs: 500))
        #expect(try JSONDecoder().decode(TrainingConfiguration.self, from: JSONEncoder().encode(scheduled)) == scheduled)
        // Undampened: the schedule's JSON is what it was before `dampened` existed, and that JSON reads back.
        let before = #"{"start":0.5,"end":0.99,"epochs":500}"#
        let schedule = try JSONDecoder().decode(MomentumSchedule.self, from: Data(before.utf8))
        #expect(schedule == MomentumSchedule(start: 0.5, end: 0.99, epochs: 500, dampened: false))
        #expect(!String(decoding: try JSONEncoder().encode(schedule), as: UTF8.self).contains("dampened"))
        let dampened = TrainingConfiguration(momentumSchedule: MomentumSchedule(start: 0.5, end: 0.99, epochs: 500, dampened: true))
        let json = try JSONEncoder().encode(dampened)
        #expect(String(decoding: json, as: UTF8.self).contains(#""dampened":true"#))
        #expect(try JSONDecoder().decode(TrainingConfiguration.self, from: json) == dampened)
    }

    func data() throws -> LabeledData {
        try LabeledData(inputs: randomInputs(rows: 48, columns: 5, seed: 1),
                        labels: randomLabels(count: 48, classes: 3, seed: 2), classCount: 3)
    }

    func network() throws -> Network {
        var g = Xoshiro256StarStar(seed: 4)
        return try Network(sizes: [5, 7, 3], hiddenActivation: .tanh, initializer: .xavierNormal, generator: &g)
    }

    /// Each epoch of a scheduled run uses the schedule's momentum: the run equals, bit for bit,
    /// a chain of constant-momentum runs, epoch e run at the schedule's value for e and resumed
    /// (weights and velocities) from the previous link. Also with Nesterov's momentum.
    @Test(arguments: [false, true], [false, true])
    func eachEpochUsesTheScheduledMomentum(nesterov: Bool, dampened: Bool) throws {
        let schedule = MomentumSchedule(start: 0.5, end: 0.9, epochs: 2, dampened: dampened)  // 0.5, 0.7, 0.9, 0.9
        var c = TrainingConfiguration(epochs: 4, batchSize: 8, learningRate: 0.1, nesterov: nesterov, hiddenDropout: 0.2,
                                      diagnosticRows: 0, seed: 3)
        c.momentumSchedule = schedule
        var g = Xoshiro256StarStar(seed: 9)
        let scheduled = try Trainer(configuration: c).train(try network(), data: try data(), generator: &g)

        var progress: FineTuningProgress?
        var chained: TrainingResult?
        for epoch in 1...4 {
            var link = c
            link.momentumSchedule = nil
            link.momentum = schedule.momentum(epoch: epoch)
            // Dampened: the paper's update, v = p v - (1 - p) rate g', by hand.
            if dampened { link.learningRate = c.learningRate * (1 - schedule.momentum(epoch: epoch)) }
            link.epochs = epoch
            var g = Xoshiro256StarStar(seed: 9)
            chained = try Trainer(configuration: link).train(try network(), data: try data(), generator: &g,
                                                             resumeFrom: progress, onProgress: { progress = $0 })
        }
        let reference = try #require(chained)
        #expect(bitPatterns(scheduled.network) == bitPatterns(reference.network))
        #expect(scheduled.reports.map(\.trainLoss) == reference.reports.map(\.trainLoss))

        // The schedule matters: a constant 0.5 or 0.9 gives other weights.
        for momentum: Float in [0.5, 0.9] {
            var constant = c
            constant.momentumSchedule = nil
            constant.momentum = momentum
            var g = Xoshiro256StarStar(seed: 9)
            let other = try Trainer(configuration: constant).train(try network(), data: try data(), generator: &g)
            #expect(bitPatterns(other.network) != bitPatterns(scheduled.network))
        }
    }

    /// A schedule from 0.9 to 0.9 is `momentum: 0.9`, bit for bit (SGD and Nesterov).
    @Test(arguments: [false, true])
    func aConstantScheduleIsTheConstantMomentum(nesterov: Bool) throws {
        let c = TrainingConfiguration(epochs: 3, batchSize: 8, learningRate: 0.1, momentum: 0.9, nesterov: nesterov,
                                      diagnosticRows: 0, seed: 3)
        var scheduled = c
        scheduled.momentumSchedule = MomentumSchedule(start: 0.9, end: 0.9, epochs: 2)
        var g1 = Xoshiro256StarStar(seed: 9), g2 = Xoshiro256StarStar(seed: 9)
        let a = try Trainer(configuration: c).train(try network(), data: try data(), generator: &g1)
        let b = try Trainer(configuration: scheduled).train(try network(), data: try data(), generator: &g2)
        #expect(bitPatterns(a.network) == bitPatterns(b.network))
        #expect(a.reports.map(\.trainLoss) == b.reports.map(\.trainLoss))
    }
}

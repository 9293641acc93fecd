import Testing
import Linalg
@testable import FineTuning

@Suite struct EarlyStoppingTests {
    /// Noise labels: the net overfits, validation error wanders; the returned weights must be
    /// those of the epoch with the lowest validation error (ties: lower validation loss).
    func run(patience: Int?) throws -> (TrainingResult, [Network]) {
        var g = Xoshiro256StarStar(seed: 12)
        let network = try Network(sizes: [5, 32, 3], hiddenActivation: .relu, initializer: .heNormal, generator: &g)
        let data = try LabeledData(inputs: randomInputs(rows: 80, columns: 5, seed: 13),
                                   labels: randomLabels(count: 80, classes: 3, seed: 14), classCount: 3)
        let configuration = TrainingConfiguration(epochs: 40, batchSize: 10, learningRate: 0.1, validationCount: 30,
                                                  earlyStoppingPatience: patience, diagnosticRows: 0, seed: 15)
        var snapshots: [Network] = []
        let result = try Trainer(configuration: configuration).train(network, data: data) { _, net in snapshots.append(net) }
        return (result, snapshots)
    }

    func expectedBest(_ reports: [EpochReport]) -> Int {
        var best = reports[0]
        for r in reports.dropFirst() where r.validationError! < best.validationError!
            || (r.validationError! == best.validationError! && r.validationLoss! < best.validationLoss!) {
            best = r
        }
        return best.epoch
    }

    @Test func bestEpochsWeightsAreRestored() throws {
        let (result, snapshots) = try run(patience: nil)
        #expect(result.reports.count == 40 && !result.stoppedEarly)
        let best = expectedBest(result.reports)
        #expect(result.bestEpoch == best)
        #expect(best < 40, "the scenario should overfit (best epoch \(best))")
        #expect(result.network == snapshots[best - 1])
        #expect(result.network != snapshots[39])
        #expect(result.network.evaluate(try validationSet()).errorRate == result.reports[best - 1].validationError)
    }

    @Test func patienceStopsTheRun() throws {
        let (result, snapshots) = try run(patience: 3)
        #expect(result.stoppedEarly)
        #expect(result.reports.count == result.bestEpoch + 3)
        #expect(result.network == snapshots[result.bestEpoch - 1])
    }

    func validationSet() throws -> LabeledData {
        let data = try LabeledData(inputs: randomInputs(rows: 80, columns: 5, seed: 13),
                                   labels: randomLabels(count: 80, classes: 3, seed: 14), classCount: 3)
        return data.rows(at: 50..<80)
    }
}

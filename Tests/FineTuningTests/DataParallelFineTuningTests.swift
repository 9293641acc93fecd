import Linalg
import Testing
import _TestSupport
@testable import FineTuning

/// Data-parallel fine-tuning on P ranks (threads standing in for MPI processes,
/// `LoopbackCollective`): `Trainer.train` ends with the same bits on every rank, and with P = 2, 3
/// where one process ends up to the order of the float sums (same reports, best epoch and
/// figures). 130 training rows in minibatches of 24: the last has 10 rows, fewer than a share.
@Suite(.serialized) struct DataParallelFineTuningTests {
    static let data = try! LabeledData(inputs: randomInputs(rows: 160, columns: 40, seed: 41),
                                       labels: randomLabels(count: 160, classes: 5, seed: 42), classCount: 5)
    static let start: Network = {
        var g = Xoshiro256StarStar(seed: 43)
        return try! Network(sizes: [40, 30, 20, 5], hiddenActivation: .relu, initializer: .heNormal, generator: &g)
    }()

    static let configurations: [TrainingConfiguration] = [
        TrainingConfiguration(epochs: 3, batchSize: 24, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3,
                              inputDropout: 0.2, hiddenDropout: 0.3, validationCount: 30, freezeHiddenEpochs: 1,
                              diagnosticRows: 20),
        TrainingConfiguration(epochs: 3, batchSize: 24, optimizer: .adam(), learningRate: 0.003, maxNorm: 2,
                              validationCount: 30),
    ]

    struct Trained: Sendable { var parameters: [Float]; var losses: [Double]; var best: Int }

    /// With `rowGroups`, in the reproducible mode (`Collectives.rowGroups`).
    static func train(_ c: TrainingConfiguration, ranks: Int?, rowGroups: Int? = nil) throws -> [Trained] {
        let body: @Sendable (Int) throws -> Trained = { _ in
            var g = Xoshiro256StarStar(seed: 44)
            let result = try Collectives.$rowGroups.withValue(rowGroups) {
                try Trainer(configuration: c).train(start, data: data, generator: &g)
            }
            return Trained(parameters: result.network.layers.flatMap { $0.weight.elements + $0.bias },
                           losses: result.reports.map(\.trainLoss), best: result.bestEpoch)
        }
        guard let ranks else { return [try body(0)] }
        return try LoopbackCollective.run(ranks: ranks, body)
    }

    @Test(arguments: configurations.indices)
    func ranksHoldTheSameBitsAndFollowOneProcess(_ index: Int) throws {
        let c = Self.configurations[index]
        let one = try Self.train(c, ranks: nil)[0]
        #expect(try Self.train(c, ranks: 1)[0].parameters.map(\.bitPattern) == one.parameters.map(\.bitPattern))
        for ranks in [2, 3] {
            let all = try Self.train(c, ranks: ranks)
            for rank in 1..<ranks {
                #expect(all[rank].parameters.map(\.bitPattern) == all[0].parameters.map(\.bitPattern), "rank \(rank) of \(ranks)")
            }
            let difference = zip(all[0].parameters, one.parameters).map { abs($0 - $1) }.max() ?? 0
            #expect(difference < 1e-4, "\(ranks) ranks: \(difference)")
            #expect(all[0].best == one.best)
            for (a, b) in zip(all[0].losses, one.losses) { #expect(abs(a - b) <= 1e-4 * b, "\(ranks) ranks") }
        }
    }

    /// The reproducible mode (6 row groups of 4 rows; the last minibatch of 10 rows fills groups
    /// 0-2 and leaves rank 2 of 3 none): one process and 1, 2, 3 ranks end with the same bits,
    /// the same losses and the same best epoch.
    @Test(arguments: configurations.indices)
    func reproducibleModeGivesTheSameBitsOnAnyNumberOfRanks(_ index: Int) throws {
        let c = Self.configurations[index]
        let one = try Self.train(c, ranks: nil, rowGroups: 6)[0]
        for ranks in [1, 2, 3] {
            let all = try Self.train(c, ranks: ranks, rowGroups: 6)
            for rank in 0..<ranks {
                #expect(all[rank].parameters.map(\.bitPattern) == one.parameters.map(\.bitPattern), "rank \(rank) of \(ranks)")
                #expect(all[rank].losses == one.losses && all[rank].best == one.best, "rank \(rank) of \(ranks)")
            }
        }
        #expect(throws: FineTuningError.self) { _ = try Self.train(c, ranks: 3, rowGroups: 2) }
    }
}

import Linalg
import Testing
import _TestSupport
@testable import Pretraining

/// Data-parallel pre-training on P ranks (threads standing in for MPI processes,
/// `LoopbackCollective`): every rank ends with the same bits, and P = 2, 3 end where one process
/// ends up to the order of the float sums. 62 rows in minibatches of 12: the last minibatch has 2
/// rows, which leaves ranks 1 and 2 of 3 no rows (and splits PCD's chains by batch place).
@Suite(.serialized) struct DataParallelTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var configuration: RBMTrainingConfiguration
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let base = RBMTrainingConfiguration(epochs: 3, batchSize: 12, learningRate: 0.1, momentumSwitchEpoch: 1)
        var pcd = base; pcd.persistent = true; pcd.cdSteps = 2
        var resampled = base; resampled.resampleBinaryData = true
        return [Case(name: "CD-1", configuration: base), Case(name: "PCD-2", configuration: pcd),
                Case(name: "resampled binary data", configuration: resampled)]
    }()

    static let data: Matrix = { var g = Xoshiro256StarStar(seed: 5); return Matrix.uniform(rows: 62, columns: 30, using: &g) }()
    static let start: RBM = { var g = Xoshiro256StarStar(seed: 9); return RBM(visibleCount: 30, hiddenCount: 20, generator: &g) }()

    struct Trained: Sendable { var parameters: [Float]; var errors: [Double] }

    /// `configuration` trained on `ranks` ranks (nil: plain single process, no collective).
    /// With `rowGroups`, in the reproducible mode (`Collectives.rowGroups`).
    static func train(_ configuration: RBMTrainingConfiguration, ranks: Int?, rowGroups: Int? = nil,
                      resumeFrom: RBMTrainingProgress? = nil, saved: (@Sendable (RBMTrainingProgress) -> Void)? = nil) throws -> [Trained] {
        let body: @Sendable (Int) throws -> Trained = { _ in
            var rbm = start, g = Xoshiro256StarStar(seed: 6), errors: [Double] = []
            try Collectives.$rowGroups.withValue(rowGroups) {
                try rbm.train(on: data, configuration: configuration, generator: &g, resumeFrom: resumeFrom,
                              onEpoch: { errors.append($0.reconstructionError) }, onProgress: { saved?($0) })
            }
            return Trained(parameters: rbm.weight.elements + rbm.visibleBias + rbm.hiddenBias, errors: errors)
        }
        guard let ranks else { return [try body(0)] }
        return try LoopbackCollective.run(ranks: ranks, body)
    }

    static func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    @Test(arguments: cases)
    func ranksHoldTheSameBitsAndFollowOneProcess(_ c: Case) throws {
        let one = try Self.train(c.configuration, ranks: nil)[0]
        #expect(one.parameters != Self.start.weight.elements + Self.start.visibleBias + Self.start.hiddenBias)
        // One rank through the collective: exactly the single process.
        #expect(try Self.train(c.configuration, ranks: 1)[0].parameters.map(\.bitPattern) == one.parameters.map(\.bitPattern))
        for ranks in [2, 3] {
            let all = try Self.train(c.configuration, ranks: ranks)
            for rank in 1..<ranks {
                #expect(all[rank].parameters.map(\.bitPattern) == all[0].parameters.map(\.bitPattern), "rank \(rank) of \(ranks)")
            }
            #expect(Self.largestDifference(all[0].parameters, one.parameters) < 1e-4, "\(ranks) ranks")
            // The reported error is the whole minibatch's (summed across ranks).
            for (e, f) in zip(all[0].errors, one.errors) { #expect(abs(e - f) <= 1e-4 * f, "\(ranks) ranks") }
        }
    }

    /// The reproducible mode (6 row groups of 2 rows): one process and 1, 2, 3 ranks end with
    /// the same bits and report the same errors (the last minibatch of 2 rows leaves groups 1-5
    /// empty, and ranks 1 and 2 of 3 no rows); a checkpoint saved on 2 ranks resumed on 3 too.
    @Test(arguments: cases)
    func reproducibleModeGivesTheSameBitsOnAnyNumberOfRanks(_ c: Case) throws {
        let one = try Self.train(c.configuration, ranks: nil, rowGroups: 6)[0]
        #expect(one.parameters != Self.start.weight.elements + Self.start.visibleBias + Self.start.hiddenBias)
        for ranks in [1, 2, 3] {
            let all = try Self.train(c.configuration, ranks: ranks, rowGroups: 6)
            for rank in 0..<ranks {
                #expect(all[rank].parameters.map(\.bitPattern) == one.parameters.map(\.bitPattern), "rank \(rank) of \(ranks)")
                #expect(all[rank].errors == one.errors, "rank \(rank) of \(ranks)")
            }
        }
        guard c.configuration.persistent else { return }
        final class Saved: @unchecked Sendable { var progress: RBMTrainingProgress? }
        let saved = Saved()
        _ = try Self.train(c.configuration, ranks: 2, rowGroups: 6,
                           saved: { p in if p.completedEpochs == 1 { saved.progress = p } })
        let progress = saved.progress
        #expect(progress?.completedEpochs == 1)
        let resumed = try Self.train(c.configuration, ranks: 3, rowGroups: 6, resumeFrom: progress)
        #expect(resumed[0].parameters.map(\.bitPattern) == one.parameters.map(\.bitPattern))
    }

    @Test func reproducibleModeRefusesWhatItCannotKeep() throws {
        let c = Self.cases[0].configuration
        #expect(throws: PretrainingError.self) { _ = try Self.train(c, ranks: 3, rowGroups: 2) }   // more ranks than groups
        #expect(throws: PretrainingError.self) { _ = try Self.train(c, ranks: nil, rowGroups: 13) } // more groups than rows
        var sparse = c; sparse.sparsityTarget = 0.1
        #expect(throws: PretrainingError.self) { _ = try Self.train(sparse, ranks: nil, rowGroups: 6) }
        var centered = c; centered.centered = true
        #expect(throws: PretrainingError.self) { _ = try Self.train(centered, ranks: nil, rowGroups: 6) }
    }

    @Test func rowGroupsCoverTheMinibatchInOrder() {
        for count in 1...5 {
            for capacity in count...13 {
                let groups = RowGroups(count: count, capacity: capacity)
                for rows in 1...capacity {
                    #expect((0..<count).flatMap { Array(groups.rows(ofGroup: $0, batchRows: rows)) } == Array(0..<rows))
                    for size in 1...count {
                        let shares = (0..<size).map { groups.share(ofRows: rows, rank: $0, size: size) }
                        #expect(shares.flatMap { Array($0) } == Array(0..<rows))
                        for r in 0..<size {
                            let owned = groups.groups(ofRank: r, size: size)
                            #expect(!owned.isEmpty)
                            #expect(owned.flatMap { Array(groups.rows(ofGroup: $0, batchRows: rows)) } == Array(shares[r]))
                        }
                    }
                }
            }
        }
    }

    /// A checkpoint saved on 2 ranks (PCD: the chains are gathered from both) resumed on 3 ends
    /// where the uninterrupted single process ends.
    @Test func resumeOnAnotherNumberOfRanks() throws {
        let c = Self.cases[1].configuration
        let one = try Self.train(c, ranks: nil)[0]
        final class Saved: @unchecked Sendable { var progress: [RBMTrainingProgress] = [] }
        let saved = Saved()
        _ = try Self.train(c, ranks: 2, saved: { p in if p.completedEpochs == 1 { saved.progress.append(p) } })
        #expect(saved.progress.count == 2)
        var first = saved.progress[0], second = saved.progress[1]
        first.reports = []; second.reports = []  // their times differ
        #expect(first == second)
        let chains = try #require(saved.progress[0].fantasy)
        #expect(chains.count == 12 * 30 && Set(chains).isSubset(of: [0, 1]))
        let resumed = try Self.train(c, ranks: 3, resumeFrom: saved.progress[0])
        #expect(Self.largestDifference(resumed[0].parameters, one.parameters) < 1e-4)
        #expect(resumed[2].parameters.map(\.bitPattern) == resumed[0].parameters.map(\.bitPattern))
    }

    @Test func sparsityAndTinyBatchesAreRefusedOnSeveralRanks() throws {
        var sparse = Self.cases[0].configuration; sparse.sparsityTarget = 0.1
        #expect(throws: PretrainingError.self) { _ = try Self.train(sparse, ranks: 2) }
        var tiny = Self.cases[0].configuration; tiny.batchSize = 2
        #expect(throws: PretrainingError.self) { _ = try Self.train(tiny, ranks: 3) }
    }

    @Test func sharesCoverTheMinibatchInOrder() {
        for size in 1...4 {
            for capacity in size...13 {
                for rows in 1...capacity {
                    let shares = (0..<size).map { Collectives.share(ofRows: rows, capacity: capacity, rank: $0, size: size) }
                    #expect(shares.flatMap { Array($0) } == Array(0..<rows))
                    // A row's place belongs to the same rank whatever the minibatch's length.
                    for r in 0..<size {
                        let full = Collectives.share(ofRows: capacity, capacity: capacity, rank: r, size: size)
                        #expect(shares[r] == full.clamped(to: 0..<rows))
                    }
                }
            }
        }
    }
}

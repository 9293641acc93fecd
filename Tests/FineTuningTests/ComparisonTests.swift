import Testing
import Linalg
@testable import FineTuning

@Suite struct ComparisonTests {
    func data(seed: UInt64) throws -> LabeledData {
        try LabeledData(inputs: randomInputs(rows: 40, columns: 6, seed: seed),
                        labels: randomLabels(count: 40, classes: 3, seed: seed + 1), classCount: 3)
    }

    final class Counter: @unchecked Sendable { var calls = 0 }

    func stack(seed: UInt64) -> [DenseParameters] {
        var g = Xoshiro256StarStar(seed: seed)
        return [DenseParameters(weight: Matrix.normal(rows: 6, columns: 5, standardDeviation: 0.1, using: &g), bias: [0, 0, 0, 0, 0]),
                DenseParameters(weight: Matrix.normal(rows: 5, columns: 4, standardDeviation: 0.1, using: &g), bias: [0, 0, 0, 0])]
    }

    @Test(arguments: [false, true])
    func runsEveryPairAndCachesPretraining(dependsOnActivation: Bool) throws {
        let counter = Counter()
        let comparison = Comparison(
            sizes: [6, 5, 4, 3], starts: [.pretrained, ComparisonStart(.xavierUniform), ComparisonStart(.lsuv()),
                                          ComparisonStart(name: "small-random", initializer: .normal(0.01))],
            activations: [.sigmoid, .relu],
            configuration: TrainingConfiguration(epochs: 3, batchSize: 8, learningRate: 0.1, validationCount: 8),
            pretrainingDependsOnActivation: dependsOnActivation, calibrationRows: 20)
        var epochs = 0
        let rows = try comparison.run(data: try data(seed: 1), test: try data(seed: 3),
                                      pretrain: { _, _ in counter.calls += 1; return stack(seed: 9) },
                                      onEpoch: { _, _ in epochs += 1 }).rows
        #expect(rows.count == 8 && epochs == 24)
        #expect(counter.calls == (dependsOnActivation ? 2 : 1))
        #expect(rows.map(\.start) == ["pretrained", "pretrained", "xavier-uniform", "xavier-uniform", "lsuv", "lsuv",
                                      "small-random", "small-random"])
        #expect(rows.map(\.activation) == Array(repeating: ["sigmoid", "relu"], count: 4).flatMap { $0 })
        for row in rows {
            #expect(row.testError != nil && row.reports.count == 3 && row.firstEpochGradientNorms.count == 3)
            #expect(row.bestEpoch >= 1 && row.bestEpoch <= 3)
            #expect(row.totalSeconds == row.pretrainingSeconds + row.fineTuningSeconds)
            if row.start != "pretrained" { #expect(row.pretrainingSeconds == 0) }
        }
        // Same seed, same start: the two activations of a start see the same data order, and a
        // repeated run gives identical numbers.
        let again = try comparison.run(data: try data(seed: 1), test: try data(seed: 3), pretrain: { _, _ in stack(seed: 9) }).rows
        #expect(again.map(\.testError) == rows.map(\.testError))

        let table = Comparison.markdownTable(rows)
        #expect(table.split(separator: "\n").count == 10)
        #expect(table.contains("| small-random | relu | 1 | 0.1 | 3 |"))
        let csv = Comparison.csv(rows)
        let lines = csv.split(separator: "\n")
        #expect(lines.count == 9)
        #expect(lines[0].hasSuffix("grad_norm_1,grad_norm_2,grad_norm_3"))
        #expect(lines[1].split(separator: ",", omittingEmptySubsequences: false).count == 16)
    }

    @Test func divergedRunsBecomeRows() throws {
        let comparison = Comparison(sizes: [6, 8, 3], starts: [ComparisonStart(.heNormal)], activations: [.relu],
                                    configuration: TrainingConfiguration(epochs: 20, batchSize: 8, learningRate: 1e6))
        let rows = try comparison.run(data: try data(seed: 1)).rows
        #expect(rows.count == 1 && rows[0].divergedAtEpoch != nil && rows[0].testError == nil)
        #expect(Comparison.markdownTable(rows).contains("diverged (epoch"))
    }

    @Test func pretrainedStartWithoutClosureIsAnError() throws {
        let comparison = Comparison(sizes: [6, 5, 4, 3], starts: [.pretrained], activations: [.sigmoid],
                                    configuration: TrainingConfiguration(epochs: 1))
        #expect(throws: FineTuningError.missingPretrainedLayers) { try comparison.run(data: try data(seed: 1)) }
    }

    @Test func numberFormatting() {
        #expect(formatFixed(3.14159, 2) == "3.14")
        #expect(formatFixed(-0.005, 2) == "-0.01")
        #expect(formatFixed(2, 0) == "2")
        #expect(formatPercent(0.0231) == "2.31%")
        #expect(formatScientific(0.000123456) == "1.23e-04")
        #expect(formatScientific(9.996) == "1.00e+01")
        #expect(formatScientific(-250) == "-2.50e+02")
        #expect(csvField("a,b") == "\"a,b\"")
    }
}

/// Seeds, the learning-rate grid, the paired tests and the equal-time budget.
@Suite struct ComparisonStudyTests {
    /// Two Gaussian blobs per class in 6 dimensions: learnable, so rates and starts differ.
    func blobs(count: Int, seed: UInt64) throws -> LabeledData {
        var g = Xoshiro256StarStar(seed: seed)
        let labels = (0..<count).map { $0 % 3 }
        var inputs = Matrix.normal(rows: count, columns: 6, standardDeviation: 0.6, using: &g)
        for (row, label) in labels.enumerated() { inputs[row, label] += 1.5 }
        return try LabeledData(inputs: inputs, labels: labels, classCount: 3)
    }

    func stack(seed: UInt64) -> [DenseParameters] {
        var g = Xoshiro256StarStar(seed: seed)
        return [DenseParameters(weight: Matrix.normal(rows: 6, columns: 5, standardDeviation: 0.1, using: &g), bias: [0, 0, 0, 0, 0])]
    }

    func comparison(rates: [Float] = [], seeds: [UInt64] = [1, 2, 3], budget: ComparisonBudget = .equalEpochs) -> Comparison {
        Comparison(sizes: [6, 5, 3], starts: [.pretrained, ComparisonStart(.heNormal)], activations: [.sigmoid, .relu],
                   configuration: TrainingConfiguration(epochs: 3, batchSize: 10, learningRate: 0.1, diagnosticRows: 0),
                   calibrationRows: 20, seeds: seeds, learningRates: rates, selectionValidationCount: 30, budget: budget)
    }

    final class Calls: @unchecked Sendable { var seeds: [UInt64] = [] }

    @Test func everyArmRunsOncePerSeedAndPretrainsOncePerSeed() throws {
        let calls = Calls()
        let result = try comparison().run(data: try blobs(count: 120, seed: 1), test: try blobs(count: 60, seed: 2),
                                          pretrain: { _, seed in calls.seeds.append(seed); return stack(seed: seed) })
        #expect(calls.seeds == [1, 2, 3])
        #expect(result.rows.count == 12 && result.arms.count == 4)
        #expect(result.rows.map(\.seed) == Array(repeating: [1, 2, 3], count: 4).flatMap { $0 })
        // Different seeds give different runs; the summary is the seeds' statistics.
        for arm in result.arms {
            let errors = arm.testErrors.map { $0! }
            #expect(arm.meanTestError == Statistics.mean(errors))
            #expect(arm.standardDeviation == Statistics.standardDeviation(errors))
            let t = try #require(Statistics.tInterval(errors))
            #expect(arm.interval == Statistics.Interval(lower: max(t.lower, 0), upper: min(t.upper, 1)))
        }
        let pretrained = result.rows.filter { $0.start == "pretrained" }
        #expect(Set(pretrained.map(\.testError)).count > 1 || Set(pretrained.map(\.finalTrainLoss)).count > 1)
        // Seed 1 alone reproduces seed 1's rows of the three-seed run.
        let single = try comparison(seeds: [1]).run(data: try blobs(count: 120, seed: 1), test: try blobs(count: 60, seed: 2),
                                                    pretrain: { _, seed in stack(seed: seed) })
        let losses = { (rows: [ComparisonRow]) in rows.map { $0.reports.map(\.trainLoss) } }
        #expect(losses(single.rows) == losses(result.rows.filter { $0.seed == 1 }))
        #expect(single.rows.map(\.testError) == result.rows.filter { $0.seed == 1 }.map(\.testError))
    }

    @Test func pairedTestsAgainstTheBestArm() throws {
        let result = try comparison().run(data: try blobs(count: 120, seed: 1), test: try blobs(count: 60, seed: 2),
                                          pretrain: { _, seed in stack(seed: seed) })
        let best = try #require(result.arms.first { $0.name == result.best })
        #expect(best.versusBest == nil)
        #expect(result.arms.allSatisfy { $0.meanTestError! >= best.meanTestError! })
        let bestRows = result.rows.filter { "\($0.start)/\($0.activation)" == best.name }
        for arm in result.arms where arm.name != best.name {
            let versus = try #require(arm.versusBest)
            let rows = result.rows.filter { "\($0.start)/\($0.activation)" == arm.name }
            #expect(versus.pairedT == Statistics.pairedTTest(bestRows.map { $0.testError! }, rows.map { $0.testError! }))
            // Three seeds with predictions: the verdict's p is the paired bootstrap's (this arm
            // minus the best, over the 60 test images and the seeds, seeded with the first seed).
            let bootstrap = Statistics.pairedBootstrap(firstWrong: rows.map { $0.misclassifiedTestSamples! },
                                                       secondWrong: bestRows.map { $0.misclassifiedTestSamples! },
                                                       sampleCount: 60, resamples: 10_000, seed: 1)
            #expect(versus.bootstrap == bootstrap && versus.test == .pairedBootstrap)
            #expect(versus.pValue == bootstrap.pValue && versus.distinguishable == (versus.pValue! < 0.05))
            #expect(versus.mcNemar.count == 3)
            for (b, o) in zip(bestRows, rows) {
                // The misclassified sets reproduce the test errors.
                #expect(Double(b.misclassifiedTestSamples!.count) / 60 == b.testError!)
                #expect(Double(o.misclassifiedTestSamples!.count) / 60 == o.testError!)
            }
        }
        #expect(result.markdownSummary.contains("| best |") && result.markdownSummary.contains("| paired bootstrap |"))
        #expect(result.verdictLine.hasPrefix("Best: \(best.name)") && result.verdictLine.contains("paired bootstrap"))
        #expect(result.armsCSV.split(separator: "\n").count == 5)
    }

    /// One seed: McNemar's exact test decides, no bootstrap; without test predictions
    /// (several seeds) the paired t-test.
    @Test func oneSeedUsesMcNemar() throws {
        let result = try comparison(seeds: [4]).run(data: try blobs(count: 120, seed: 1), test: try blobs(count: 60, seed: 2),
                                                    pretrain: { _, seed in stack(seed: seed) })
        for arm in result.arms where arm.name != result.best {
            let versus = try #require(arm.versusBest)
            #expect(versus.test == .mcNemarExact && versus.bootstrap == nil && versus.pairedT == nil)
            #expect(versus.pValue == versus.mcNemar[0].pValue)
        }
        var rows = result.rows
        for i in rows.indices { rows[i].misclassifiedTestSamples = nil }
        let t = Comparison.paired(Array(rows[0..<1]) + Array(rows[0..<1]).map { var r = $0; r.seed = 5; r.testError! += 0.01; return r },
                                  Array(rows[1..<2]) + Array(rows[1..<2]).map { var r = $0; r.seed = 5; return r },
                                  best: "x", testCount: 60, resamples: 100, seed: 1)
        #expect(t.test == .pairedT && t.bootstrap == nil && t.pValue == t.pairedT?.pValue)
    }

    /// The rate grid: the chosen rate has the lowest validation error, and the test set plays
    /// no part in the choice (a test set with scrambled labels chooses the same rates and gives
    /// the same validation errors, while the test errors change).
    @Test func ratesAreChosenOnValidationNeverOnTest() throws {
        let data = try blobs(count: 150, seed: 1)
        let test = try blobs(count: 60, seed: 2)
        let scrambled = try LabeledData(inputs: test.inputs, labels: test.labels.map { ($0 + 1) % 3 }, classCount: 3)
        var selectionSawTest = false
        let grid: [Float] = [0.001, 0.1, 1]
        let run = { (test: LabeledData) in
            try comparison(rates: grid, seeds: [1, 2]).run(
                data: data, test: test, pretrain: { _, seed in stack(seed: seed) },
                onEpoch: { key, report in if key.selection && report.testError != nil { selectionSawTest = true } })
        }
        let a = try run(test), b = try run(scrambled)
        #expect(!selectionSawTest)
        #expect(a.arms.map(\.learningRate) == b.arms.map(\.learningRate))
        #expect(a.arms.map(\.validationErrors) == b.arms.map(\.validationErrors))
        #expect(a.arms.map(\.testErrors) != b.arms.map(\.testErrors))
        for arm in a.arms {
            #expect(arm.validationErrors.count == 3)
            let index = try #require(grid.firstIndex(of: arm.learningRate))
            #expect(arm.validationErrors.allSatisfy { $0 == nil || $0! >= arm.validationErrors[index]! })
        }
        #expect(a.rows.allSatisfy { row in a.arms.first { $0.name == "\(row.start)/\(row.activation)" }!.learningRate == row.learningRate })
        // A rate of 0.001 for 3 epochs barely moves: some arm must prefer a larger one.
        #expect(a.arms.contains { $0.learningRate != 0.001 })
        #expect(a.markdownSummary.contains("validation error at 0.001 / 0.1 / 1"))
    }

    @Test func equalTimeGivesRandomStartsExtraEpochs() throws {
        // A slow pre-training closure (busy for 50 ms: several epochs of this tiny net).
        let result = try comparison(seeds: [1], budget: .equalTime).run(
            data: try blobs(count: 120, seed: 1), test: try blobs(count: 60, seed: 2),
            pretrain: { _, seed in
                let clock = ContinuousClock(), began = clock.now
                while clock.now - began < .milliseconds(50) {}
                return stack(seed: seed)
            })
        for row in result.rows {
            if row.start == "pretrained" {
                #expect(row.epochs == 3 && row.reports.count == 3)
            } else {
                let reference = result.rows.first { $0.start == "pretrained" && $0.activation == row.activation }!
                let extra = Int((reference.pretrainingSeconds / (reference.fineTuningSeconds / 3)).rounded())
                #expect(row.epochs == 3 + extra && row.reports.count == row.epochs && extra > 0)
            }
            #expect(row.secondsAtEpoch.count == row.reports.count)
            #expect(row.secondsAtEpoch.last! == row.totalSeconds || abs(row.secondsAtEpoch.last! - row.totalSeconds) < 1e-9)
        }
    }

    @Test func explicitArmsRunOnlyThosePairs() throws {
        var c = comparison(seeds: [1, 2])
        c.pairs = [(.pretrained, .sigmoid), (ComparisonStart(.heNormal), .relu)]
        let result = try c.run(data: try blobs(count: 120, seed: 1), test: try blobs(count: 60, seed: 2),
                               pretrain: { _, seed in stack(seed: seed) })
        #expect(result.arms.map(\.name) == ["pretrained/sigmoid", "he-normal/relu"])
        #expect(result.rows.count == 4)
        // The same arms of the full grid give the same runs.
        let full = try comparison(seeds: [1, 2]).run(data: try blobs(count: 120, seed: 1), test: try blobs(count: 60, seed: 2),
                                                      pretrain: { _, seed in stack(seed: seed) })
        let chosen = full.arms.filter { ["pretrained/sigmoid", "he-normal/relu"].contains($0.name) }
        #expect(chosen.map(\.testErrors) == result.arms.map(\.testErrors))
        c.pairs = [(.pretrained, .sigmoid), (.pretrained, .sigmoid)]
        #expect(throws: FineTuningError.self) { try c.validate(trainingCount: 120) }
    }

    @Test func badSettingsAreRejectedBeforeAnyWork() {
        let data = try! blobs(count: 40, seed: 1)
        var c = comparison(rates: [0.1, 0.1])
        #expect(throws: FineTuningError.self) { try c.validate(trainingCount: data.count) }
        c = comparison(seeds: [1, 1])
        #expect(throws: FineTuningError.self) { try c.validate(trainingCount: data.count) }
        c = comparison(rates: [0.1, 1])
        c.selectionValidationCount = 40
        #expect(throws: FineTuningError.self) { try c.validate(trainingCount: data.count) }
        c = comparison()
        c.armLearningRates = [0.1, 0.2]  // four arms
        #expect(throws: FineTuningError.self) { try c.validate(trainingCount: data.count) }
        c.armLearningRates = [0.1, 0.2, -1, 0.3]
        #expect(throws: FineTuningError.self) { try c.validate(trainingCount: data.count) }
    }

    /// Fixed rates per arm: each arm's runs use its own rate, and an arm's runs equal those of
    /// a comparison where every arm has that rate.
    @Test func eachArmRunsAtItsOwnFixedRate() throws {
        let data = try blobs(count: 120, seed: 1), test = try blobs(count: 60, seed: 2)
        var c = comparison(seeds: [1, 2])
        c.pairs = [(.pretrained, .sigmoid), (ComparisonStart(.heNormal), .relu)]
        c.armLearningRates = [0.5, 0.05]
        let result = try c.run(data: data, test: test, pretrain: { _, seed in stack(seed: seed) })
        #expect(result.rows.map(\.learningRate) == [0.5, 0.5, 0.05, 0.05])
        #expect(result.arms.map(\.learningRate) == [0.5, 0.05])
        var single = c
        single.armLearningRates = nil
        single.configuration.learningRate = 0.05
        let reference = try single.run(data: data, test: test, pretrain: { _, seed in stack(seed: seed) })
        #expect(result.rows[2...].map { $0.reports.map(\.trainLoss) } == reference.rows[2...].map { $0.reports.map(\.trainLoss) })
        #expect(result.rows[..<2].map { $0.reports.map(\.trainLoss) } != reference.rows[..<2].map { $0.reports.map(\.trainLoss) })
    }
}

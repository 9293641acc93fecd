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
                                      pretrain: { _ in counter.calls += 1; return stack(seed: 9) },
                                      onEpoch: { _, _, _ in epochs += 1 })
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
        let again = try comparison.run(data: try data(seed: 1), test: try data(seed: 3), pretrain: { _ in stack(seed: 9) })
        #expect(again.map(\.testError) == rows.map(\.testError))

        let table = Comparison.markdownTable(rows)
        #expect(table.split(separator: "\n").count == 10)
        #expect(table.contains("| small-random | relu |"))
        let csv = Comparison.csv(rows)
        let lines = csv.split(separator: "\n")
        #expect(lines.count == 9)
        #expect(lines[0].hasSuffix("grad_norm_1,grad_norm_2,grad_norm_3"))
        #expect(lines[1].split(separator: ",", omittingEmptySubsequences: false).count == 13)
    }

    @Test func divergedRunsBecomeRows() throws {
        let comparison = Comparison(sizes: [6, 8, 3], starts: [ComparisonStart(.heNormal)], activations: [.relu],
                                    configuration: TrainingConfiguration(epochs: 20, batchSize: 8, learningRate: 1e6))
        let rows = try comparison.run(data: try data(seed: 1))
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

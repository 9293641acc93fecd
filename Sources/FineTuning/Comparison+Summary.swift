import Linalg

// What a comparison reports once its runs are done: the extra epochs of the equal-time budget,
// each arm's summary over seeds, and the paired tests against the best arm.

extension Comparison {
    /// The extra epochs a random start gets under `.equalTime`: the pre-training seconds of the
    /// seed's pretrained run with `activation` (or any pretrained run of the seed) over that
    /// run's seconds per fine-tuning epoch. Nil without such a run.
    func equalTimeReference(_ seedRows: [ComparisonRow], activation: Activation) -> Int? {
        let pretrainedNames = Set(arms.map(\.start).filter(\.initializer.isPretrained).map(\.name))
        let pretrained = seedRows.filter { pretrainedNames.contains($0.start) && !$0.reports.isEmpty }
        guard let reference = pretrained.first(where: { $0.activation == activation.name }) ?? pretrained.first,
              reference.fineTuningSeconds > 0 else { return nil }
        let perEpoch = reference.fineTuningSeconds / Double(reference.reports.count)
        return Int((reference.pretrainingSeconds / perEpoch).rounded())
    }

    /// An arm's summary over its seeds' rows.
    func summary(_ rows: [ComparisonRow], rate: Float, validationErrors: [Double?]) -> ComparisonArm {
        let errors = rows.map(\.testError)
        let complete = errors.allSatisfy { $0 != nil } ? errors.map { $0! } : nil
        return ComparisonArm(start: rows[0].start, activation: rows[0].activation, learningRate: rate,
                             validationErrors: validationErrors, seeds: rows.map(\.seed), testErrors: errors,
                             meanTestError: complete.map(Statistics.mean),
                             standardDeviation: complete.flatMap { $0.count >= 2 ? Statistics.standardDeviation($0) : nil },
                             interval: complete.flatMap { Statistics.tInterval($0) }.map {
                                 Statistics.Interval(lower: max($0.lower, 0), upper: min($0.upper, 1))
                             },
                             meanTotalSeconds: Statistics.mean(rows.map(\.totalSeconds)), versusBest: nil)
    }

    /// The paired tests of `other` against `best` (rows of the same seeds, in the same order,
    /// scored on `testCount` test samples): the paired t-test, McNemar's per seed and, with
    /// two or more seeds and predictions, the paired bootstrap of other minus best.
    static func paired(_ best: [ComparisonRow], _ other: [ComparisonRow], best name: String,
                       testCount: Int?, resamples: Int, seed: UInt64) -> PairedComparison {
        let t = Statistics.pairedTTest(best.map { $0.testError! }, other.map { $0.testError! })
        let predictions = zip(best, other).compactMap { b, o -> (best: [Int], other: [Int])? in
            guard let bw = b.misclassifiedTestSamples, let ow = o.misclassifiedTestSamples else { return nil }
            return (bw, ow)
        }
        let mcNemar = predictions.map { Statistics.mcNemarExact(firstWrong: $0.best, secondWrong: $0.other) }
        var bootstrap: Statistics.BootstrapResult?
        if best.count >= 2, predictions.count == best.count, let testCount, testCount > 0 {
            bootstrap = Statistics.pairedBootstrap(firstWrong: predictions.map(\.other), secondWrong: predictions.map(\.best),
                                                   sampleCount: testCount, resamples: resamples, seed: seed)
        }
        let test: PairedTest? = bootstrap != nil ? .pairedBootstrap : t != nil ? .pairedT : mcNemar.count == 1 ? .mcNemarExact : nil
        let p: Double? = switch test {
        case .pairedBootstrap: bootstrap?.pValue
        case .pairedT: t?.pValue
        case .mcNemarExact: mcNemar[0].pValue
        case nil: nil
        }
        return PairedComparison(best: name, pairedT: t, mcNemar: mcNemar, bootstrap: bootstrap, test: test,
                                pValue: p, distinguishable: p.map { $0 < 0.05 })
    }
}

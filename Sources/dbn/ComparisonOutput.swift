import DeepBelief

/// The printing and files of a comparison (`dbn compare`, and `dbn train` with `--seeds` or
/// `--learning-rates`): one line per epoch (as `--print-every` allows), per rate choice and
/// per run, the `--log` and TensorBoard records, then the tables, the verdict and the
/// PREFIX.csv / PREFIX-arms.csv / PREFIX.json files.
struct ComparisonOutput {
    let console: Console
    let runner: TrainingOutput

    /// Runs `comparison` with the printing and records of every run.
    func run(_ comparison: Comparison, data: LabeledData, test: LabeledData?,
             pretrain: ((Activation, UInt64) throws -> [DenseParameters])?,
             onTrained: (ComparisonRunKey, Network) -> Void = { _, _ in }) throws -> ComparisonResult {
        let epochs = comparison.configuration.epochs
        return try comparison.run(data: data, test: test, pretrain: pretrain, onEpoch: { key, report in
            if runner.shouldPrint(epoch: report.epoch, of: epochs) {
                let tag = "\(key.arm) seed \(key.seed) rate \(key.learningRate)\(key.selection ? " (selection)" : "")"
                console.say("  \(tag) \(report.summary)")
            }
            try? runner.log?.write(CompareLogRecord(key: key, report: report))
            runner.board?.fineTuneEpoch(run: "\(key.start.name)-\(key.activation.name)-seed\(key.seed)-rate\(key.learningRate)\(key.selection ? "-selection" : "")", report: report)
        }, onSelection: { key, error in
            console.say("\(key.arm) rate \(key.learningRate): validation error \(percent(error))")
        }, onRow: { row in
            console.say("\(row.start)/\(row.activation) seed \(row.seed): test error \(percent(row.testError))\(row.divergedAtEpoch.map { " (diverged at epoch \($0))" } ?? "")")
        }, onTrained: onTrained)
    }

    /// Every scored run, for the JSON.
    struct RunJSON: Encodable {
        let `init`: String
        let activation: String
        let seed: UInt64
        let learningRate: Float
        let epochs: Int
        let testError: Double?
        let bestEpoch: Int
        let finalTrainLoss: Double?
        let fineTuningSeconds: Double
        let pretrainingSeconds: Double
        let totalSeconds: Double
        let firstEpochGradientNorms: [Double]
        let divergedAtEpoch: Int?
        let trainLoss: [Double]
        let testErrors: [Double?]
        /// Pre-training plus fine-tuning seconds at the end of each epoch (time to accuracy).
        let secondsAtEpoch: [Double]
    }

    /// What PREFIX.json (and `--json`) holds of every comparison, beside the command's own
    /// fields (`extra`, encoded into the same object).
    struct Summary<Extra: Encodable>: Encodable {
        let extra: Extra
        let seeds: [UInt64]
        let learningRates: [Float]
        let selectionValidationCount: Int
        let budget: String
        let best: String?
        let verdict: String
        let arms: [ComparisonArm]
        let runs: [RunJSON]
        let csv: String
        let armsCsv: String
        let json: String

        func encode(to encoder: Encoder) throws {
            try extra.encode(to: encoder)
            var c = encoder.container(keyedBy: Key.self)
            try c.encode(seeds, forKey: .seeds)
            try c.encode(learningRates, forKey: .learningRates)
            try c.encode(selectionValidationCount, forKey: .selectionValidationCount)
            try c.encode(budget, forKey: .budget)
            try c.encodeIfPresent(best, forKey: .best)
            try c.encode(verdict, forKey: .verdict)
            try c.encode(arms, forKey: .arms)
            try c.encode(runs, forKey: .runs)
            try c.encode(csv, forKey: .csv)
            try c.encode(armsCsv, forKey: .armsCsv)
            try c.encode(json, forKey: .json)
        }
        enum Key: String, CodingKey {
            case seeds, learningRates, selectionValidationCount, budget, best, verdict, arms, runs, csv, armsCsv, json
        }
    }

    /// Prints the per-run table, the per-arm table and the verdict line (followed by
    /// `closing`), and writes PREFIX.csv (the runs), PREFIX-arms.csv (the arms) and PREFIX.json
    /// (the `Summary` with `extra`, also emitted on stdout with `--json`).
    func finish<Extra: Encodable>(_ result: ComparisonResult, seeds: [UInt64], prefix: String, closing: String = "",
                                  extra: Extra) throws {
        console.say("")
        runner.board?.flush()
        // One line at a time: the console escapes line breaks inside a line.
        for table in [Comparison.markdownTable(result.rows), result.markdownSummary] {
            for line in table.split(separator: "\n") { console.say(String(line)) }
            console.say("")
        }
        console.say(result.verdictLine + closing)
        let csv = prefix + ".csv", armsCsv = prefix + "-arms.csv", json = prefix + ".json"
        let runs = result.rows.map { row in
            RunJSON(init: row.start, activation: row.activation, seed: row.seed, learningRate: row.learningRate,
                    epochs: row.epochs, testError: row.testError, bestEpoch: row.bestEpoch,
                    finalTrainLoss: row.finalTrainLoss, fineTuningSeconds: row.fineTuningSeconds,
                    pretrainingSeconds: row.pretrainingSeconds, totalSeconds: row.totalSeconds,
                    firstEpochGradientNorms: row.firstEpochGradientNorms, divergedAtEpoch: row.divergedAtEpoch,
                    trainLoss: row.reports.map(\.trainLoss), testErrors: row.reports.map(\.testError),
                    secondsAtEpoch: row.secondsAtEpoch)
        }
        let value = Summary(extra: extra, seeds: seeds, learningRates: result.learningRates,
                            selectionValidationCount: result.selectionValidationCount, budget: result.budget.rawValue,
                            best: result.best, verdict: result.verdictLine + closing, arms: result.arms, runs: runs,
                            csv: csv, armsCsv: armsCsv, json: json)
        try FileIO.writeAtomically(Comparison.csv(result.rows), to: csv)
        try FileIO.writeAtomically(result.armsCSV, to: armsCsv)
        try FileIO.writeAtomically(JSONLine.encode(value) + "\n", to: json)
        console.say("Wrote \(csv), \(armsCsv) and \(json)")
        try console.emitJSON(value)
    }
}

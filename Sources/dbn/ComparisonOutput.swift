import DeepBelief

/// The printing and files of a comparison (`dbn compare`, and `dbn train` with `--seeds` or
/// `--learning-rates`): one line per epoch (as `--print-every` allows), per rate choice and
/// per run, the `--log` and TensorBoard records, then the tables, the verdict and the
/// PREFIX.csv / PREFIX-arms.csv / PREFIX.json files.
struct ComparisonOutput {
    let console: Console
    let runner: TrainingOutput

    /// Runs `comparison` with the printing and records of every run: on a terminal one
    /// progress bar per run ("arm i/n seed S START/ACTIVATION", the whole command's ETA from the
    /// runs still to come, at this run's size: an estimate), TensorBoard's per-step scalars and
    /// per-epoch histograms on a probe batch when asked.
    func run(_ comparison: Comparison, data: LabeledData, test: LabeledData?,
             pretrain: ((Activation, UInt64) throws -> [DenseParameters])?,
             onTrained: (ComparisonRunKey, Network) -> Void = { _, _ in }) throws -> ComparisonResult {
        let epochs = comparison.configuration.epochs
        let armNames = comparison.arms.map { "\($0.start.name)/\($0.activation.name)" }
        let showsBar = ProgressLine.enabled(quiet: console.quiet)
        var bar: ProgressBar?
        var barEpochs = epochs
        let probe = runner.board.map { _ in ProbeBatch(data) }
        let result = try comparison.run(data: data, test: test, pretrain: pretrain, onEpoch: { key, report in
            if runner.shouldPrint(epoch: report.epoch, of: epochs) {
                let tag = "\(key.arm) seed \(key.seed) rate \(key.learningRate)\(key.selection ? " (selection)" : "")"
                console.say("  \(tag) \(report.summary)")
            }
            try? runner.log?.write(CompareLogRecord(key: key, report: report))
            runner.board?.fineTuneEpoch(run: Self.runName(key), report: report)
        }, onSelection: { key, error in
            bar?.finish()
            console.say("\(key.arm) rate \(key.learningRate): validation error \(percent(error))")
        }, onRow: { row in
            bar?.finish()
            console.say("\(row.start)/\(row.activation) seed \(row.seed): test error \(percent(row.testError))\(row.divergedAtEpoch.map { " (diverged at epoch \($0))" } ?? "")")
        }, onTrained: onTrained, observers: ComparisonObservers(onRunStart: { key, index, count, runEpochs in
            let rows = key.selection ? data.count - comparison.selectionValidationCount : data.count
            let arm = (armNames.firstIndex(of: key.arm) ?? 0) + 1
            bar = ProgressBar(label: "arm \(arm)/\(armNames.count) seed \(key.seed) \(key.arm)\(key.selection ? " rate \(key.learningRate)" : "")",
                              total: runEpochs * rows, later: (count - index - 1) * runEpochs * rows, enabled: showsBar)
            barEpochs = runEpochs
        }, onMinibatch: { key, step in
            bar?.advance(rows: step.rows, loss: step.loss, epoch: "epoch \(step.epoch)/\(barEpochs)")
            runner.board?.fineTuneStep(run: Self.runName(key), progress: step)
        }, onParameters: { key, epoch, network in
            runner.board?.parameters(run: Self.runName(key), network: network, probe: probe, step: epoch)
        }, gradientNormsEvery: runner.board?.every ?? 0))
        bar?.finish()
        return result
    }

    /// The TensorBoard folder of one run: START-ACTIVATION-seedS-rateR (-selection).
    static func runName(_ key: ComparisonRunKey) -> String {
        "\(key.start.name)-\(key.activation.name)-seed\(key.seed)-rate\(key.learningRate)\(key.selection ? "-selection" : "")"
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

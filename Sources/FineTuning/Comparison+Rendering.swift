extension Comparison {
    /// A Markdown table of the runs: start, activation, seed, learning rate, epochs, test error, best epoch, final train
    /// loss, seconds (fine-tuning, pre-training, total) and the first epoch's per-layer
    /// gradient norms (input side first).
    public static func markdownTable(_ rows: [ComparisonRow]) -> String {
        var lines = [
            "| start | activation | seed | rate | epochs | test error | best epoch | final train loss | fine-tuning s | pre-training s | total s | gradient norms, epoch 1 (layer 1 ... L) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for row in rows {
            let error: String
            if let epoch = row.divergedAtEpoch {
                error = "diverged (epoch \(epoch))"
            } else {
                error = row.testError.map(formatPercent) ?? (row.validationError.map { formatPercent($0) + " (validation)" } ?? "-")
            }
            let cells = [
                row.start, row.activation, "\(row.seed)", "\(row.learningRate)", "\(row.epochs)", error, row.divergedAtEpoch == nil ? "\(row.bestEpoch)" : "-",
                row.finalTrainLoss.map { formatFixed($0, 4) } ?? "-", formatFixed(row.fineTuningSeconds, 2),
                formatFixed(row.pretrainingSeconds, 2), formatFixed(row.totalSeconds, 2),
                row.firstEpochGradientNorms.map { formatScientific($0) }.joined(separator: " / "),
            ]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The rows as CSV with a header line; numbers at full precision, empty cells for missing
    /// values, one `grad_norm_l` column per layer (as many as the deepest row has).
    public static func csv(_ rows: [ComparisonRow]) -> String {
        let layers = rows.map(\.firstEpochGradientNorms.count).max() ?? 0
        var header = ["start", "activation", "seed", "learning_rate", "epochs", "test_error", "validation_error", "best_epoch", "final_train_loss",
                      "fine_tuning_seconds", "pretraining_seconds", "total_seconds", "diverged_at_epoch"]
        header += (0..<layers).map { "grad_norm_\($0 + 1)" }
        var lines = [header.joined(separator: ",")]
        func cell(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        for row in rows {
            var cells = [csvField(row.start), csvField(row.activation), "\(row.seed)", "\(row.learningRate)", "\(row.epochs)",
                         cell(row.testError), cell(row.validationError),
                         "\(row.bestEpoch)", cell(row.finalTrainLoss), cell(row.fineTuningSeconds),
                         cell(row.pretrainingSeconds), cell(row.totalSeconds), row.divergedAtEpoch.map { "\($0)" } ?? ""]
            cells += (0..<layers).map { $0 < row.firstEpochGradientNorms.count ? cell(row.firstEpochGradientNorms[$0]) : "" }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A difference of error rates in percentage points with its sign, e.g. "+0.12" or "-0.05".
func formatSignedPercent(_ fraction: Double) -> String {
    (fraction < 0 ? "-" : "+") + formatFixed(100 * abs(fraction), 2)
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
    return "\"" + text.replacing("\"", with: "\"\"") + "\""
}

extension ComparisonResult {
    /// The per-arm table: chosen rate, validation error per grid rate, mean test error with
    /// its sample sd and 95% t-interval over the seeds, mean total seconds, and the paired
    /// test against the best arm.
    public var markdownSummary: String {
        var header = "| start | activation | rate |"
        var rule = "|---|---|---:|"
        if !learningRates.isEmpty {
            header += " validation error at " + learningRates.map { "\($0)" }.joined(separator: " / ") + " |"
            rule += "---|"
        }
        header += " seeds | test error, mean | sd | 95% interval | total s, mean | vs best: error difference, points (95% bootstrap interval) | p | test | verdict |"
        rule += "---:|---:|---:|---|---:|---|---:|---|---|"
        var lines = [header, rule]
        for arm in arms {
            var cells = [arm.start, arm.activation, "\(arm.learningRate)"]
            if !learningRates.isEmpty {
                cells.append(arm.validationErrors.map { $0.map(formatPercent) ?? "diverged" }.joined(separator: " / "))
            }
            let diverged = arm.testErrors.filter { $0 == nil }.count
            cells += [
                "\(arm.seeds.count)",
                arm.meanTestError.map(formatPercent) ?? (diverged > 0 ? "diverged (\(diverged) of \(arm.seeds.count))" : "-"),
                arm.standardDeviation.map(formatPercent) ?? "-",
                arm.interval.map { "\(formatPercent($0.lower)) to \(formatPercent($0.upper))" } ?? "-",
                formatFixed(arm.meanTotalSeconds, 1),
                arm.versusBest?.bootstrap.map {
                    "\(formatSignedPercent($0.difference)) (\(formatSignedPercent($0.interval.lower)) to \(formatSignedPercent($0.interval.upper)))"
                } ?? "-",
                arm.versusBest?.pValue.map { formatScientific($0) } ?? "-",
                arm.versusBest?.test?.title ?? "-",
                arm.verdict(best: best),
            ]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The per-arm summaries as CSV: rate, validation errors per grid rate (`validation_error_at_RATE`),
    /// mean, sd, interval, the paired t-test and the McNemar p-values (`;`-separated, one per seed).
    public var armsCSV: String {
        var header = ["start", "activation", "learning_rate"] + learningRates.map { "validation_error_at_\($0)" }
        header += ["seeds", "test_errors", "mean_test_error", "sd", "ci95_lower", "ci95_upper", "mean_total_seconds",
                   "best", "paired_t", "paired_t_p", "mcnemar_p", "bootstrap_difference", "bootstrap_ci95_lower",
                   "bootstrap_ci95_upper", "bootstrap_p", "test", "p_value", "distinguishable_at_5pct"]
        var lines = [header.joined(separator: ",")]
        func cell(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        for arm in arms {
            var cells = [csvField(arm.start), csvField(arm.activation), "\(arm.learningRate)"]
            cells += learningRates.indices.map { $0 < arm.validationErrors.count ? cell(arm.validationErrors[$0]) : "" }
            let versus = arm.versusBest
            cells += [arm.seeds.map(String.init).joined(separator: ";"), arm.testErrors.map(cell).joined(separator: ";"),
                      cell(arm.meanTestError), cell(arm.standardDeviation), cell(arm.interval?.lower), cell(arm.interval?.upper),
                      cell(arm.meanTotalSeconds), csvField(versus?.best ?? ""), cell(versus?.pairedT?.statistic),
                      cell(versus?.pairedT?.pValue), versus?.mcNemar.map { "\($0.pValue)" }.joined(separator: ";") ?? "",
                      cell(versus?.bootstrap?.difference), cell(versus?.bootstrap?.interval.lower),
                      cell(versus?.bootstrap?.interval.upper), cell(versus?.bootstrap?.pValue), versus?.test?.rawValue ?? "",
                      cell(versus?.pValue), versus?.distinguishable.map { "\($0)" } ?? ""]
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One closing line: the best arm, its mean error, and whether each other arm differs from
    /// it at 5% (e.g. "Best: dbn/sigmoid 1.80%; he-normal/relu 2.40% differs (p = 1.2e-03)").
    public var verdictLine: String {
        guard let best, let arm = arms.first(where: { $0.name == best }), let mean = arm.meanTestError else {
            return "No arm finished with a test error."
        }
        let others = arms.filter { $0.name != best }.map { other -> String in
            guard let error = other.meanTestError else { return "\(other.name) diverged" }
            return "\(other.name) \(formatPercent(error)): \(other.verdict(best: best))"
                + (other.versusBest.flatMap { v in v.pValue.map { " (p = \(formatScientific($0)), \(v.test?.title ?? ""))" } } ?? "")
        }
        return "Best: \(best) \(formatPercent(mean))" + (others.isEmpty ? "" : "; " + others.joined(separator: "; "))
    }
}

extension ComparisonArm {
    /// "best", "worse at 5%", "not distinguishable at 5%" or "-" (no test).
    func verdict(best: String?) -> String {
        if name == best { return "best" }
        guard let distinguishable = versusBest?.distinguishable else { return "-" }
        return distinguishable ? "worse at 5%" : "not distinguishable at 5%"
    }
}

extension Comparison {
    /// A Markdown table of the rows: start, activation, test error, best epoch, final train
    /// loss, seconds (fine-tuning, pre-training, total) and the first epoch's per-layer
    /// gradient norms (input side first).
    public static func markdownTable(_ rows: [ComparisonRow]) -> String {
        var lines = [
            "| start | activation | test error | best epoch | final train loss | fine-tuning s | pre-training s | total s | gradient norms, epoch 1 (layer 1 ... L) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for row in rows {
            let error: String
            if let epoch = row.divergedAtEpoch {
                error = "diverged (epoch \(epoch))"
            } else {
                error = row.testError.map(formatPercent) ?? (row.validationError.map { formatPercent($0) + " (validation)" } ?? "-")
            }
            let cells = [
                row.start, row.activation, error, row.divergedAtEpoch == nil ? "\(row.bestEpoch)" : "-",
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
        var header = ["start", "activation", "test_error", "validation_error", "best_epoch", "final_train_loss",
                      "fine_tuning_seconds", "pretraining_seconds", "total_seconds", "diverged_at_epoch"]
        header += (0..<layers).map { "grad_norm_\($0 + 1)" }
        var lines = [header.joined(separator: ",")]
        func cell(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        for row in rows {
            var cells = [csvField(row.start), csvField(row.activation), cell(row.testError), cell(row.validationError),
                         "\(row.bestEpoch)", cell(row.finalTrainLoss), cell(row.fineTuningSeconds),
                         cell(row.pretrainingSeconds), cell(row.totalSeconds), row.divergedAtEpoch.map { "\($0)" } ?? ""]
            cells += (0..<layers).map { $0 < row.firstEpochGradientNorms.count ? cell(row.firstEpochGradientNorms[$0]) : "" }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
func csvField(_ text: String) -> String {
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
    return "\"" + text.replacing("\"", with: "\"\"") + "\""
}

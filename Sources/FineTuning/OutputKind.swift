import Linalg

/// The output layer of a network and its loss.
public enum OutputKind: String, Sendable, Codable, CaseIterable {
    /// Softmax over the outputs with cross-entropy against one-hot targets (one class per
    /// sample). The loss is computed from the logits through log-sum-exp,
    /// `loss = logsumexp(z) - sum_c t_c z_c` (for targets summing to 1), never as `log(softmax)`.
    case softmax
    /// An independent logistic unit per output with binary cross-entropy against 0/1 targets
    /// (multi-label), in the stable form `max(z, 0) - z t + log(1 + e^-|z|)`.
    case sigmoid

    /// The name used on the command line and in files.
    public var name: String { rawValue }
}

/// Sums over a block of output rows: the loss and the number of errors.
///
/// Errors are misclassified rows for softmax (argmax of the logits differs from argmax of the
/// targets) and wrong bits for sigmoid (`z >= 0` differs from `t >= 0.5`), so the error rate
/// divides by rows or by rows x outputs respectively (see `OutputKind.errorDenominator`).
struct OutputStatistics {
    var lossSum: Double = 0
    var errors: Int = 0
}

/// What the output pass writes over the logits.
enum OutputWrite {
    /// The loss gradient with respect to the logits, `p - t` (not divided by the batch size).
    case delta
    /// The output probabilities.
    case probabilities
    /// Nothing: the logits stay.
    case none
}

extension OutputKind {
    /// The number of error opportunities in `rows` samples of `outputs` outputs.
    func errorDenominator(rows: Int, outputs: Int) -> Int {
        self == .softmax ? rows : rows * outputs
    }

    /// One pass over the logits `z` (rows x columns): the summed loss and errors against
    /// `targets` (if given), and optionally overwrites `z` with the delta or the probabilities.
    func outputPass(_ z: UnsafeMutablePointer<Float>, targets: UnsafePointer<Float>?,
                    rows: Int, columns: Int, write: OutputWrite) -> OutputStatistics {
        switch self {
        case .softmax: softmaxPass(z, targets: targets, rows: rows, columns: columns, write: write)
        case .sigmoid: sigmoidPass(z, targets: targets, rows: rows, columns: columns, write: write)
        }
    }

    private func softmaxPass(_ z: UnsafeMutablePointer<Float>, targets: UnsafePointer<Float>?,
                             rows: Int, columns: Int, write: OutputWrite) -> OutputStatistics {
        var stats = OutputStatistics()
        for r in 0..<rows {
            let row = z + r * columns
            var m = -Float.infinity
            var predicted = 0
            for c in 0..<columns where row[c] > m { m = row[c]; predicted = c }
            if !m.isFinite { m = m.isNaN ? 0 : (m > 0 ? Float.greatestFiniteMagnitude : 0) }
            var sum: Float = 0
            for c in 0..<columns { sum += fastExp(row[c] - m) }
            // log-sum-exp of the row, in double precision for the loss.
            let lse = Double(m) + Libm.log(Double(sum))
            if let targets {
                let t = targets + r * columns
                var loss = 0.0
                var label = 0
                var best = -Float.infinity
                for c in 0..<columns {
                    if t[c] != 0 { loss += Double(t[c]) * (lse - Double(row[c])) }
                    if t[c] > best { best = t[c]; label = c }
                }
                stats.lossSum += loss
                if label != predicted { stats.errors += 1 }
            }
            let inverse = 1 / sum
            switch write {
            case .delta:
                let t = targets!
                for c in 0..<columns { row[c] = fastExp(row[c] - m) * inverse - t[r * columns + c] }
            case .probabilities:
                for c in 0..<columns { row[c] = fastExp(row[c] - m) * inverse }
            case .none: break
            }
        }
        return stats
    }

    private func sigmoidPass(_ z: UnsafeMutablePointer<Float>, targets: UnsafePointer<Float>?,
                             rows: Int, columns: Int, write: OutputWrite) -> OutputStatistics {
        var stats = OutputStatistics()
        let count = rows * columns
        if let targets {
            var loss = 0.0
            for i in 0..<count {
                let x = Double(z[i]), t = Double(targets[i])
                // max(z, 0) - z t + log(1 + e^-|z|): never overflows.
                loss += max(x, 0) - x * t + Libm.log1p(Libm.exp(-abs(x)))
                if (z[i] >= 0) != (targets[i] >= 0.5) { stats.errors += 1 }
            }
            stats.lossSum = loss
        }
        switch write {
        case .delta:
            let t = targets!
            for i in 0..<count { z[i] = Linalg.sigmoid(z[i]) - t[i] }
        case .probabilities:
            for i in 0..<count { z[i] = Linalg.sigmoid(z[i]) }
        case .none: break
        }
        return stats
    }
}

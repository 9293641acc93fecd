import Linalg

/// Inputs with their targets, one sample per row.
///
/// For a softmax network `targets` holds one-hot rows (or class distributions); for a sigmoid
/// network it holds independent 0/1 targets (multi-label).
public struct LabeledData: Sendable, Equatable {
    /// Inputs, shape (samples x features).
    public var inputs: Matrix
    /// Targets, shape (samples x outputs).
    public var targets: Matrix

    /// Inputs (samples x features) with their targets (samples x outputs).
    public init(inputs: Matrix, targets: Matrix) throws {
        guard inputs.rows == targets.rows else {
            throw FineTuningError.invalidData("\(inputs.rows) input rows but \(targets.rows) target rows")
        }
        self.inputs = inputs
        self.targets = targets
    }

    /// Inputs (samples x features) with class labels in `0..<classCount`, stored as one-hot rows.
    public init(inputs: Matrix, labels: [Int], classCount: Int) throws {
        guard inputs.rows == labels.count else {
            throw FineTuningError.invalidData("\(inputs.rows) input rows but \(labels.count) labels")
        }
        var targets = Matrix(rows: labels.count, columns: classCount)
        for (row, label) in labels.enumerated() {
            guard label >= 0 && label < classCount else {
                throw FineTuningError.invalidData("label \(label) of sample \(row) is outside 0..<\(classCount)")
            }
            targets[row, label] = 1
        }
        self.inputs = inputs
        self.targets = targets
    }

    /// Number of samples.
    public var count: Int { inputs.rows }

    /// The samples at `indices`, in that order.
    public func rows(at indices: some Collection<Int>) -> LabeledData {
        // Shapes agree by construction, so this cannot fail.
        try! LabeledData(inputs: inputs.rows(at: indices), targets: targets.rows(at: indices))
    }

    /// The class of each sample: the index of the largest target of its row.
    public var labels: [Int] {
        (0..<targets.rows).map { r in argmax(targets.elements, offset: r * targets.columns, count: targets.columns) }
    }
}

/// The index of the largest of `count` values starting at `offset` (the first one on ties).
@inline(__always)
func argmax(_ values: [Float], offset: Int, count: Int) -> Int {
    var best = 0
    var bestValue = -Float.infinity
    for c in 0..<count where values[offset + c] > bestValue {
        bestValue = values[offset + c]
        best = c
    }
    return best
}

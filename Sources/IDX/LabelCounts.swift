/// How many labels of each class there are: `counts[c]` = number of `c` in `labels`.
/// - Precondition: every label in 0..<classCount.
public func labelCounts(_ labels: [Int], classCount: Int) -> [Int] {
    var counts = [Int](repeating: 0, count: classCount)
    for label in labels {
        precondition(label >= 0 && label < classCount, "labelCounts: label \(label) outside 0..<\(classCount)")
        counts[label] += 1
    }
    return counts
}

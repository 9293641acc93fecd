import Foundation
import Linalg

// Warnings (not errors) about data that loads but looks wrong: labels that are not class indices
// (all 200, or thousands of classes), classes missing inside the range, one class holding nearly
// everything, images that are constant or nearly all at their maximum. Each problem of a file is
// one line.

/// A class holding more than this fraction of the labels is suspicious.
let dominantClassFraction = 0.9
/// More labels than this many classes is suspicious.
let manyClasses = 1000
/// More than this fraction of the values at the maximum: saturated images.
let saturatedFraction = 0.9

/// What looks wrong with `labels` of `classCount` classes (labels in 0..<classCount), as one
/// line naming `what` (e.g. "training labels"), or nil when nothing does.
public func labelWarning(_ labels: [Int], classCount: Int, what: String) -> String? {
    guard !labels.isEmpty, classCount > 0 else { return nil }
    let counts = labelCounts(labels, classCount: classCount)
    var problems: [String] = []
    if classCount > manyClasses {
        problems.append("\(classCount) classes (largest label \(classCount - 1)), more than \(manyClasses)")
    }
    let empty = counts.indices.filter { counts[$0] == 0 }
    if !empty.isEmpty {
        let shown = empty.count <= 4 ? empty.map(String.init).joined(separator: ", ")
            : "\(empty[0]), \(empty[1]), ..., \(empty[empty.count - 1])"
        problems.append("\(empty.count) of the \(classCount) classes have none (\(shown))")
    }
    if let top = counts.indices.max(by: { counts[$0] < counts[$1] }), classCount > 1,
       Double(counts[top]) > dominantClassFraction * Double(labels.count) {
        problems.append("class \(top) holds \(percentText(counts[top], labels.count)) of them")
    }
    guard !problems.isEmpty else { return nil }
    return "\(what) look wrong: \(problems.joined(separator: "; "))"
}

/// What looks wrong with `images` (one image per row), as one line naming `what`, or nil.
public func imageWarning(_ images: Matrix, what: String) -> String? {
    guard images.count > 0 else { return nil }
    var low = Float.infinity, high = -Float.infinity
    var constantImages = 0
    images.elements.withUnsafeBufferPointer { values in
        for r in 0..<images.rows {
            var rowLow = Float.infinity, rowHigh = -Float.infinity
            for v in values[(r * images.columns)..<((r + 1) * images.columns)] {
                rowLow = min(rowLow, v)
                rowHigh = max(rowHigh, v)
            }
            if rowLow == rowHigh { constantImages += 1 }
            low = min(low, rowLow)
            high = max(high, rowHigh)
        }
    }
    if low == high { return "\(what) look wrong: every pixel of every image is \(high)" }
    var problems: [String] = []
    if Double(constantImages) > 0.5 * Double(images.rows) {
        problems.append("\(constantImages) of \(images.rows) images are constant (one value in every pixel)")
    }
    let atMaximum = images.elements.withUnsafeBufferPointer { $0.reduce(0) { $0 + ($1 == high ? 1 : 0) } }
    if Double(atMaximum) > saturatedFraction * Double(images.count) {
        problems.append("\(percentText(atMaximum, images.count)) of the pixel values are at the maximum \(high) (saturated)")
    }
    guard !problems.isEmpty else { return nil }
    return "\(what) look wrong: \(problems.joined(separator: "; "))"
}

private func percentText(_ part: Int, _ whole: Int) -> String {
    String(format: "%.1f%%", 100 * Double(part) / Double(whole))
}

extension DataSet {
    /// One line per file that looks wrong (see `labelWarning`, `imageWarning`).
    public var plausibilityWarnings: [String] {
        [labelWarning(trainLabels, classCount: classCount, what: "training labels"),
         labelWarning(testLabels, classCount: classCount, what: "test labels"),
         imageWarning(trainImages, what: "training images")].compactMap { $0 }
    }
}

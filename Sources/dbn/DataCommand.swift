import ArgumentParser
import DeepBelief
import Foundation

/// `dbn data`: the files found, their shapes and types, and the label histograms.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Describe a folder of IDX files: files found, shapes, types, label histograms.")

    @OptionGroup var dataOptions: DataOptions
    @Flag(help: "Print one JSON object with the results as the last line of stdout.")
    var json = false

    struct FileSummary: Encodable {
        let role: String, path: String, type: String, shape: [Int], gzipped: Bool
    }
    struct Summary: Encodable {
        let files: [FileSummary]
        let imageShape: [Int]
        let classCount: Int
        let trainCount: Int
        let testCount: Int
        let trainLabelCounts: [Int]
        let testLabelCounts: [Int]
        let pixelMean: Double
        let loadSeconds: Double
    }

    func run() throws {
        let start = Date()
        let set = try dataOptions.load()
        let seconds = Date().timeIntervalSince(start)
        let trainCounts = labelCounts(set.trainLabels, classCount: set.classCount)
        let testCounts = labelCounts(set.testLabels, classCount: set.classCount)
        let mean = set.trainImages.elements.reduce(0.0) { $0 + Double($1) } / Double(max(1, set.trainImages.count))
        let console = Console(quiet: false, json: json)
        if !json {
            print("Data: \(set.trainImages.rows) training and \(set.testImages.rows) test images of \(set.imageShape.map(String.init).joined(separator: "x")), \(set.classCount) classes (loaded in \(String(format: "%.2f", seconds)) s)")
            for file in set.files { print("  \(file)") }
            print("")
            print("class | train | test")
            print("----- | ----- | ----")
            for c in 0..<set.classCount { print(String(format: "%5d | %5d | %4d", c, trainCounts[c], testCounts[c])) }
            print(String(format: "mean training pixel value: %.4f", mean))
        }
        try console.emitJSON(Summary(
            files: set.files.map { FileSummary(role: $0.role.rawValue, path: $0.path, type: $0.dataType.name, shape: $0.shape, gzipped: $0.gzipped) },
            imageShape: set.imageShape, classCount: set.classCount,
            trainCount: set.trainImages.rows, testCount: set.testImages.rows,
            trainLabelCounts: trainCounts, testLabelCounts: testCounts, pixelMean: mean, loadSeconds: seconds))
    }
}

// The DeepBelief library on data that is not IDX: rows of Floats read by the caller, here from
// a CSV file (label, then the features scaled to [0, 1]). Without an argument it writes a small
// CSV of noisy 4x4 bar patterns to the temporary folder first.
// Run: swift run csv-example [file.csv]
import DeepBelief
import Foundation

/// Reads "label,x1,x2,..." lines into labels and feature rows.
func readCSV(_ path: String) throws -> (labels: [Int], rows: [[Float]]) {
    var labels: [Int] = [], rows: [[Float]] = []
    for (number, line) in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").enumerated() {
        let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let label = fields.first.flatMap({ Int($0) }), fields.count > 1,
              case let values = fields.dropFirst().compactMap(Float.init), values.count == fields.count - 1 else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: path, "line": number + 1])
        }
        labels.append(label)
        rows.append(values)
    }
    return (labels, rows)
}

/// A CSV of 600 noisy 4x4 images: class 0 a horizontal bar, 1 a vertical bar, 2 a diagonal.
func writeExampleCSV(to path: String) throws {
    var generator = Xoshiro256StarStar(seed: 7)
    var lines: [String] = []
    for i in 0..<600 {
        let label = i % 3, row = Int(generator.next() % 4)
        let pixels = (0..<16).map { p -> Float in
            let on = label == 0 ? p / 4 == row : label == 1 ? p % 4 == row : p / 4 == p % 4
            return min(1, max(0, (on ? 0.9 : 0.1) + 0.2 * (generator.nextFloat() - 0.5)))
        }
        lines.append("\(label)," + pixels.map { String(format: "%.3f", $0) }.joined(separator: ","))
    }
    try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
}

var path = CommandLine.arguments.dropFirst().first
if path == nil {
    let made = FileManager.default.temporaryDirectory.appendingPathComponent("csv-example-\(getpid()).csv").path
    try writeExampleCSV(to: made)
    path = made
}
defer { if CommandLine.arguments.count < 2, let path { try? FileManager.default.removeItem(atPath: path) } }
let (labels, rows) = try readCSV(path!)

// [[Float]] to the library: a Matrix with one sample per row; hold out the last fifth.
let all = Matrix(rows)
let held = rows.count / 5, kept = rows.count - held
let classes = (labels.max() ?? 0) + 1
let training = try LabeledData(inputs: all.rows(in: 0..<kept), labels: Array(labels[0..<kept]), classCount: classes)
let test = try LabeledData(inputs: all.rows(in: kept..<rows.count), labels: Array(labels[kept...]), classCount: classes)
let source = CommandLine.arguments.count > 1 ? path! : "the generated CSV"
print("\(rows.count) rows of \(all.columns) features from \(source), \(classes) classes; \(held) held out")

// Pre-train one RBM of 8 hidden units, then fine-tune 16-8-3.
var generator = Xoshiro256StarStar(seed: 1)
var stack = DeepBeliefNetwork(layerSizes: [all.columns, 8], generator: &generator)
try stack.pretrain(on: training.inputs, configuration: RBMTrainingConfiguration(epochs: 20, batchSize: 20, learningRate: 0.1, seed: 1),
                   generator: &generator)
let network = try Network(pretrained: stack, outputCount: classes, generator: &generator)
let result = try Trainer(configuration: TrainingConfiguration(epochs: 20, batchSize: 20, learningRate: 0.5, momentum: 0.9, seed: 1))
    .train(network, data: training, test: test, generator: &generator)
print(String(format: "held-out error after fine-tuning: %.2f%%", 100 * (result.reports.last!.testError ?? .nan)))

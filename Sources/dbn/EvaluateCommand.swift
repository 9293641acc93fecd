import ArgumentParser
import DeepBelief
import Foundation

/// `dbn evaluate`: test error and confusion matrix of saved networks, and of their ensemble.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Test error and confusion matrix of saved networks (and of their ensemble).",
        discussion: """
            Give --model once per network file. With several, the ensemble averages the models' \
            class probabilities. The test error is the fraction of test images whose most probable \
            class is not their label; the confusion matrix counts (true class, predicted class).
            """)

    @Option(name: .customLong("model"), help: "A network file (.safetensors); repeat for an ensemble.")
    var models: [String] = []

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var options: InspectionOptions

    struct ModelReport: Encodable {
        let path: String
        let testError: Double
        let errors: Int
        let loss: Double
        let confusionMatrix: [[Int]]
    }

    struct Report: Encodable {
        let models: [ModelReport]
        /// The ensemble's test error when there are several models, else the model's.
        let testError: Double
        let ensembleTestError: Double?
        let confusionMatrix: [[Int]]
        let testCount: Int
        let classCount: Int
        let seconds: Double
    }

    func validate() throws {
        if models.isEmpty { throw ValidationError("give at least one --model file") }
    }

    func run() throws {
        let console = options.start()
        let start = Date()
        let test = try dataOptions.loadTestSplit()
        var reports: [ModelReport] = []
        var probabilitySum: [Double] = []
        var outputs = 0
        for path in models {
            let network = try LoadedModel.read(path).network()
            try ModelArchive.requireFits(file: path, inputs: network.inputCount, outputs: network.outputCount,
                                         pixels: test.images.columns, classes: test.classCount)
            if outputs == 0 { outputs = network.outputCount }
            guard network.outputCount == outputs else {
                throw CLIError("\(path): the model has \(network.outputCount) outputs but \(models[0]) has \(outputs); an ensemble needs models with the same outputs")
            }
            let logits = network.predict(test.images)  // (n, outputs)
            let predictions = Self.argmaxRows(logits.elements, columns: outputs)
            let probabilities = Self.probabilities(logits: logits, output: network.output)
            let matrix = Self.confusionMatrix(labels: test.labels, predictions: predictions, classCount: outputs)
            let errors = zip(test.labels, predictions).filter { $0 != $1 }.count
            reports.append(ModelReport(path: path, testError: Double(errors) / Double(test.labels.count), errors: errors,
                                       loss: Self.loss(logits: logits, labels: test.labels, output: network.output),
                                       confusionMatrix: matrix))
            if probabilitySum.isEmpty {
                probabilitySum = probabilities
            } else {
                for i in probabilitySum.indices { probabilitySum[i] += probabilities[i] }
            }
            say(reports.last!, console: console, testCount: test.labels.count)
        }

        var ensembleError: Double?
        var matrix = reports[0].confusionMatrix
        if models.count > 1 {
            let predictions = Self.argmaxRows(probabilitySum, columns: outputs)
            matrix = Self.confusionMatrix(labels: test.labels, predictions: predictions, classCount: outputs)
            let errors = zip(test.labels, predictions).filter { $0 != $1 }.count
            ensembleError = Double(errors) / Double(test.labels.count)
            console.say("ensemble of \(models.count) models (averaged class probabilities): test error \(TextLayout.percent(ensembleError!)) (\(errors) of \(test.labels.count) test images)")
            for line in Self.render(matrix) { console.say(line) }
        }
        try console.emitJSON(Report(
            models: reports, testError: ensembleError ?? reports[0].testError, ensembleTestError: ensembleError,
            confusionMatrix: matrix, testCount: test.labels.count, classCount: outputs,
            seconds: Date().timeIntervalSince(start)))
    }

    private func say(_ report: ModelReport, console: Console, testCount: Int) {
        console.say("\(report.path): test error \(TextLayout.percent(report.testError)) (\(report.errors) of \(testCount) test images), loss \(String(format: "%.4f", report.loss))")
        for line in Self.render(report.confusionMatrix) { console.say(line) }
        console.say("")
    }

    // MARK: Computations (samples are rows)

    /// The index of the largest value of each row of a row-major (n, columns) array (the first
    /// one on ties, as `Network.classify`).
    static func argmaxRows<T: Comparable>(_ values: [T], columns: Int) -> [Int] {
        stride(from: 0, to: values.count, by: columns).map { offset in
            var best = 0
            for c in 1..<columns where values[offset + c] > values[offset + best] { best = c }
            return best
        }
    }

    /// The output probabilities from the logits (n, k), in double precision: softmax rows, or
    /// one sigmoid per output.
    static func probabilities(logits: Matrix, output: OutputKind) -> [Double] {
        let k = logits.columns
        var p = logits.elements.map(Double.init)
        switch output {
        case .softmax:
            for offset in stride(from: 0, to: p.count, by: k) {
                let m = p[offset..<offset + k].max()!
                var sum = 0.0
                for c in 0..<k { p[offset + c] = exp(p[offset + c] - m); sum += p[offset + c] }
                for c in 0..<k { p[offset + c] /= sum }
            }
        case .sigmoid:
            for i in p.indices { p[i] = 1 / (1 + exp(-p[i])) }
        }
        return p
    }

    /// The mean loss per test image against one-hot labels, as `Network.evaluate` defines it:
    /// cross-entropy log-sum-exp(z) - z_label (softmax), or binary cross-entropy summed over
    /// the outputs (sigmoid).
    static func loss(logits: Matrix, labels: [Int], output: OutputKind) -> Double {
        let k = logits.columns
        var total = 0.0
        for (r, label) in labels.enumerated() {
            let z = (0..<k).map { Double(logits[r, $0]) }
            switch output {
            case .softmax:
                let m = z.max()!
                total += m + log(z.reduce(0) { $0 + exp($1 - m) }) - z[label]
            case .sigmoid:
                for c in 0..<k {
                    let t: Double = c == label ? 1 : 0
                    total += max(z[c], 0) - z[c] * t + log1p(exp(-abs(z[c])))
                }
            }
        }
        return total / Double(max(labels.count, 1))
    }

    /// counts[true class][predicted class].
    static func confusionMatrix(labels: [Int], predictions: [Int], classCount: Int) -> [[Int]] {
        var counts = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        for (label, predicted) in zip(labels, predictions) { counts[label][predicted] += 1 }
        return counts
    }

    /// The confusion matrix as aligned text: one row per true class, one column per prediction.
    static func render(_ matrix: [[Int]]) -> [String] {
        let width = max(4, (matrix.joined().max() ?? 0).description.count + 1)
        func cell(_ text: String) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var lines = ["confusion matrix (rows: true class, columns: predicted class)"]
        lines.append("true\\pred" + matrix.indices.map { cell(String($0)) }.joined())
        for (c, row) in matrix.enumerated() {
            lines.append(String(c).padding(toLength: 9, withPad: " ", startingAt: 0) + row.map { cell(String($0)) }.joined())
        }
        return lines
    }
}

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
            class is not their label; the confusion matrix counts (true class, predicted class). \
            A generative DBN (from dbn generative) classifies after the up pass by the free energy \
            of each label in its top RBM (--classify free-energy, exact), or by letting the labels \
            settle (--classify gibbs: --gibbs-steps Gibbs steps with the units below the labels \
            clamped, the label of highest mean probability); no loss, not in ensembles.
            """)

    @Option(name: .customLong("model"), help: "A network file (.safetensors); repeat for an ensemble.")
    var models: [String] = []

    @Option(help: "How a generative DBN reads the label: free-energy (exact) or gibbs (labels left to settle).")
    var classify: LabelRuleChoice = .freeEnergy

    @Option(help: "Gibbs steps of --classify gibbs.")
    var gibbsSteps = 10

    @Option(help: "Seed of the Gibbs chains of --classify gibbs.")
    var seed: UInt64 = 1

    @OptionGroup var dataOptions: TestDataOptions
    @OptionGroup var options: OutputOptions

    struct ModelReport: Encodable {
        let path: String
        let testError: Double
        let errors: Int
        /// The cross-entropy; nil for a generative DBN.
        let loss: Double?
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
        if !(1...100_000).contains(gibbsSteps) {
            throw ValidationError("--gibbs-steps must be between 1 and 100000, got \(gibbsSteps)")
        }
    }

    func run() throws {
        let console = options.start()
        let start = Date()
        let test = try dataOptions.loadTestSplit()
        var reports: [ModelReport] = []
        var networks: [Network] = []
        for path in models {
            let loaded = try LoadedModel.read(path)
            if loaded.kind == .rbmStack && loaded.file.metadata[ModelArchive.Key.labelCount] != nil {
                guard models.count == 1 else {
                    throw CLIError("\(path): a generative DBN cannot join an ensemble; evaluate it alone")
                }
                let dbn = try ModelArchive.generative(from: loaded.file)
                try ModelArchive.requireFits(file: path, inputs: dbn.inputCount, outputs: dbn.labelCount,
                                             pixels: test.images.columns, classes: test.classCount)
                let report = dbn.classificationReport(images: test.images, labels: test.labels,
                                                      rule: classify.rule(steps: gibbsSteps, seed: seed))
                let modelReport = ModelReport(path: path, testError: report.errorRate, errors: report.errors, loss: nil,
                                              confusionMatrix: report.confusionMatrix)
                say(modelReport, console: console, testCount: test.labels.count)
                try console.emitJSON(Report(
                    models: [modelReport], testError: report.errorRate, ensembleTestError: nil,
                    confusionMatrix: report.confusionMatrix, testCount: test.labels.count, classCount: dbn.labelCount,
                    seconds: Date().timeIntervalSince(start)))
                return
            }
            let network = try loaded.network()
            try ModelArchive.requireFits(file: path, inputs: network.inputCount, outputs: network.outputCount,
                                         pixels: test.images.columns, classes: test.classCount)
            if let first = networks.first, network.outputCount != first.outputCount {
                throw CLIError("\(path): the model has \(network.outputCount) outputs but \(models[0]) has \(first.outputCount); an ensemble needs models with the same outputs")
            }
            networks.append(network)
            let report = network.classificationReport(images: test.images, labels: test.labels)
            let labeled = try LabeledData(inputs: test.images, labels: test.labels, classCount: network.outputCount)
            let loss = network.evaluate(labeled).loss
            try Safeguards.requireFinite([("test loss", loss)], file: path,
                                         source: "the forward pass through layers.0.weight .. layers.\(network.layers.count - 1).weight")
            reports.append(ModelReport(path: path, testError: report.errorRate, errors: report.errors,
                                       loss: loss, confusionMatrix: report.confusionMatrix))
            say(reports.last!, console: console, testCount: test.labels.count)
        }
        let outputs = networks[0].outputCount

        var ensembleError: Double?
        var matrix = reports[0].confusionMatrix
        if models.count > 1 {
            let report = Ensemble(networks).classificationReport(images: test.images, labels: test.labels)
            matrix = report.confusionMatrix
            ensembleError = report.errorRate
            console.say("ensemble of \(models.count) models (averaged class probabilities): test error \(TextLayout.percent(report.errorRate)) (\(report.errors) of \(test.labels.count) test images)")
            for line in Self.render(matrix) { console.say(line) }
        }
        try console.emitJSON(Report(
            models: reports, testError: ensembleError ?? reports[0].testError, ensembleTestError: ensembleError,
            confusionMatrix: matrix, testCount: test.labels.count, classCount: outputs,
            seconds: Date().timeIntervalSince(start)))
    }

    private func say(_ report: ModelReport, console: Console, testCount: Int) {
        let rule = classify == .freeEnergy ? "free energy" : "\(gibbsSteps) Gibbs steps (seed \(seed))"
        let loss = report.loss.map { "loss \(String(format: "%.4f", $0))" } ?? "generative DBN, labels by \(rule)"
        console.say("\(report.path): test error \(TextLayout.percent(report.testError)) (\(report.errors) of \(testCount) test images), \(loss)")
        for line in Self.render(report.confusionMatrix) { console.say(line) }
        console.say("")
    }

    // MARK: Printing

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

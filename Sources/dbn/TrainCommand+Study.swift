import ArgumentParser
import DeepBelief
import Foundation

// `dbn train`'s model file, and its study mode (`--seeds`, `--learning-rates`, `--budget`: the
// main network and the baseline as two arms of a `Comparison`).

extension TrainCommand {
    /// Writes `--output`: the fine-tuned network, the stack it came from (if pre-trained) and
    /// the settings, seed and provenance in the metadata.
    func writeModel(_ network: Network, stack: DeepBeliefNetwork?, start: String, imageShape: [Int], seed: UInt64,
                    fineTuning: TrainingConfiguration, pretraining: RBMTrainingConfiguration, provenance: Provenance) throws {
        var metadata = [ModelArchive.Key.initialization: start,
                        ModelArchive.Key.inputShape: ModelArchive.json(imageShape),
                        ModelArchive.Key.seed: String(seed),
                        ModelArchive.Key.fineTuning: ModelArchive.json(fineTuning)].merging(provenance.forModelFile.metadata) { $1 }
        if stack != nil { metadata[ModelArchive.Key.pretraining] = ModelArchive.json(pretraining) }
        try ModelArchive.archive(network: network, stack: stack, metadata: metadata).write(to: output)
    }

    /// train's fields of the JSON with `--seeds` (beside `ComparisonOutput.Summary`'s).
    struct StudySetup: Encodable {
        /// The main arm's mean test error over the seeds.
        let testError: Double?
        let layerSizes: [Int]
        let model: String
    }

    /// The main network and the baseline as the two arms of a `Comparison`: every arm once per
    /// seed (the stack pre-trained once per seed), each at its own rate (or the rate it chose
    /// from the grid), the tables, the paired tests and the model of the first seed.
    func runStudy() throws {
        try common.checkDestinations(output: output, inputs: dataOptions.inputPaths)
        let console = common.start()
        let start = try parseInitializer(initialization)
        let activation = activationOption.activation
        let configuration = try fineTuning.configuration(seed: common.seed)
        let data = try dataOptions.load()
        let hidden = try pretraining.hiddenSizes()
        let sizes = [data.pixelCount] + hidden + [data.classCount]
        let training = try data.labeledTraining()
        let test = try data.labeledTest()
        let seeds = try study.seedList(default: common.seed)
        let grid = try study.rateGrid()
        console.say("Data: \(data.trainImages.rows) training and \(data.testImages.rows) test images of \(data.imageShape.map(String.init).joined(separator: "x")), \(data.classCount) classes")

        let mainName = start.isPretrained ? "dbn" : initialization
        let main = ComparisonStart(name: mainName, initializer: start)
        let other = ComparisonStart(name: baseline, initializer: try parseInitializer(baseline))
        var comparison = Comparison(sizes: sizes, starts: [main, other], activations: [activation, baselineActivation],
                                    configuration: configuration, seeds: seeds, learningRates: grid,
                                    selectionValidationCount: study.selectionCount(trainingCount: training.count),
                                    budget: study.budget)
        comparison.pairs = [(main, activation), (other, baselineActivation)]
        if grid.isEmpty { comparison.armLearningRates = [configuration.learningRate, baselineRate(main: configuration.learningRate)] }
        try comparison.validate(trainingCount: training.count)

        let provenance = try Provenance.ofThisRun(files: data.files, seeds: Dictionary(uniqueKeysWithValues: seeds.map { ("seed \($0)", $0) }))
        let runner = try TrainingOutput(console: console, logPath: common.log, tensorboard: tensorboard, printEvery: common.epochsPerLine)
        runner.record(provenance)
        let rbm = { (seed: UInt64) in pretraining.configuration(batchSize: fineTuning.batch, seed: seed) }
        console.say("Comparing \(mainName)/\(activation.name) with \(baseline)/\(baselineActivation.name) on \(sizes.map(String.init).joined(separator: "-")), \(configuration.epochs) epochs each, seeds \(seeds.map(String.init).joined(separator: ","))"
                    + (grid.count > 1 ? ", rates \(grid.map { "\($0)" }.joined(separator: ",")) chosen on \(comparison.selectionValidationCount) training images held out" : ", rates \(comparison.armLearningRates?.map { "\($0)" }.joined(separator: " and ") ?? "\(grid.first ?? configuration.learningRate)")")
                    + (study.budget == .equalTime ? ", equal time" : ""))

        // The first seed's stack and main network make the model file.
        var stack: DeepBeliefNetwork?
        var model: Network?
        let output = ComparisonOutput(console: console, runner: runner)
        let result = try output.run(comparison, data: training, test: test, pretrain: { _, seed in
            var generator = Xoshiro256StarStar(seed: seed)
            var dbn = DeepBeliefNetwork(layerSizes: Array(sizes.dropLast()), generator: &generator)
            _ = try runner.pretrain(&dbn, on: data.trainImages, configuration: rbm(seed))
            if seed == seeds[0] { stack = dbn }
            return dbn.denseParameters
        }, onTrained: { key, network in
            if key.seed == seeds[0] && key.start == main && key.activation == activation { model = network }
        })
        var closing = ""
        if let model {
            try writeModel(model, stack: start.isPretrained ? stack : nil, start: mainName, imageShape: data.imageShape,
                           seed: seeds[0], fineTuning: configuration, pretraining: rbm(seeds[0]), provenance: provenance)
            closing = ". Model (\(mainName)/\(activation.name), seed \(seeds[0])) written to \(self.output)."
        }
        let mainArm = result.arms.first { $0.name == "\(mainName)/\(activation.name)" }
        try output.finish(result, seeds: seeds, prefix: report, closing: closing,
                          extra: StudySetup(testError: mainArm?.meanTestError, layerSizes: sizes, model: self.output))
        if model == nil {
            throw CLIError("the \(mainName)/\(activation.name) network diverged with seed \(seeds[0]): no model written to \(self.output)")
        }
    }
}

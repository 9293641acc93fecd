import ArgumentParser
import DeepBelief
import Foundation

/// `dbn train`: the main job. Greedy pre-training, fine-tuning, and the same network trained
/// from a simple start beside it, on the same data, seed, epochs and optimiser.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Pre-train a DBN greedily, fine-tune it, and train the same network from a He start beside it.",
        discussion: """
            With no arguments: 784-500-500-2000-10 on the bundled MNIST, 5 CD-1 epochs per layer, \
            then 10 epochs of SGD with momentum (learning rate 0.5, momentum 0.9) for the pre-trained network and for the He-start \
            baseline. --init chooses the start of the main network (dbn = pre-trained).
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var common: RunOptions
    @OptionGroup var pretraining: PretrainingOptions
    @OptionGroup var fineTuning: FineTuningOptions
    @OptionGroup var activationOption: ActivationOption
    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var tensorboard: TensorBoardOptions

    @Option(name: .customLong("init"), help: "Start of the main network: dbn, xavier-normal, xavier-uniform, he-normal, he-uniform, lecun, orthogonal, lsuv, normal:STD, zeros, ...")
    var initialization: String = "dbn"

    @Option(help: "Start of the baseline trained beside it (none to skip).")
    var baseline: String = "he-normal"

    @Option(help: "Activation of the baseline (default: the same as --activation).")
    var baselineActivation: Activation?

    @Option(help: "Where to write the trained model (safetensors).")
    var output: String = "model.safetensors"

    func validate() throws {
        _ = try parseInitializer(initialization)
        if baseline != "none" {
            let start = try parseInitializer(baseline)
            if start.isPretrained { throw ValidationError("--baseline must be a simple start (e.g. he-normal), not \(baseline)") }
        }
    }

    struct RunSummary: Encodable {
        let initialization: String
        let activation: String
        let testError: Double?
        let bestEpoch: Int
        let finalTrainLoss: Double?
        let pretrainingSeconds: Double
        let fineTuningSeconds: Double
        let totalSeconds: Double
        let firstEpochGradientNorms: [Double]
    }
    struct Summary: Encodable {
        let testError: Double?
        let layerSizes: [Int]
        let model: String
        let runs: [RunSummary]
        let baseline: RunSummary?
        let seed: UInt64
    }

    func run() throws {
        try common.checkDestinations(output: output, inputs: dataOptions.inputPaths)
        let console = common.start()
        let start = try parseInitializer(initialization)
        let activation = activationOption.activation
        let fineTuneConfiguration = try fineTuning.configuration(seed: common.seed)
        let data = try dataOptions.load()
        let hidden = try pretraining.hiddenSizes()
        let sizes = [data.pixelCount] + hidden + [data.classCount]
        let training = try data.labeledTraining()
        let test = try data.labeledTest()
        let calibration = data.trainImages.rows(in: 0..<min(1000, data.trainImages.rows))  // LSUV's batch
        let rbmConfiguration = pretraining.configuration(batchSize: fineTuning.batch, seed: common.seed)
        console.say("Data: \(data.trainImages.rows) training and \(data.testImages.rows) test images of \(data.imageShape.map(String.init).joined(separator: "x")), \(data.classCount) classes")

        let fingerprint = ModelArchive.json([
            "command": "train", "sizes": "\(sizes)", "init": initialization, "baseline": baseline,
            "activation": activation.name, "baseline_activation": (baselineActivation ?? activation).name,
            "pretrain": ModelArchive.json(rbmConfiguration),
            "finetune": ModelArchive.json(fineTuneConfiguration), "train_count": "\(data.trainImages.rows)"])
        let runner = try TrainingOutput(console: console, logPath: common.log, tensorboard: tensorboard, checkpoints: checkpoints,
                                       fingerprint: fingerprint, printEvery: common.printEvery)
        let provenance = try Provenance.ofThisRun(files: data.files, seeds: [
            "seed": common.seed, "pretraining": common.seed, "initialization": common.seed &+ 1, "fine_tuning": common.seed])
        runner.record(provenance)
        let finetuneImages = fineTuneConfiguration.epochs * (training.count - fineTuneConfiguration.validationCount)
        runner.plannedImages = (start.isPretrained ? [rbmConfiguration.epochs * hidden.count * data.trainImages.rows] : [])
            + [finetuneImages] + (baseline == "none" ? [] : [finetuneImages])

        // Phase 1: greedy pre-training (only for the pre-trained start).
        var stack: DeepBeliefNetwork?
        var pretrainSeconds = 0.0
        if start.isPretrained {
            var generator = Xoshiro256StarStar(seed: common.seed)
            var dbn = DeepBeliefNetwork(layerSizes: Array(sizes.dropLast()), generator: &generator)
            pretrainSeconds = try runner.pretrain(&dbn, on: data.trainImages,
                                                  configuration: rbmConfiguration)
            stack = dbn
        }

        // Phase 2: fine-tuning of the main network.
        var initGenerator = Xoshiro256StarStar(seed: common.seed &+ 1)
        let network: Network
        if let stack {
            network = try Network(pretrained: stack, outputCount: data.classCount, hiddenActivation: activation,
                                  generator: &initGenerator)
        } else {
            network = try Network(sizes: sizes, hiddenActivation: activation, initializer: start,
                                  calibrationData: calibration,
                                  generator: &initGenerator)
        }
        let mainName = start.isPretrained ? "dbn" : initialization
        let main = try runner.finetune(network, data: training, test: test, configuration: fineTuneConfiguration,
                                       name: "finetune", title: "Fine-tuning (\(mainName) start)")

        // Phase 3: the baseline, on equal terms.
        var baselineRun: (result: TrainingResult, seconds: Double, activation: Activation)?
        if baseline != "none" {
            let baselineStart = try parseInitializer(baseline)
            let baselineAct = baselineActivation ?? activation
            var generator = Xoshiro256StarStar(seed: common.seed &+ 1)
            let baselineNetwork = try Network(sizes: sizes, hiddenActivation: baselineAct, initializer: baselineStart,
                                              calibrationData: calibration,
                                              generator: &generator)
            let r = try runner.finetune(baselineNetwork, data: training, test: test, configuration: fineTuneConfiguration,
                                        name: "baseline", title: "Baseline (\(baseline) start)")
            baselineRun = (r.result, r.seconds, baselineAct)
        }

        // The model file: the fine-tuned network with the stack it came from.
        var metadata = [ModelArchive.Key.initialization: mainName,
                        ModelArchive.Key.inputShape: ModelArchive.json(data.imageShape),
                        ModelArchive.Key.seed: String(common.seed),
                        ModelArchive.Key.fineTuning: ModelArchive.json(fineTuneConfiguration)].merging(provenance.forModelFile.metadata) { $1 }
        if stack != nil {
            metadata[ModelArchive.Key.pretraining] = ModelArchive.json(rbmConfiguration)
        }
        try ModelArchive.archive(network: main.result.network, stack: stack, metadata: metadata).write(to: output)

        func summary(_ name: String, _ activation: Activation, _ r: TrainingResult, _ seconds: Double, pretrain: Double) -> RunSummary {
            let best = r.reports.first { $0.epoch == r.bestEpoch } ?? r.reports.last
            return RunSummary(initialization: name, activation: activation.name, testError: best?.testError,
                              bestEpoch: r.bestEpoch, finalTrainLoss: r.reports.last?.trainLoss,
                              pretrainingSeconds: pretrain, fineTuningSeconds: seconds, totalSeconds: pretrain + seconds,
                              firstEpochGradientNorms: r.reports.first?.layers.map(\.gradientNorm) ?? [])
        }
        let mainSummary = summary(mainName, activation, main.result, main.seconds, pretrain: pretrainSeconds)
        let baselineSummary = baselineRun.map { summary(baseline, $0.activation, $0.result, $0.seconds, pretrain: 0) }
        let rows = [mainSummary] + (baselineSummary.map { [$0] } ?? [])

        console.say("")
        console.say("| start | activation | test error | best epoch | pre-training | fine-tuning | total |")
        console.say("|---|---|---:|---:|---:|---:|---:|")
        for row in rows {
            console.say("| \(row.initialization) | \(row.activation) | \(percent(row.testError)) | \(row.bestEpoch) | \(secondsText(row.pretrainingSeconds)) | \(secondsText(row.fineTuningSeconds)) | \(secondsText(row.totalSeconds)) |")
        }
        console.say("")
        console.say("Test error: \(percent(mainSummary.testError)) (\(mainName) start). Model written to \(output)")
        try console.emitJSON(WithProvenance(value: Summary(testError: mainSummary.testError, layerSizes: sizes, model: output,
                                                           runs: rows, baseline: baselineSummary, seed: common.seed),
                                            provenance: provenance))
    }
}

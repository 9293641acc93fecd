import ArgumentParser
import DeepBelief
import Foundation

/// `dbn train`: the main job. Greedy pre-training, fine-tuning, and the same network trained
/// from a simple start beside it, on the same data, seed, epochs and optimiser.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Pre-train a DBN greedily, fine-tune it, and train the same network from a He + ReLU start beside it.",
        discussion: """
            With no arguments: 784-500-500-2000-10 on the bundled MNIST, 5 CD-1 epochs per layer, \
            then 10 epochs of SGD with momentum 0.9 for the pre-trained sigmoid network (learning rate 0.5) and, \
            beside it, the He-normal start with ReLU units (what the lecture recommends instead) at the rate that \
            suits ReLU (0.1): each arm at its own step size. The closing line says which won and whether the \
            difference is distinguishable (McNemar's exact test on the test predictions). --init chooses the \
            start of the main network (dbn = pre-trained). With --seeds 1,2,3 (and --learning-rates, \
            --selection-validation, --budget) the two arms run as in dbn compare: every arm once per seed, \
            the stack pre-trained once per seed, mean, sd and 95% interval per arm, the paired bootstrap over \
            test images and seeds; the model file holds the first seed's main network. Those runs draw \
            their starts and minibatch order as dbn compare does (a generator per seed, split in two), so the \
            run of seed 1 there is not the run of --seed 1 without --seeds: both are reproducible, each \
            with its own command.
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

    @Option(help: "Activation of the baseline (default: relu).")
    var baselineActivation: Activation = .relu

    @Option(help: "Learning rate of the baseline (default: 0.1 for relu, leaky-relu and elu, else --finetune-learning-rate).")
    var baselineLearningRate: Float?

    @Option(help: "Where to write the trained model (safetensors).")
    var output: String = "model.safetensors"

    @OptionGroup var study: StudyOptions

    @Option(help: "With --seeds, --learning-rates or --budget: write the runs as PREFIX.csv, the per-arm summaries as PREFIX-arms.csv and everything as PREFIX.json.")
    var report: String = "train"

    /// Whether the run is a study of several seeds or a rate grid (through `Comparison`).
    var isStudy: Bool { study.seeds != nil || study.learningRates != nil || study.budget != .equalEpochs }

    func validate() throws {
        _ = try parseInitializer(initialization)
        if baseline != "none" {
            let start = try parseInitializer(baseline)
            if start.isPretrained { throw ValidationError("--baseline must be a simple start (e.g. he-normal), not \(baseline)") }
        }
        if let baselineLearningRate, !(baselineLearningRate > 0 && baselineLearningRate.isFinite) {
            throw ValidationError("--baseline-learning-rate must be positive, got \(baselineLearningRate)")
        }
        if isStudy && baseline == "none" {
            throw ValidationError("--seeds, --learning-rates and --budget compare with a baseline: --baseline none leaves nothing to compare")
        }
        if isStudy && (checkpoints.checkpointDir != nil || checkpoints.resume) {
            throw ValidationError("--checkpoint-dir and --resume work with one seed and one rate (without --seeds, --learning-rates, --budget)")
        }
    }

    /// The rate of units without an upper bound: 0.5 (the pre-trained sigmoid net's rate) sends
    /// ReLU nets from a He start to chance; 0.1 is the best of the grid in the README.
    static let unboundedUnitsLearningRate: Float = 0.1

    /// The baseline's learning rate: the flag, else the per-activation default.
    func baselineRate(main: Float) -> Float {
        if let baselineLearningRate { return baselineLearningRate }
        switch baselineActivation {
        case .relu, .leakyReLU, .elu, .maxout: return Self.unboundedUnitsLearningRate
        default: return main
        }
    }

    struct RunSummary: Encodable {
        let initialization: String
        let activation: String
        let learningRate: Float
        let testError: Double?
        let bestEpoch: Int
        let finalTrainLoss: Double?
        let pretrainingSeconds: Double
        let fineTuningSeconds: Double
        let totalSeconds: Double
        let firstEpochGradientNorms: [Double]
        let divergedAtEpoch: Int?
    }
    struct Summary: Encodable {
        let testError: Double?
        let layerSizes: [Int]
        let model: String
        let runs: [RunSummary]
        let baseline: RunSummary?
        let seed: UInt64
        /// McNemar's exact test of the main network against the baseline on the test set.
        let mcNemar: Statistics.TestResult?
        let verdict: String
    }

    func run() throws {
        if isStudy { return try runStudy() }
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

        let provenance = try Provenance.ofThisRun(files: data.files, seeds: [
            "seed": common.seed, "pretraining": common.seed, "initialization": common.seed &+ 1, "fine_tuning": common.seed])
        let fingerprint = common.fingerprint([
            "command": "train", "data": provenance.dataFingerprint, "sizes": "\(sizes)", "init": initialization, "baseline": baseline,
            "activation": activation.name, "baseline_activation": baselineActivation.name,
            "baseline_learning_rate": "\(baselineRate(main: fineTuneConfiguration.learningRate))",
            "pretrain": ModelArchive.json(rbmConfiguration),
            "finetune": ModelArchive.json(fineTuneConfiguration), "train_count": "\(data.trainImages.rows)"])
        let runner = try TrainingOutput(console: console, logPath: common.log, tensorboard: tensorboard, checkpoints: checkpoints,
                                       fingerprint: fingerprint, printEvery: common.epochsPerLine)
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
        var baselineDiverged: Int?
        var baselineConfiguration = fineTuneConfiguration
        baselineConfiguration.learningRate = baselineRate(main: fineTuneConfiguration.learningRate)
        if baseline != "none" {
            let baselineStart = try parseInitializer(baseline)
            let baselineAct = baselineActivation
            var generator = Xoshiro256StarStar(seed: common.seed &+ 1)
            let baselineNetwork = try Network(sizes: sizes, hiddenActivation: baselineAct, initializer: baselineStart,
                                              calibrationData: calibration,
                                              generator: &generator)
            // A baseline that diverges is a result (reported as such), not a failure of the run.
            do {
                let r = try runner.finetune(baselineNetwork, data: training, test: test, configuration: baselineConfiguration,
                                            name: "baseline", title: "Baseline (\(baseline) start, \(baselineAct.name), rate \(baselineConfiguration.learningRate))")
                baselineRun = (r.result, r.seconds, baselineAct)
            } catch FineTuningError.diverged(let epoch) {
                baselineDiverged = epoch
                console.say("Baseline (\(baseline) start, \(baselineAct.name)) diverged in epoch \(epoch)")
            }
        }

        // The model file: the fine-tuned network with the stack it came from.
        try writeModel(main.result.network, stack: stack, start: mainName, imageShape: data.imageShape, seed: common.seed,
                       fineTuning: fineTuneConfiguration, pretraining: rbmConfiguration, provenance: provenance)

        func summary(_ name: String, _ activation: Activation, _ rate: Float, _ r: TrainingResult, _ seconds: Double,
                     pretrain: Double) -> RunSummary {
            let best = r.reports.first { $0.epoch == r.bestEpoch } ?? r.reports.last
            return RunSummary(initialization: name, activation: activation.name, learningRate: rate, testError: best?.testError,
                              bestEpoch: r.bestEpoch, finalTrainLoss: r.reports.last?.trainLoss,
                              pretrainingSeconds: pretrain, fineTuningSeconds: seconds, totalSeconds: pretrain + seconds,
                              firstEpochGradientNorms: r.reports.first?.layers.map(\.gradientNorm) ?? [], divergedAtEpoch: nil)
        }
        let mainSummary = summary(mainName, activation, fineTuneConfiguration.learningRate, main.result, main.seconds,
                                  pretrain: pretrainSeconds)
        var baselineSummary = baselineRun.map {
            summary(baseline, $0.activation, baselineConfiguration.learningRate, $0.result, $0.seconds, pretrain: 0)
        }
        if let baselineDiverged {
            baselineSummary = RunSummary(initialization: baseline, activation: baselineActivation.name,
                                         learningRate: baselineConfiguration.learningRate, testError: nil, bestEpoch: 0,
                                         finalTrainLoss: nil, pretrainingSeconds: 0, fineTuningSeconds: 0, totalSeconds: 0,
                                         firstEpochGradientNorms: [], divergedAtEpoch: baselineDiverged)
        }
        let rows = [mainSummary] + (baselineSummary.map { [$0] } ?? [])

        console.say("")
        console.say("| start | activation | rate | test error | best epoch | pre-training | fine-tuning | total |")
        console.say("|---|---|---:|---:|---:|---:|---:|---:|")
        for row in rows {
            console.say("| \(row.initialization) | \(row.activation) | \(row.learningRate) | \(row.divergedAtEpoch.map { "diverged (epoch \($0))" } ?? percent(row.testError)) | \(row.bestEpoch) | \(secondsText(row.pretrainingSeconds)) | \(secondsText(row.fineTuningSeconds)) | \(secondsText(row.totalSeconds)) |")
        }
        console.say("")
        // Which won, and whether one seed's test predictions tell them apart.
        var mcNemar: Statistics.TestResult?
        var verdict = "Test error: \(percent(mainSummary.testError)) (\(mainName) start)."
        if let baselineRun, let baselineSummary, let mainError = mainSummary.testError, let baselineError = baselineSummary.testError {
            let testData = test
            let test = Statistics.mcNemarExact(firstWrong: main.result.network.misclassified(testData),
                                                secondWrong: baselineRun.result.network.misclassified(testData))
            mcNemar = test
            let mainLabel = "\(mainName)/\(activation.name)", baselineLabel = "\(baseline)/\(baselineRun.activation.name)"
            let winner = mainError <= baselineError ? mainLabel : baselineLabel
            verdict = "\(mainLabel) \(percent(mainError)) vs \(baselineLabel) \(percent(baselineError)): "
                + (mainError == baselineError ? "a tie" : "\(winner) won")
                + (test.pValue < 0.05 ? ", distinguishable at 5%" : ", not distinguishable at 5%")
                + " (McNemar's exact test on the \(testData.count) test images, one seed: p = \(String(format: "%.2g", test.pValue)))."
        } else if let baselineDiverged, let mainError = mainSummary.testError {
            verdict = "\(mainName)/\(activation.name) \(percent(mainError)) won: \(baseline)/\(baselineActivation.name) diverged in epoch \(baselineDiverged)."
        }
        console.say(verdict + " Model written to \(output)")
        try console.emitJSON(WithProvenance(value: Summary(testError: mainSummary.testError, layerSizes: sizes, model: output,
                                                           runs: rows, baseline: baselineSummary, seed: common.seed,
                                                           mcNemar: mcNemar, verdict: verdict),
                                            provenance: provenance))
    }
}

import ArgumentParser
import DeepBelief
import Foundation

/// `dbn generative`: the generative DBN of Hinton, Osindero & Teh (2006): greedy pre-training
/// with the labels in the top RBM, then up-down fine-tuning; test error after each.
struct GenerativeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generative",
        abstract: "Train the generative DBN of Hinton, Osindero & Teh (2006): labels in the top RBM, then up-down.",
        discussion: """
            Greedy pre-training of --layers (default 500,500,2000) where the top RBM also sees the \
            label as 10 softmax units, then --up-down-epochs of up-down fine-tuning (contrastive \
            wake-sleep; CD-k in the top RBM with k from --cd-schedule over equal parts of the run). \
            The test error (label of least free energy in the top RBM after the up pass) is printed \
            after each phase. The paper: 500,500,2000, 30 sweeps per layer, 300 up-down epochs, 1.25%.
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var common: RunOptions
    @OptionGroup var pretraining: PretrainingOptions
    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var tensorboard: TensorBoardOptions

    @Option(help: "Minibatch size of both phases.")
    var batchSize: Int = 100
    @Option(help: "Up-down epochs (0: greedy training only).")
    var upDownEpochs: Int = 10
    @Option(help: "Up-down learning rate of every weight and bias.")
    var upDownLearningRate: Float = 0.01
    @Option(help: "Up-down momentum of the first 5 epochs.")
    var upDownInitialMomentum: Float = 0.5
    @Option(help: "Up-down momentum after the first 5 epochs.")
    var upDownMomentum: Float = 0.9
    @Option(help: "Up-down L2 weight cost, weights only.")
    var upDownWeightCost: Float = 2e-4
    @Option(help: "k of CD-k in the top RBM during up-down, comma-separated: the epochs are split into equal parts (the paper: 3,6,10).")
    var cdSchedule: String = "3,6,10"
    @Flag(help: "Persistent CD in the top RBM during up-down (Tieleman 2008): its negative phase and the sleep phase start from fantasy chains kept across minibatches, k steps each from --cd-schedule (e.g. 1), instead of CD-k from the data.")
    var upDownPersistent = false
    @Option(help: "Measure the test error (free energy) after every N-th up-down epoch (0: only at the end).")
    var upDownTestEvery: Int = 0
    @Option(help: "Weight alpha of the discriminative gradient added to the top RBM's CD during greedy training (the hybrid objective of Larochelle & Bengio 2008: CD on log p(x, label) + alpha grad log p(label | x), exact); 0: plain CD.")
    var discriminativeWeight: Float = 0
    @Option(help: "The same weight for the top RBM's CD-k during up-down (0: the paper's up-down).")
    var upDownDiscriminativeWeight: Float = 0
    @Option(help: "Train only the top RBM, on the RBMs below it from this file: a greedy generative DBN (an earlier --greedy-output with the same data, --layers and seed gives the model of the full run) or any stack whose first RBMs have the sizes of --layers below the top (a dbn pretrain stack, a dbn train model with its RBMs); no checkpoints in that phase.")
    var lowerLayers: String?
    @Option(help: "Skip greedy training: continue this greedy generative DBN (tied weights, as --greedy-output writes, of the sizes of --layers) with up-down.")
    var greedyModel: String?
    @Option(help: "Also write the model after greedy training alone (safetensors).")
    var greedyOutput: String?
    @Option(help: "Where to write the generative DBN (safetensors).")
    var output: String = "generative.safetensors"

    func validate() throws {
        if upDownTestEvery < 0 { throw ValidationError("--up-down-test-every must be >= 0, got \(upDownTestEvery)") }
        if lowerLayers != nil && greedyModel != nil {
            throw ValidationError("--lower-layers trains a top RBM, --greedy-model skips greedy training: give one of them")
        }
        // The library's range checks of both phases, naming the flag (`up_down.learningRate` is
        // `--up-down-learning-rate`).
        try TrainingOutput.checkSettings(of: "pretrain", rbmConfiguration(seed: 0).validate)
        try TrainingOutput.checkSettings(of: "up_down", upDownConfiguration(seed: 0).validate)
    }

    /// The greedy phase's settings (checked in `validate`).
    func rbmConfiguration(seed: UInt64) -> RBMTrainingConfiguration {
        var configuration = pretraining.configuration(batchSize: batchSize, seed: seed)
        configuration.discriminativeWeight = discriminativeWeight
        return configuration
    }

    func upDownConfiguration(seed: UInt64) throws -> UpDownConfiguration {
        UpDownConfiguration(epochs: upDownEpochs, batchSize: batchSize, learningRate: upDownLearningRate,
                            initialMomentum: upDownInitialMomentum, finalMomentum: upDownMomentum,
                            weightCost: upDownWeightCost, cdSchedule: try parseSizes(cdSchedule, flag: "--cd-schedule"),
                            persistent: upDownPersistent, discriminativeWeight: upDownDiscriminativeWeight,
                            seed: seed &+ 2)
    }

    struct Summary: Encodable {
        let layerSizes: [Int]
        let labels: Int
        let greedyTestError: Double
        let testError: Double
        let pretrainingSeconds: Double
        let upDownSeconds: Double
        let upDownEpochs: Int
        let model: String
        let seed: UInt64
    }

    func run() throws {
        try common.checkDestinations(output: output, inputs: dataOptions.inputPaths)
        if let greedyOutput { try common.checkDestinations(output: greedyOutput, inputs: dataOptions.inputPaths) }
        let console = common.start()
        let lower = try lowerLayers.map { path in (path: path, loaded: try LoadedModel.read(path)) }
        let start = try greedyModel.map { path in (path: path, loaded: try LoadedModel.read(path)) }
        let data = try dataOptions.load()
        let sizes = [data.pixelCount] + (try pretraining.hiddenSizes())
        let rbmConfiguration = rbmConfiguration(seed: common.seed)
        let below = try lower.map { try Self.lowerLayers(of: $0.loaded.file, path: $0.path, sizes: sizes) }
        let greedyStart = try start.map { try Self.greedyModel(of: $0.loaded.file, path: $0.path, sizes: sizes, labels: data.classCount) }
        let upDown = try upDownConfiguration(seed: common.seed)
        console.say("Data: \(data.trainImages.rows) training and \(data.testImages.rows) test images, \(data.classCount) classes")
        var provenance = try Provenance.ofThisRun(files: data.files, seeds: [
            "seed": common.seed, "initialization": common.seed, "pretraining": common.seed, "up_down": common.seed])
        var settings = [
            "command": "generative", "data": provenance.dataFingerprint, "sizes": "\(sizes)", "labels": "\(data.classCount)",
            "pretrain": ModelArchive.json(rbmConfiguration), "up_down": ModelArchive.json(upDown),
            "train_count": "\(data.trainImages.rows)"]
        // A model file the run starts from is part of what it is: recorded, and in the fingerprint.
        for (role, source) in [("lower_layers", lower), ("greedy_model", start)] {
            guard let source else { continue }
            provenance.dataFiles.append(Provenance.DataFile(role: role.replacingOccurrences(of: "_", with: " "), path: source.path, bytes: source.loaded.measured.bytes,
                                                            sha256: source.loaded.measured.sha256))
            settings[role] = source.loaded.measured.sha256
        }
        let fingerprint = common.fingerprint(settings)
        let runner = try TrainingOutput(console: console, logPath: common.log, tensorboard: tensorboard, checkpoints: checkpoints,
                                        fingerprint: fingerprint, printEvery: common.epochsPerLine)
        runner.record(provenance)

        var generator = Xoshiro256StarStar(seed: common.seed)
        var stack = DeepBeliefNetwork(layerSizes: sizes, labelCount: data.classCount, generator: &generator)
        let pretrainSeconds: Double
        if let lower, let below {
            pretrainSeconds = try Self.pretrainTop(&stack, below: below, file: lower.path, data: data,
                                                   configuration: rbmConfiguration, console: console)
        } else if let start, let greedyStart {
            console.say("Greedy model from \(start.path) (no greedy training)")
            stack = greedyStart.stack
            pretrainSeconds = 0
        } else {
            pretrainSeconds = try runner.pretrain(&stack, on: data.trainImages, configuration: rbmConfiguration,
                                                  labels: data.trainLabels)
        }
        var model = GenerativeDeepBeliefNetwork(stack: stack)
        var metadata = [ModelArchive.Key.inputShape: ModelArchive.json(data.imageShape),
                        ModelArchive.Key.seed: String(common.seed),
                        ModelArchive.Key.pretraining: start?.loaded.file.metadata[ModelArchive.Key.pretraining]
                            ?? ModelArchive.json(rbmConfiguration)]
        metadata.merge(provenance.forModelFile.metadata) { $1 }
        let greedy = model.classificationReport(images: data.testImages, labels: data.testLabels)
        console.say("Greedy training alone: test error \(TextLayout.percent(greedy.errorRate)) (\(greedy.errors) of \(data.testLabels.count)), labels by the free energy of the top RBM")
        if let greedyOutput {
            try ModelArchive.archive(generative: model, metadata: metadata).write(to: greedyOutput)
            console.say("Greedy model written to \(greedyOutput)")
        }

        var upDownSeconds = 0.0
        var report = greedy
        if upDownEpochs > 0 {
            upDownSeconds = try runner.upDown(&model, on: data.trainImages, labels: data.trainLabels, configuration: upDown,
                                              test: upDownTestEvery > 0 ? (data.testImages, data.testLabels) : nil,
                                              testEvery: upDownTestEvery)
            report = model.classificationReport(images: data.testImages, labels: data.testLabels)
            console.say("After up-down: test error \(TextLayout.percent(report.errorRate)) (\(report.errors) of \(data.testLabels.count))")
            metadata[ModelArchive.Key.upDown] = ModelArchive.json(upDown)
        }
        try ModelArchive.archive(generative: model, metadata: metadata).write(to: output)
        console.say("Pre-training \(secondsText(pretrainSeconds)), up-down \(secondsText(upDownSeconds)). Model written to \(output)")
        try console.emitJSON(Summary(layerSizes: sizes, labels: data.classCount, greedyTestError: greedy.errorRate,
                                     testError: report.errorRate, pretrainingSeconds: pretrainSeconds,
                                     upDownSeconds: upDownSeconds, upDownEpochs: upDownEpochs, model: output,
                                     seed: common.seed))
    }

    /// The RBMs below the top of `sizes` from `file` (read from `path`): the first RBMs of any
    /// stack in it, with those sizes and Bernoulli units; a generative DBN after up-down (untied
    /// weights) is refused, its recognition weights alone are not the model it learnt.
    static func lowerLayers(of file: SafeTensors, path: String, sizes: [Int]) throws -> [RBM] {
        let stack = try ModelArchive.stack(from: file)
        try refuseAfterUpDown(file, path: path, flag: "--lower-layers")
        let count = sizes.count - 2, wanted = Array(sizes.prefix(count + 1))
        guard stack.layerSizes.count > count, Array(stack.layerSizes.prefix(count + 1)) == wanted else {
            throw CLIError("\(path): --lower-layers needs a stack whose first layers are \(wanted) (the data's pixels and --layers below the top), found \(stack.layerSizes)")
        }
        let layers = Array(stack.layers.prefix(count))
        if let rbm = layers.first(where: { $0.visibleUnits != .bernoulli || $0.hiddenUnits != .bernoulli }) {
            throw CLIError("\(path): --lower-layers needs Bernoulli units, found \(rbm.visibleUnits.rawValue) visible and \(rbm.hiddenUnits.rawValue) hidden units")
        }
        return layers
    }

    /// The greedy generative DBN in `file` (read from `path`) for `--greedy-model`: its sizes and
    /// labels those of the run, its weights still tied (no up-down yet).
    static func greedyModel(of file: SafeTensors, path: String, sizes: [Int], labels: Int) throws -> GenerativeDeepBeliefNetwork {
        let model = try ModelArchive.generative(from: file)
        if model.stack.layerSizes != sizes || model.labelCount != labels {
            throw CLIError("\(path): --greedy-model needs a generative DBN of sizes \(sizes) with \(labels) labels, found \(model.stack.layerSizes) with \(model.labelCount)")
        }
        try refuseAfterUpDown(file, path: path, flag: "--greedy-model")
        return model
    }

    /// Throws when `file` holds a generative DBN after up-down: `ModelArchive` stores the
    /// generative weights (`generative.0.weight`, ...) exactly when they differ from the
    /// recognition weights, so their presence is the file's `isUntied`.
    static func refuseAfterUpDown(_ file: SafeTensors, path: String, flag: String) throws {
        if file["generative.0.weight"] != nil {
            throw CLIError("\(path): \(flag) needs a greedy model (tied weights, as --greedy-output writes), found one after up-down")
        }
    }

    /// Greedy training of the top RBM alone on `layers`, the RBMs below it (`pretrainTop`, the
    /// same seed as the full run's top layer); returns the seconds of its epochs.
    static func pretrainTop(_ stack: inout DeepBeliefNetwork, below layers: [RBM], file: String,
                            data: DataSet, configuration: RBMTrainingConfiguration, console: Console) throws -> Double {
        let top = stack.layers.count - 1
        for i in 0..<top { stack.layers[i] = layers[i] }
        console.say("Pre-training the top RBM \(stack.layerSizes[top]) + \(stack.labelCount) labels -> \(stack.layerSizes[top + 1]) alone on the layers below from \(file): CD-\(configuration.cdSteps)\(configuration.persistent ? " (persistent)" : ""), \(configuration.epochs) epochs, batch \(configuration.batchSize), learning rate \(configuration.learningRate), discriminative weight \(configuration.discriminativeWeight)")
        var generator = Xoshiro256StarStar(seed: configuration.seed)
        var seconds = 0.0
        try stack.pretrainTop(on: data.trainImages, configuration: configuration, labels: data.trainLabels,
                              generator: &generator) { report in
            seconds += report.seconds
            console.say("    \(report.summary)")
        }
        return seconds
    }
}

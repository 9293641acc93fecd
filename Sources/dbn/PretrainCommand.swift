import ArgumentParser
import DeepBelief
import Foundation

/// `dbn pretrain`: greedy layer-wise pre-training only; writes the RBM stack.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Greedy layer-wise RBM pre-training only (labels not needed); writes the RBM stack.")

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var common: RunOptions
    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var tensorboard: TensorBoardOptions

    @OptionGroup var pretraining: PretrainingOptions

    @Option(help: "Minibatch size.")
    var batchSize: Int = 100
    @Option(help: "Visible units of the first RBM (gaussian: standardise the data first).")
    var visibleUnits: VisibleUnits = .bernoulli
    @Option(help: "Hidden units (rectified: noisy ReLU).")
    var hiddenUnits: HiddenUnits = .bernoulli
    @Option(help: "Binarise the images: none, threshold (> 0.5), stochastic (once, seeded; training and held-out images get their own draws), resample (a fresh sample of every minibatch each time it is used).")
    var binarize: Binarization = .none
    @Flag(help: "Monitor the free-energy gap between training images and the test images each epoch.")
    var freeEnergyGap = false
    @Flag(help: "Monitor the pseudo-log-likelihood each epoch.")
    var pseudoLikelihood = false
    @Option(help: "Where to write the RBM stack (safetensors).")
    var output: String = "stack.safetensors"

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be >= 1, got \(batchSize)") }
    }

    struct LayerSummary: Encodable {
        let layer: Int
        let visible: Int
        let hidden: Int
        let reconstructionError: [Double]
        let seconds: [Double]
        let freeEnergyGap: [Double]?
        let pseudoLogLikelihood: [Double]?
    }
    struct Summary: Encodable {
        let layerSizes: [Int]
        let layers: [LayerSummary]
        let seconds: Double
        let output: String
    }

    func run() throws {
        try common.checkDestinations(output: output, inputs: dataOptions.inputPaths)
        let console = common.start()
        let needTest = freeEnergyGap
        var images: Matrix
        var heldOut: Matrix?
        var imageShape: [Int]
        var files: [DataFileInfo]
        if needTest {
            let set = try dataOptions.load()
            images = set.trainImages
            heldOut = set.testImages.rows(in: 0..<min(1000, set.testImages.rows))
            imageShape = set.imageShape
            files = set.files
        } else {
            let set = try dataOptions.loadTrainingImages()
            images = set.images
            imageShape = set.imageShape
            files = [set.file]
        }
        images.binarize(binarize, seed: common.seed, set: .training)
        heldOut?.binarize(binarize, seed: common.seed, set: .test)
        console.say("Data: \(images.rows) training images of \(imageShape.map(String.init).joined(separator: "x"))")
        let sizes = [images.columns] + (try pretraining.hiddenSizes())
        let configuration = pretraining.configuration(batchSize: batchSize, seed: common.seed,
                                                      resampleBinaryData: binarize == .resample)
        try configuration.validate()
        let monitors = MonitorOptions(heldOut: heldOut, sampleCount: 1000, pseudoLogLikelihood: pseudoLikelihood)
        let fingerprint = ModelArchive.json(["command": "pretrain", "sizes": "\(sizes)", "config": ModelArchive.json(configuration),
                                             "units": visibleUnits.rawValue + "/" + hiddenUnits.rawValue, "binarize": binarize.rawValue,
                                             "count": "\(images.rows)"])
        let runner = try TrainingOutput(console: console, logPath: common.log, tensorboard: tensorboard, checkpoints: checkpoints,
                                       fingerprint: fingerprint, printEvery: common.printEvery)
        let provenance = try Provenance.ofThisRun(files: files, seeds: [
            "seed": common.seed, "initialization": common.seed, "pretraining": common.seed, "binarization": common.seed])
        runner.record(provenance)

        var generator = Xoshiro256StarStar(seed: common.seed)
        var stack = DeepBeliefNetwork(layerSizes: sizes, hiddenUnits: hiddenUnits, generator: &generator)
        stack.layers[0].visibleUnits = visibleUnits
        var perLayer = Array(repeating: [RBMEpochReport](), count: sizes.count - 1)
        let seconds = try runner.pretrain(&stack, on: images, configuration: configuration, monitors: monitors) { layer, report in
            perLayer[layer].append(report)
        }
        let metadata = [ModelArchive.Key.inputShape: ModelArchive.json(imageShape),
                        ModelArchive.Key.seed: String(common.seed),
                        ModelArchive.Key.pretraining: ModelArchive.json(configuration),
                        "binarize": binarize.rawValue].merging(provenance.forModelFile.metadata) { $1 }
        try ModelArchive.archive(stack: stack, metadata: metadata).write(to: output)
        console.say("Stack \(sizes.map(String.init).joined(separator: "-")) written to \(output) (\(secondsText(seconds)))")
        try console.emitJSON(WithProvenance(value: Summary(
            layerSizes: sizes,
            layers: perLayer.enumerated().map { i, reports in
                LayerSummary(layer: i, visible: sizes[i], hidden: sizes[i + 1],
                             reconstructionError: reports.map(\.reconstructionError), seconds: reports.map(\.seconds),
                             freeEnergyGap: freeEnergyGap ? reports.compactMap { $0.freeEnergyGap?.gap } : nil,
                             pseudoLogLikelihood: pseudoLikelihood ? reports.compactMap(\.pseudoLogLikelihood) : nil)
            },
            seconds: seconds, output: output), provenance: provenance))
    }
}

import ArgumentParser
import DeepBelief
import Foundation

/// `dbn pretrain`: greedy layer-wise pre-training only; writes the RBM stack.
struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Greedy layer-wise RBM pre-training only (labels not needed); writes the RBM stack.",
        discussion: """
            Presets salakhutdinov2008-cd1, -cd3, -cd25: the recipe of the training code released with \
            Salakhutdinov & Murray 2008 (500 hidden units, 50 epochs, batch 100, learning rate 0.05, \
            weight cost 2e-4, momentum 0.5 then 0.9 after 5 epochs, weights 0.01 N(0, 1), visible biases \
            starting at 0, data re-sampled as binary every minibatch, binary visible samples in the negative \
            phase; CD-25 grows k from 1 to 25 with the learning rate divided by k). Flags given explicitly \
            override a preset.
            """)

    /// Published pre-training recipes.
    enum Preset: String, ExpressibleByArgument, CaseIterable {
        case salakhutdinov2008CD1 = "salakhutdinov2008-cd1"
        case salakhutdinov2008CD3 = "salakhutdinov2008-cd3"
        case salakhutdinov2008CD25 = "salakhutdinov2008-cd25"

        /// Sets the options the command line left out to the recipe's values.
        func apply(to options: inout PretrainingOptions, binarize: inout Binarization?) {
            func fill<T>(_ option: inout T?, _ value: T) { if option == nil { option = value } }
            fill(&options.layers, "500")
            fill(&options.pretrainEpochs, 50)
            fill(&options.pretrainLearningRate, 0.05)
            fill(&options.weightCost, 2e-4)
            fill(&options.initialMomentum, 0.5)
            fill(&options.negativeVisible, .sample)
            fill(&options.visibleBias, .zero)
            fill(&binarize, .resample)
            switch self {
            case .salakhutdinov2008CD1: fill(&options.cdSteps, 1)
            case .salakhutdinov2008CD3: fill(&options.cdSteps, 3)
            case .salakhutdinov2008CD25: fill(&options.cdSteps, 25); fill(&options.growCdSteps, true)
            }
        }
    }

    @Option(help: "A published recipe (see above); flags given explicitly override it.")
    var preset: Preset?

    @OptionGroup var dataOptions: ImageDataOptions
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
    @Option(help: "Binarise the images: none (default), threshold (> 0.5), stochastic (once, seeded; training and held-out images get their own draws), resample (a fresh sample of every minibatch each time it is used).")
    var binarize: Binarization?
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
        var pretraining = self.pretraining, binarize = self.binarize
        preset?.apply(to: &pretraining, binarize: &binarize)
        try pretraining.validate()
        let binarization = binarize ?? .none
        try common.checkDestinations(output: output, inputs: dataOptions.inputPaths)
        let console = common.start()
        let needTest = freeEnergyGap
        var images: Matrix
        var heldOut: Matrix?
        var imageShape: [Int]
        var files: [DataFileInfo]
        let set = try dataOptions.loadTrainingImages()
        images = set.images
        imageShape = set.imageShape
        files = [set.file]
        if needTest {
            let test = try dataOptions.loadTestImages(like: set)
            heldOut = test.images.rows(in: 0..<min(1000, test.images.rows))
            files.append(test.file)
        }
        images.binarize(binarization, seed: common.seed, set: .training)
        heldOut?.binarize(binarization, seed: common.seed, set: .test)
        console.say("Data: \(images.rows) training images of \(imageShape.map(String.init).joined(separator: "x"))")
        let sizes = [images.columns] + (try pretraining.hiddenSizes())
        let configuration = pretraining.configuration(batchSize: batchSize, seed: common.seed,
                                                      resampleBinaryData: binarization == .resample)
        try TrainingOutput.checkSettings(of: "pretrain", configuration.validate)
        let monitors = MonitorOptions(heldOut: heldOut, sampleCount: 1000, pseudoLogLikelihood: pseudoLikelihood)
        let provenance = try Provenance.ofThisRun(files: files, seeds: [
            "seed": common.seed, "initialization": common.seed, "pretraining": common.seed, "binarization": common.seed])
        let fingerprint = common.fingerprint(["command": "pretrain", "data": provenance.dataFingerprint, "sizes": "\(sizes)", "config": ModelArchive.json(configuration),
                                              "units": visibleUnits.rawValue + "/" + hiddenUnits.rawValue, "binarize": binarization.rawValue,
                                              "count": "\(images.rows)"])
        let runner = try TrainingOutput(console: console, logPath: common.log, tensorboard: tensorboard, checkpoints: checkpoints,
                                       fingerprint: fingerprint, printEvery: common.epochsPerLine)
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
                        "binarize": binarization.rawValue].merging(provenance.forModelFile.metadata) { $1 }
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

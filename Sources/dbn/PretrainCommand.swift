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
    @OptionGroup var checkpoints: PhaseRunner.Options

    @Option(help: "Hidden layer sizes, comma-separated (the input size comes from the data).")
    var layers: String = "500,500,2000"
    @Option(help: "Epochs per layer.")
    var epochs: Int = 5
    @Option(help: "Minibatch size.")
    var batchSize: Int = 100
    @Option(help: "Learning rate (weights and biases).")
    var learningRate: Float = 0.1
    @Option(help: "Gibbs steps k of CD-k.")
    var cdSteps: Int = 1
    @Flag(help: "Grow k from 1 at the first epoch to --cd-steps at the last, dividing the learning rate by k (Salakhutdinov & Murray's CD-25).")
    var growCdSteps = false
    @Flag(help: "Persistent contrastive divergence (Tieleman 2008).")
    var persistent = false
    @Option(help: "L2 weight cost (weights only).")
    var weightCost: Float = 2e-4
    @Option(help: "Momentum of the first 5 epochs (0.9 afterwards).")
    var initialMomentum: Float = 0.5
    @Option(help: "Target mean activation of hidden units (sparsity), or none.")
    var sparsityTarget: Float?
    @Option(help: "Visible units of the first RBM: bernoulli, or gaussian (standardise the data first).")
    var visibleUnits: String = "bernoulli"
    @Option(help: "Hidden units: bernoulli, or rectified (noisy ReLU).")
    var hiddenUnits: String = "bernoulli"
    @Option(help: "Binarise the images: none, threshold (0.5), stochastic (once, seeded), resample (a fresh sample of every minibatch each time it is used).")
    var binarize: String = "none"
    @Flag(help: "Monitor the free-energy gap between training images and the test images each epoch.")
    var freeEnergyGap = false
    @Flag(help: "Monitor the pseudo-log-likelihood each epoch.")
    var pseudoLikelihood = false
    @Option(help: "Where to write the RBM stack (safetensors).")
    var output: String = "stack.safetensors"

    func validate() throws {
        _ = try parseSizes(layers, flag: "--layers")
        if epochs < 0 { throw ValidationError("--epochs must be >= 0, got \(epochs)") }
        if batchSize < 1 { throw ValidationError("--batch-size must be >= 1, got \(batchSize)") }
        if !(learningRate > 0) || !learningRate.isFinite { throw ValidationError("--learning-rate must be positive, got \(learningRate)") }
        if cdSteps < 1 { throw ValidationError("--cd-steps must be >= 1, got \(cdSteps)") }
        guard VisibleUnits(rawValue: visibleUnits) != nil else { throw ValidationError("--visible-units must be bernoulli or gaussian, got '\(visibleUnits)'") }
        guard HiddenUnits(rawValue: hiddenUnits) != nil else { throw ValidationError("--hidden-units must be bernoulli or rectified, got '\(hiddenUnits)'") }
        _ = try parseBinarization(binarize, seed: 0)
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
        let console = common.start()
        let needTest = freeEnergyGap
        var images: Matrix
        var heldOut: Matrix?
        var imageShape: [Int]
        if needTest {
            let set = try dataOptions.load()
            images = set.trainImages
            heldOut = set.testImages.rows(in: 0..<min(1000, set.testImages.rows))
            imageShape = set.imageShape
        } else {
            let set = try dataOptions.loadTrainingImages()
            images = set.images
            imageShape = set.imageShape
        }
        let binarization = try parseBinarization(binarize, seed: common.seed)
        if case .once(let once) = binarization {
            images = images.binarized(once)
            heldOut = heldOut?.binarized(once)
        }
        console.say("Data: \(images.rows) training images of \(imageShape.map(String.init).joined(separator: "x"))")
        let sizes = [images.columns] + (try parseSizes(layers, flag: "--layers"))
        var configuration = RBMTrainingConfiguration(
            epochs: epochs, batchSize: batchSize, learningRate: learningRate, initialMomentum: initialMomentum,
            weightCost: weightCost, cdSteps: cdSteps, growCDSteps: growCdSteps, persistent: persistent,
            sparsityTarget: sparsityTarget,
            resampleBinaryData: binarization == .resample, seed: common.seed)
        try configuration.validate()
        configuration.seed = common.seed
        let monitors = MonitorOptions(heldOut: heldOut, sampleCount: 1000, pseudoLogLikelihood: pseudoLikelihood)
        let fingerprint = ModelArchive.json(["command": "pretrain", "sizes": "\(sizes)", "config": ModelArchive.json(configuration),
                                             "units": visibleUnits + "/" + hiddenUnits, "binarize": binarize,
                                             "count": "\(images.rows)", "threads": "\(BLASThreads.count)"])
        let runner = try PhaseRunner(console: console, logPath: common.log, checkpointDir: checkpoints.checkpointDir,
                                     resume: checkpoints.resume, fingerprint: fingerprint)

        var generator = Xoshiro256StarStar(seed: common.seed)
        var stack = DeepBeliefNetwork(layerSizes: sizes, hiddenUnits: HiddenUnits(rawValue: hiddenUnits)!, generator: &generator)
        stack.layers[0].visibleUnits = VisibleUnits(rawValue: visibleUnits)!
        var perLayer = Array(repeating: [RBMEpochReport](), count: sizes.count - 1)
        let seconds = try runner.pretrain(&stack, on: images, configuration: configuration, monitors: monitors) { layer, report in
            perLayer[layer].append(report)
        }
        let metadata = [ModelArchive.Key.inputShape: ModelArchive.json(imageShape),
                        ModelArchive.Key.seed: String(common.seed),
                        ModelArchive.Key.pretraining: ModelArchive.json(configuration),
                        "binarize": binarize]
        try ModelArchive.archive(stack: stack, metadata: metadata).write(to: output)
        console.say("Stack \(sizes.map(String.init).joined(separator: "-")) written to \(output) (\(secondsText(seconds)))")
        try console.emitJSON(Summary(
            layerSizes: sizes,
            layers: perLayer.enumerated().map { i, reports in
                LayerSummary(layer: i, visible: sizes[i], hidden: sizes[i + 1],
                             reconstructionError: reports.map(\.reconstructionError), seconds: reports.map(\.seconds),
                             freeEnergyGap: freeEnergyGap ? reports.compactMap { $0.freeEnergyGap?.gap } : nil,
                             pseudoLogLikelihood: pseudoLikelihood ? reports.compactMap(\.pseudoLogLikelihood) : nil)
            },
            seconds: seconds, output: output))
    }
}

/// How `dbn pretrain` binarises its training images.
enum DataBinarization: Equatable {
    /// Pixels as they are (probabilities).
    case none
    /// Binarised once, before training.
    case once(Binarization)
    /// A fresh sample of each minibatch every time it is used (`resampleBinaryData`).
    case resample
}

/// Parses a binarisation option.
func parseBinarization(_ text: String, seed: UInt64) throws -> DataBinarization {
    switch text.lowercased() {
    case "none": return .none
    case "threshold": return .once(.threshold(0.5))
    case "stochastic": return .once(.stochastic(seed: seed))
    case "resample": return .resample
    default: throw ValidationError("--binarize must be none, threshold, stochastic or resample, got '\(text)'")
    }
}

import ArgumentParser
import DeepBelief
import Foundation

/// `dbn finetune`: unrolls a saved RBM stack into a network and fine-tunes it.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a saved RBM stack with a fresh softmax layer, or continue training a saved network.",
        discussion: """
            --weights is an RBM stack (dbn pretrain): it is unrolled into a network with a fresh \
            softmax output layer. Or it is a network (dbn train, dbn finetune, or a torch \
            state_dict of Linear layers such as save_dbn writes): training continues from its \
            weights, with its activation and all its layers.
            """)

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var common: RunOptions
    @OptionGroup var fineTuning: FineTuningOptions
    @OptionGroup var activationOption: ActivationOption
    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var tensorboard: TensorBoardOptions

    @Option(help: "The RBM stack to unroll (dbn pretrain) or the network to continue training (dbn train, dbn finetune, torch state_dict).")
    var weights: String

    @Option(help: "Where to write the fine-tuned model (safetensors).")
    var output: String = "model.safetensors"

    @Flag(help: "Batch-normalise the unrolled stack's hidden layers (gamma 1, the hidden biases as the shifts; a saved network keeps its own layers).")
    var batchNorm = false

    struct Summary: Encodable {
        let testError: Double?
        let bestEpoch: Int
        let finalTrainLoss: Double?
        let seconds: Double
        let layerSizes: [Int]
        let output: String
    }

    func run() throws {
        try common.checkDestinations(output: output, inputs: dataOptions.inputPaths + [weights])
        let console = common.start()
        let loaded = try LoadedModel.read(weights)
        let file = loaded.file
        let start = try FinetuneStart(loaded, activation: activationOption.given)
        if batchNorm && start.continued != nil {
            throw CLIError("\(weights): --batch-norm applies to an RBM stack being unrolled; a saved network continues with its own layers (drop --batch-norm)")
        }
        let data = try dataOptions.load()
        try ModelArchive.requireFits(file: weights, inputs: start.inputs, outputs: start.continued?.outputCount,
                                     pixels: data.pixelCount, classes: start.continued == nil ? nil : data.classCount)
        let configuration = try fineTuning.configuration(seed: common.seed)
        let training = try data.labeledTraining()
        let test = try data.labeledTest()
        let network: Network
        let stack = start.stack
        if let continued = start.continued {
            network = continued
            console.say("Continuing the training of \(weights): \(network.sizes.map(String.init).joined(separator: "-")) \(network.hiddenActivation.name), all \(network.layers.count) layers")
        } else {
            var generator = Xoshiro256StarStar(seed: common.seed &+ 1)
            let unrolled = try Network(pretrained: stack!, outputCount: data.classCount,
                                       hiddenActivation: activationOption.activation, generator: &generator)
            network = batchNorm ? unrolled.withBatchNormalization() : unrolled
        }
        let activation = network.hiddenActivation
        var provenance = try Provenance.ofThisRun(files: data.files, seeds: [
            "seed": common.seed, "initialization": common.seed &+ 1, "fine_tuning": common.seed])
        provenance.dataFiles.append(Provenance.DataFile(role: "weights", path: weights, bytes: loaded.measured.bytes,
                                                        sha256: loaded.measured.sha256))
        var settings = ["command": "finetune", "data": provenance.dataFingerprint, "weights": weights, "sizes": "\(network.sizes)",
                        "config": ModelArchive.json(configuration), "activation": activation.name]
        if batchNorm { settings["batch_norm"] = "true" }  // absent without it, as in older checkpoints
        let fingerprint = common.fingerprint(settings)
        let runner = try TrainingOutput(console: console, logPath: common.log, tensorboard: tensorboard, checkpoints: checkpoints,
                                       fingerprint: fingerprint, printEvery: common.epochsPerLine)
        runner.record(provenance)
        let (result, seconds) = try runner.finetune(network, data: training, test: test, configuration: configuration,
                                                    name: "finetune", title: "Fine-tuning \(weights)")
        var metadata = file.metadata.filter { [ModelArchive.Key.inputShape, ModelArchive.Key.pretraining, ModelArchive.Key.seed].contains($0.key) }
        metadata[ModelArchive.Key.initialization] = start.continued == nil ? "dbn" : "continued from \(weights)"
        metadata[ModelArchive.Key.fineTuning] = ModelArchive.json(configuration)
        metadata.merge(provenance.forModelFile.metadata) { $1 }
        try ModelArchive.archive(network: result.network, stack: stack, metadata: metadata).write(to: output)
        let best = result.reports.first { $0.epoch == result.bestEpoch } ?? result.reports.last
        console.say("Test error: \(percent(best?.testError)). Model written to \(output)")
        try console.emitJSON(WithProvenance(value: Summary(testError: best?.testError, bestEpoch: result.bestEpoch,
                                                           finalTrainLoss: result.reports.last?.trainLoss, seconds: seconds,
                                                           layerSizes: network.sizes, output: output),
                                            provenance: provenance))
    }
}

/// Where `dbn finetune` starts: a stack to unroll, or a network to continue.
struct FinetuneStart {
    /// The network to continue (a network file), or nil (a stack file: unroll it).
    let continued: Network?
    /// The RBM stack of the file, when it has one (kept in the output file).
    let stack: DeepBeliefNetwork?

    /// The inputs of the network or stack.
    var inputs: Int { continued?.inputCount ?? stack!.layerSizes[0] }

    /// Reads the start from `loaded`; `activation` (the flag, if given) must match a network's.
    init(_ loaded: LoadedModel, activation: Activation?) throws {
        switch loaded.kind {
        case .rbmStack:
            continued = nil
            stack = try loaded.stack()
        case .network:
            let network: Network
            if ModelArchive.isTorchStateDict(loaded.file) {
                // The flag supplies the activation a plain state_dict cannot hold.
                let missing = loaded.file.metadata[ModelArchive.Key.activation] == nil
                network = try ModelArchive.torchNetwork(from: loaded.file, activation: missing ? activation : nil)
            } else {
                network = try loaded.network()
            }
            if let activation, activation != network.hiddenActivation {
                throw CLIError("\(loaded.path): --activation \(activation.name) differs from the network's \(network.hiddenActivation.name); a saved network continues with its own activation (drop --activation)")
            }
            continued = network
            stack = loaded.hasStack ? try loaded.stack() : nil
        }
    }
}

import ArgumentParser
import DeepBelief
import Foundation

/// `dbn finetune`: unrolls a saved RBM stack into a network and fine-tunes it.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a saved RBM stack (from dbn pretrain) with a fresh softmax output layer.")

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var common: RunOptions
    @OptionGroup var fineTuning: FineTuningOptions
    @OptionGroup var activationOption: ActivationOption
    @OptionGroup var checkpoints: CheckpointOptions
    @OptionGroup var tensorboard: TensorBoardOptions

    @Option(help: "The RBM stack to start from (safetensors written by dbn pretrain or dbn train).")
    var weights: String

    @Option(help: "Where to write the fine-tuned model (safetensors).")
    var output: String = "model.safetensors"

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
        let file = try SafeTensors.read(from: weights)
        let stack = try ModelArchive.stack(from: file)
        if stack.labelCount > 0 {
            throw CLIError("\(weights): a generative DBN (label units in the top RBM) cannot be unrolled into a network; use dbn evaluate to classify with it")
        }
        let data = try dataOptions.load()
        try ModelArchive.requireFits(file: weights, inputs: stack.layerSizes[0], outputs: nil,
                                     pixels: data.pixelCount, classes: nil)
        let activation = activationOption.activation
        let configuration = try fineTuning.configuration(seed: common.seed)
        let training = try data.labeledTraining()
        let test = try data.labeledTest()
        var generator = Xoshiro256StarStar(seed: common.seed &+ 1)
        let network = try Network(pretrained: stack, outputCount: data.classCount, hiddenActivation: activation,
                                  generator: &generator)
        let fingerprint = ModelArchive.json(["command": "finetune", "weights": weights, "sizes": "\(network.sizes)",
                                             "config": ModelArchive.json(configuration), "activation": activation.name])
        let runner = try TrainingOutput(console: console, logPath: common.log, tensorboard: tensorboard, checkpoints: checkpoints,
                                       fingerprint: fingerprint)
        let (result, seconds) = try runner.finetune(network, data: training, test: test, configuration: configuration,
                                                    name: "finetune", title: "Fine-tuning \(weights)")
        var metadata = file.metadata.filter { [ModelArchive.Key.inputShape, ModelArchive.Key.pretraining, ModelArchive.Key.seed].contains($0.key) }
        metadata[ModelArchive.Key.initialization] = "dbn"
        metadata[ModelArchive.Key.fineTuning] = ModelArchive.json(configuration)
        try ModelArchive.archive(network: result.network, stack: stack, metadata: metadata).write(to: output)
        let best = result.reports.first { $0.epoch == result.bestEpoch } ?? result.reports.last
        console.say("Test error: \(percent(best?.testError)). Model written to \(output)")
        try console.emitJSON(Summary(testError: best?.testError, bestEpoch: result.bestEpoch,
                                     finalTrainLoss: result.reports.last?.trainLoss, seconds: seconds,
                                     layerSizes: network.sizes, output: output))
    }
}

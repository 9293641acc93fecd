import DeepBelief
import Foundation
import Testing

/// The library's training runs: checkpoints, interruption and resumption without the CLI.
@Suite(.serialized)
struct TrainingRunTests {
    static func images() -> Matrix {
        var g = Xoshiro256StarStar(seed: 3)
        return Matrix(rows: 60, columns: 16, elements: (0..<960).map { _ in g.nextFloat() })
    }

    static func stack() -> DeepBeliefNetwork {
        var g = Xoshiro256StarStar(seed: 5)
        return DeepBeliefNetwork(layerSizes: [16, 8, 6], generator: &g)
    }

    static let configuration = RBMTrainingConfiguration(epochs: 3, batchSize: 10, seed: 9)
    /// Plain CD-1; parallel tempering (its chains, ladder and swap counts go through the
    /// checkpoint file); centered PCD (its hidden offsets too).
    static let configurations: [RBMTrainingConfiguration] = {
        var tempered = configuration; tempered.persistent = true; tempered.temperatures = 3
        var centered = configuration; centered.persistent = true; centered.centered = true
        return [configuration, tempered, centered]
    }()

    @Test(arguments: configurations.indices)
    func interruptedThenResumedEndsBitIdenticalAndFinishedPhasesAreRestored(_ index: Int) throws {
        let configuration = Self.configurations[index]
        var uninterrupted = Self.stack()
        let seconds = try TrainingRun().pretrain(&uninterrupted, on: Self.images(), configuration: configuration)
        #expect(seconds >= 0)
        #expect(uninterrupted != Self.stack())

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("training-run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var interrupted = Self.stack()
        var epochs = 0
        #expect(throws: TrainingInterrupted.self) {
            try TrainingRun(checkpointFolder: folder, fingerprint: "test").pretrain(
                &interrupted, on: Self.images(), configuration: configuration) { _, _ in
                epochs += 1
                if epochs == 4 { TrainingRun.requestInterrupt() }  // during the second RBM
            }
        }
        #expect(epochs == 4)

        let resumed = try TrainingRun(checkpointFolder: folder, resume: true, fingerprint: "test")
        #expect(resumed.resumedPhase == "pretrain")
        #expect(!resumed.isFinished("pretrain"))
        var continued = Self.stack()
        try resumed.pretrain(&continued, on: Self.images(), configuration: configuration) { _, _ in epochs += 1 }
        #expect(epochs == 6)
        #expect(continued == uninterrupted)

        // A finished phase comes back from the checkpoint without training.
        let again = try TrainingRun(checkpointFolder: folder, resume: true, fingerprint: "test")
        #expect(again.isFinished("pretrain"))
        var restored = Self.stack()
        try again.pretrain(&restored, on: Self.images(), configuration: configuration) { _, _ in epochs += 1 }
        #expect(epochs == 6 && restored == uninterrupted)

        // Another run's checkpoint is refused.
        #expect(throws: CheckpointError.self) { try TrainingRun(checkpointFolder: folder, resume: true, fingerprint: "other") }
    }

    @Test func checkpointsRoundTripStacksAndNetworksThroughTheModelReader() throws {
        var checkpoint = Checkpoint(fingerprint: "")
        let stack = Self.stack()
        checkpoint.setStack(stack, prefix: "a")
        #expect(try checkpoint.stack(prefix: "a") == stack)
        #expect(try checkpoint.stack(prefix: "b") == nil)
        var g = Xoshiro256StarStar(seed: 1)
        let network = try Network(pretrained: stack, outputCount: 3, hiddenActivation: .tanh, generator: &g)
        checkpoint.setNetwork(network, prefix: "n")
        let back = try #require(try checkpoint.network(prefix: "n"))
        #expect(back.sizes == network.sizes && back.hiddenActivation == .tanh)
        #expect(zip(back.layers, network.layers).allSatisfy { $0.weight == $1.weight && $0.bias == $1.bias })
    }

    // MARK: Fine-tuning through the checkpoint file: batch normalisation, maxout, older checkpoints

    static func labeled() throws -> LabeledData {
        try LabeledData(inputs: images(), labels: (0..<60).map { $0 % 3 }, classCount: 3)
    }

    static let adam = Optimizer.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)

    /// 4 epochs of batch 10 with a validation split of 12 (so a best network is kept).
    static func fineTuning(_ optimizer: Optimizer) -> TrainingConfiguration {
        TrainingConfiguration(epochs: 4, batchSize: 10, optimizer: optimizer, learningRate: 0.05, validationCount: 12, seed: 2)
    }

    /// A 16-8-6-3 network, batch-normalised unless `batchNorm` is false (maxout: 3 pieces per unit).
    static func network(_ activation: Activation, batchNorm: Bool = true) throws -> Network {
        var g = Xoshiro256StarStar(seed: 6)
        let network = try Network(sizes: [16, 8, 6, 3], hiddenActivation: activation, maxoutPieces: 3, initializer: .heNormal,
                                  generator: &g)
        return batchNorm ? network.withBatchNormalization() : network
    }

    /// The bytes of `network`'s model file.
    static func modelBytes(_ network: Network) throws -> [UInt8] { try ModelArchive.archive(network: network).encode() }

    /// Fine-tunes `network` in a run with a checkpoint in `folder`, interrupted after `epochs` epochs.
    static func interruptedFineTuning(_ network: Network, _ configuration: TrainingConfiguration, folder: String,
                                      after epochs: Int) throws {
        var seen = 0
        #expect(throws: TrainingInterrupted.self) {
            _ = try TrainingRun(checkpointFolder: folder, fingerprint: "test").finetune(
                network, data: try labeled(), test: nil, configuration: configuration) { _ in
                seen += 1
                if seen == epochs { TrainingRun.requestInterrupt() }
            }
        }
        #expect(seen == epochs)
    }

    /// Resumes the fine-tuning in `folder`.
    static func resumedFineTuning(_ network: Network, _ configuration: TrainingConfiguration,
                                  folder: String) throws -> TrainingResult {
        try TrainingRun(checkpointFolder: folder, resume: true, fingerprint: "test")
            .finetune(network, data: try labeled(), test: nil, configuration: configuration).result
    }

    static func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("training-run-\(UUID().uuidString)").path
    }

    /// A batch-normalised run (ReLU with SGD and momentum; maxout with Adam) stopped after
    /// epoch k and resumed from its checkpoint file ends with the uninterrupted run's model
    /// file, byte for byte: gamma, beta, the running statistics, gamma's moments and the best
    /// network's copy all go through the file.
    @Test(arguments: [(Activation.relu, Optimizer.sgd, 2), (.maxout, adam, 1), (.maxout, adam, 3)])
    func batchNormalisedFineTuningResumesFromTheFileToTheSameBytes(activation: Activation, optimizer: Optimizer,
                                                                  k: Int) throws {
        let network = try Self.network(activation), configuration = Self.fineTuning(optimizer)
        let uninterrupted = try TrainingRun().finetune(network, data: try Self.labeled(), test: nil,
                                                       configuration: configuration).result
        #expect(uninterrupted.network.batchNorm[0].runningMean.contains { $0 != 0 })
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.interruptedFineTuning(network, configuration, folder: folder, after: k)
        let saved = try Checkpoint.read(from: folder + "/" + TrainingRun.checkpointName, fingerprint: "test")
        for name in ["moment.0.bn_weight", "moment.1.bn_weight", "second_moment.1.bn_weight", "network.1.bn_running_var",
                     "best.0.bn_weight"] {
            #expect(saved.file["finetune.progress.\(name)"] != nil, "\(name) is not in the checkpoint")
        }
        #expect(saved.file["finetune.progress.moment.2.bn_weight"] == nil)  // the output layer has none
        let resumed = try Self.resumedFineTuning(network, configuration, folder: folder)
        #expect(try Self.modelBytes(resumed.network) == Self.modelBytes(uninterrupted.network), "resumed after epoch \(k)")
        #expect(resumed.bestEpoch == uninterrupted.bestEpoch)
        #expect(resumed.reports.map(\.trainLoss) == uninterrupted.reports.map(\.trainLoss))
    }

    /// A damaged batch-normalised checkpoint is refused in one line naming the file and the
    /// tensor: a negative, NaN or infinite running variance, an infinite gamma of the best
    /// network, gamma's moments of the wrong length or not finite, a running mean of the wrong
    /// shape, a missing moment (as in a checkpoint of a version that did not save them).
    @Test func damagedBatchNormalisedCheckpointsAreRefusedNamingTheTensor() throws {
        let network = try Self.network(.relu), configuration = Self.fineTuning(Self.adam)
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.interruptedFineTuning(network, configuration, folder: folder, after: 2)
        let path = folder + "/" + TrainingRun.checkpointName
        let intact = try Checkpoint.read(from: path, fingerprint: "test")
        typealias Damage = (tensor: String, change: ([Float]) -> [Float]?, phrase: String)
        func set(_ index: Int, _ value: Float) -> ([Float]) -> [Float]? { { var v = $0; v[index] = value; return v } }
        let damages: [Damage] = [
            ("finetune.progress.network.0.bn_running_var", set(3, -1), "negative variance"),
            ("finetune.progress.network.1.bn_running_var", set(0, .nan), "NaN or infinite"),
            ("finetune.progress.network.0.bn_running_var", set(0, .infinity), "NaN or infinite"),
            ("finetune.progress.best.1.bn_weight", set(2, -.infinity), "NaN or infinite"),
            ("finetune.progress.moment.0.bn_weight", { Array($0.dropLast()) }, "holds 7 values, expected 8"),
            ("finetune.progress.second_moment.1.bn_weight", set(1, .nan), "NaN or infinite"),
            ("finetune.progress.network.1.bn_running_mean", { Array($0.dropLast()) }, "shape"),
            ("finetune.progress.moment.0.bn_weight", { _ in nil }, "is missing"),
        ]
        for damage in damages {
            var doctored = intact
            let values = try #require(try doctored.file[damage.tensor]?.vector(), "\(damage.tensor) is not in the checkpoint")
            doctored.file[damage.tensor] = damage.change(values).map { Tensor($0) }
            try doctored.write(to: path)
            do {
                _ = try Self.resumedFineTuning(network, configuration, folder: folder)
                Issue.record("\(damage.tensor): the damaged checkpoint was accepted")
            } catch {
                let message = "\(error)"
                #expect(message.contains(path) && message.contains("'\(damage.tensor)'") && message.contains(damage.phrase)
                        && !message.contains("\n"), "\(damage.tensor): \(message)")
            }
        }
        // The intact checkpoint still resumes.
        try intact.write(to: path)
        _ = try Self.resumedFineTuning(network, configuration, folder: folder)
    }

    /// A run without batch normalisation writes no new tensor: its checkpoint holds exactly the
    /// names checkpoints held before gamma's moments were saved (so older checkpoints are of
    /// this form), and it resumes to the same bytes; maxout without batch normalisation too.
    @Test(arguments: [Activation.tanh, .maxout])
    func checkpointsWithoutBatchNormalisationKeepTheirFormAndResume(activation: Activation) throws {
        let network = try Self.network(activation, batchNorm: false), configuration = Self.fineTuning(.sgd)
        let uninterrupted = try TrainingRun().finetune(network, data: try Self.labeled(), test: nil,
                                                       configuration: configuration).result
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Self.interruptedFineTuning(network, configuration, folder: folder, after: 2)
        let saved = try Checkpoint.read(from: folder + "/" + TrainingRun.checkpointName, fingerprint: "test")
        let layers = ["0", "1", "2"]
        let expected = Set(["seed", "validation"]
            + layers.flatMap { l in ["network", "best", "moment", "second_moment"].flatMap { ["\($0).\(l).weight", "\($0).\(l).bias"] } })
        #expect(Set(saved.file.names) == Set(expected.map { "finetune.progress." + $0 }))
        let resumed = try Self.resumedFineTuning(network, configuration, folder: folder)
        #expect(try Self.modelBytes(resumed.network) == Self.modelBytes(uninterrupted.network))
    }
}

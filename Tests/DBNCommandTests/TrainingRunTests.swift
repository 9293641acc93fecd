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
}

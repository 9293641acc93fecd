import DeepBelief
import Foundation
import Testing

/// Batch-normalised and maxout networks through model files and checkpoints.
@Suite struct BatchNormModelFileTests {
    /// A 12-10-8-3 network with batch normalisation (running statistics moved by a few steps)
    /// and, for maxout, 3 pieces per unit.
    static func trained(_ activation: Activation) throws -> Network {
        var g = Xoshiro256StarStar(seed: 4)
        let start = try Network(sizes: [12, 10, 8, 3], hiddenActivation: activation, maxoutPieces: 3,
                                initializer: .heNormal, generator: &g).withBatchNormalization()
        let inputs = Matrix.normal(rows: 30, columns: 12, using: &g)
        let data = try LabeledData(inputs: inputs, labels: (0..<30).map { $0 % 3 }, classCount: 3)
        let stepper = try FineTuningStepper(network: start, configuration: TrainingConfiguration(batchSize: 10, learningRate: 0.1))
        for m in 0..<3 { stepper.step(on: data, rows: Array((10 * m)..<(10 * m + 10))[...], epoch: 1, minibatch: m) }
        return stepper.network
    }

    @Test(arguments: [Activation.relu, .maxout])
    func modelFilesAndCheckpointsRoundTrip(activation: Activation) throws {
        let network = try Self.trained(activation)
        #expect(network.batchNorm[0].runningMean.contains { $0 != 0 })
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bn-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/model.safetensors"
        let file = ModelArchive.archive(network: network)
        #expect(file.metadata[ModelArchive.Key.batchNorm] == "true")
        #expect(file.metadata[ModelArchive.Key.maxoutPieces] == (activation == .maxout ? "3" : nil))
        try file.write(to: path)
        let back = try ModelArchive.network(from: SafeTensors.read(from: path))
        #expect(back == network)
        var g = Xoshiro256StarStar(seed: 9)
        let inputs = Matrix.normal(rows: 5, columns: 12, using: &g)
        #expect(back.predict(inputs) == network.predict(inputs))

        var checkpoint = Checkpoint(fingerprint: "")
        checkpoint.setNetwork(network, prefix: "n")
        #expect(try checkpoint.network(prefix: "n") == network)
    }

    @Test func aBadMaxoutPieceCountIsNamed() throws {
        var file = ModelArchive.archive(network: try Self.trained(.maxout))
        file.metadata[ModelArchive.Key.maxoutPieces] = "0"
        #expect(throws: ModelFileError.self) { try ModelArchive.network(from: file) }
        var relu = ModelArchive.archive(network: try Self.trained(.relu))
        relu.metadata[ModelArchive.Key.batchNorm] = "yes"
        #expect(throws: ModelFileError.self) { try ModelArchive.network(from: relu) }
        relu.metadata[ModelArchive.Key.batchNorm] = "true"
        relu["layers.1.bn_running_var"] = nil
        #expect(throws: (any Error).self) { try ModelArchive.network(from: relu) }
    }
}

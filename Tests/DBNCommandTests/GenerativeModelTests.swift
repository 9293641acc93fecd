import DeepBelief
import Foundation
import Testing

/// Generative DBNs (labels in the top RBM, up-down) through the model files, checkpoints and
/// training runs.
@Suite(.serialized)
struct GenerativeModelTests {
    /// 48 images of 30 pixels in 3 classes (class c lights pixels 10c ..< 10c + 10, noisily).
    static func data() -> (Matrix, [Int]) {
        var g = Xoshiro256StarStar(seed: 3)
        let labels = (0..<48).map { $0 % 3 }
        let images = Matrix(rows: 48, columns: 30, elements: labels.flatMap { c in
            (0..<30).map { p in (p / 10 == c ? 0.8 : 0.1) + 0.1 * g.nextFloat() }
        })
        return (images, labels)
    }

    /// A greedily trained 30-100-(300 with 10 labels) DBN: the top RBM's product (110 x 300
    /// per row) is large enough to be split into several blocks.
    static func greedy(threads: Int = 1, discriminativeWeight: Float = 0) throws -> GenerativeDeepBeliefNetwork {
        let before = (Lanes.threads, BLASThreads.count)
        Lanes.setThreads(threads)
        BLASThreads.set(threads)  // as `--threads` sets both
        defer { Lanes.setThreads(before.0); BLASThreads.set(before.1) }
        let (images, labels) = data()
        var g = Xoshiro256StarStar(seed: 5)
        var stack = DeepBeliefNetwork(layerSizes: [30, 100, 300], labelCount: 10, generator: &g)
        try TrainingRun().pretrain(&stack, on: images,
                                   configuration: RBMTrainingConfiguration(epochs: 2, batchSize: 16,
                                                                           discriminativeWeight: discriminativeWeight),
                                   labels: labels)
        return GenerativeDeepBeliefNetwork(stack: stack)
    }

    static let upDown = UpDownConfiguration(epochs: 3, batchSize: 16, learningRate: 0.05, cdSchedule: [1, 2, 3], seed: 7)

    @Test func labelsAndGenerativeWeightsRoundTripThroughModelFilesUnderTheirOwnNames() throws {
        var model = try Self.greedy()
        let (images, labels) = Self.data()
        let tied = try ModelArchive.generative(from: .decode(ModelArchive.archive(generative: model).encode()))
        #expect(tied == model && !tied.isUntied)
        try TrainingRun().upDown(&model, on: images, labels: labels, configuration: Self.upDown)
        let file = try SafeTensors.decode(ModelArchive.archive(generative: model).encode())
        #expect(file.metadata[ModelArchive.Key.labelCount] == "10")
        #expect(file.metadata[ModelArchive.Key.generative] == "up-down")
        #expect(file["rbm.1.weight"]?.shape == [100, 300] && file["rbm.1.label_weight"]?.shape == [10, 300])
        #expect(file["rbm.1.label_bias"]?.shape == [10] && file["generative.0.weight"]?.shape == [30, 100])
        let read = try ModelArchive.generative(from: file)
        #expect(read == model && read.isUntied)
        // A stack without labels is no generative DBN, and says so.
        var g = Xoshiro256StarStar(seed: 1)
        let plain = try SafeTensors.decode(ModelArchive.archive(stack: DeepBeliefNetwork(layerSizes: [30, 8], generator: &g)).encode())
        #expect(try ModelArchive.stack(from: plain).labelCount == 0)
        #expect(throws: ModelFileError.self) { try ModelArchive.generative(from: plain) }
    }

    /// `upDown` with a persistent top phase or without.
    static func upDown(persistent: Bool) -> UpDownConfiguration {
        var configuration = upDown
        configuration.training.persistent = persistent
        return configuration
    }

    /// (The persistent run's chains travel through the checkpoint file: without them the
    /// resumed run is refused.)
    @Test(arguments: [false, true])
    func upDownInterruptedThenResumedThroughATrainingRunEndsBitIdentical(persistent: Bool) throws {
        let (images, labels) = Self.data()
        let configuration = Self.upDown(persistent: persistent)
        var uninterrupted = try Self.greedy()
        try TrainingRun().upDown(&uninterrupted, on: images, labels: labels, configuration: configuration)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("up-down-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var interrupted = try Self.greedy()
        #expect(throws: TrainingInterrupted.self) {
            try TrainingRun(checkpointFolder: folder, fingerprint: "t").upDown(
                &interrupted, on: images, labels: labels, configuration: configuration) { report in
                if report.epoch == 0 { TrainingRun.requestInterrupt() }
            }
        }
        let resumed = try TrainingRun(checkpointFolder: folder, resume: true, fingerprint: "t")
        #expect(resumed.resumedPhase == "up-down")
        var continued = try Self.greedy()
        var epochs: [Int] = []
        try resumed.upDown(&continued, on: images, labels: labels, configuration: configuration) { epochs.append($0.epoch) }
        #expect(epochs == [1, 2])
        #expect(continued == uninterrupted)
        // Persistent chains make another model than CD-k's.
        var other = try Self.greedy()
        try TrainingRun().upDown(&other, on: images, labels: labels, configuration: Self.upDown(persistent: !persistent))
        #expect(other != uninterrupted)
    }

    @Test(arguments: [(Float(0), false), (1, false), (0, true)])
    func greedyWithLabelsAndUpDownGiveTheSameBitsOnOneTwoOrThreeThreads(discriminativeWeight: Float, persistent: Bool) throws {
        let (images, labels) = Self.data()
        var upDown = Self.upDown(persistent: persistent)
        upDown.training.discriminativeWeight = discriminativeWeight
        func trained(threads: Int) throws -> GenerativeDeepBeliefNetwork {
            var model = try Self.greedy(threads: threads, discriminativeWeight: discriminativeWeight)
            let before = (Lanes.threads, BLASThreads.count)
            Lanes.setThreads(threads)
            BLASThreads.set(threads)
            defer { Lanes.setThreads(before.0); BLASThreads.set(before.1) }
            try TrainingRun().upDown(&model, on: images, labels: labels, configuration: upDown)
            return model
        }
        let one = try trained(threads: 1)
        let bytes = try ModelArchive.archive(generative: one).encode()
        #expect(try ModelArchive.archive(generative: trained(threads: 2)).encode() == bytes)
        #expect(try ModelArchive.archive(generative: trained(threads: 3)).encode() == bytes)
    }
}

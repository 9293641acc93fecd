import Foundation
import Linalg
import Testing
@testable import Pretraining

// Figures on the real MNIST, opt-in: DBN_FULL_TESTS=1 swift test -c release --filter PretrainingTests
//
// There is no IDX reader in this module's dependencies: the gzipped files in datasets/mnist are
// decompressed with `gunzip -c` into a temporary folder (or DBN_MNIST_DIR, if set, holding the
// uncompressed files) and read here.

private let fullTests = ProcessInfo.processInfo.environment["DBN_FULL_TESTS"] == "1"

/// The images of an uncompressed IDX file with magic 0x00000803 (unsigned bytes, rank 3), as
/// a Matrix of shape (n, rows * columns) with pixels / 255.
func loadMNISTImagesForExperiments(named name: String) throws -> Matrix {
    let environment = ProcessInfo.processInfo.environment
    let folder = environment["DBN_MNIST_DIR"] ?? NSTemporaryDirectory() + "dbn-pretraining-mnist"
    let path = folder + "/" + name
    if !FileManager.default.fileExists(atPath: path) {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let gz = repository.appendingPathComponent("datasets/mnist/\(name).gz").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gunzip -c '\(gz)' > '\(path).partial' && mv '\(path).partial' '\(path)'"]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw MNISTFileError(path: gz, message: "gunzip failed with status \(process.terminationStatus)")
        }
    }
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    func u32(_ offset: Int) -> Int { bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) } }
    guard bytes.count >= 16, u32(0) == 0x0000_0803 else {
        throw MNISTFileError(path: path, message: "expected the IDX magic 0x00000803 (unsigned bytes, rank 3)")
    }
    let (n, rows, columns) = (u32(4), u32(8), u32(12))
    guard bytes.count == 16 + n * rows * columns else {
        throw MNISTFileError(path: path, message: "expected \(16 + n * rows * columns) bytes for \(n)x\(rows)x\(columns), found \(bytes.count)")
    }
    var images = Matrix(rows: n, columns: rows * columns)
    bytes.withUnsafeBytes { raw in
        let pixels = raw.bindMemory(to: UInt8.self)
        images.elements.withUnsafeMutableBufferPointer { out in
            for k in 0..<out.count { out[k] = Float(pixels[16 + k]) / 255 }
        }
    }
    return images
}

struct MNISTFileError: Error, CustomStringConvertible {
    var path: String, message: String
    var description: String { "\(path): \(message)" }
}

@Suite("MNIST figures (DBN_FULL_TESTS=1)", .serialized, .enabled(if: fullTests))
struct MNISTExperimentTests {
    @Test("CD-1 784 -> 500 on the 60,000 training images: seconds and reconstruction error per epoch")
    func cd1Figures() throws {
        BLASThreads.set(2)
        let images = try loadMNISTImagesForExperiments(named: "train-images-idx3-ubyte")
        #expect(images.rows == 60_000 && images.columns == 784)
        let configuration = RBMTrainingConfiguration(epochs: 5, batchSize: 100, learningRate: 0.1, initialMomentum: 0.5,
                                                     finalMomentum: 0.9, momentumSwitchEpoch: 5, weightCost: 2e-4, seed: 1)
        for (name, initialization) in [("practical guide: W ~ N(0, 0.01^2), visible log-odds", RBMInitialization.practicalGuide),
                                       ("rbm.m: W ~ 0.1 N(0, 1), biases 0", .hintonSalakhutdinov2006)] {
            var g = configuration.makeGenerator()
            var rbm = RBM(visibleCount: 784, hiddenCount: 500, initialization: initialization, data: images, generator: &g)
            print("[MNIST CD-1] \(name), \(BLASThreads.count) BLAS threads")
            var reports: [RBMEpochReport] = []
            try rbm.train(on: images, configuration: configuration, generator: &g) { report in
                reports.append(report)
                print("[MNIST CD-1] epoch \(report.epoch + 1): \(String(format: "%.3f", report.seconds)) s, "
                      + "error per image \(String(format: "%.2f", report.reconstructionError)), "
                      + "summed over 60,000 images \(String(format: "%.0f", report.summedReconstructionError))")
            }
            let seconds = reports.map(\.seconds)
            print("[MNIST CD-1] mean \(String(format: "%.3f", seconds.reduce(0, +) / 5)) s per epoch, "
                  + "median \(String(format: "%.3f", seconds.sorted()[2])) s")
            #expect(reports.count == 5)
            #expect(reports[4].summedReconstructionError < 0.7 * reports[0].summedReconstructionError)
            #expect(reports[4].reconstructionError < 10)
        }
    }

    @Test("AIS estimate of log Z after CD-1 on stochastically binarised MNIST")
    func aisFigures() throws {
        BLASThreads.set(2)
        var g = Xoshiro256StarStar(seed: 2)
        var train = try loadMNISTImagesForExperiments(named: "train-images-idx3-ubyte")
        var test = try loadMNISTImagesForExperiments(named: "t10k-images-idx3-ubyte")
        // Stochastic binarisation, once (the released code's `data > rand`).
        for k in train.elements.indices { train.elements[k] = g.nextFloat() < train.elements[k] ? 1 : 0 }
        for k in test.elements.indices { test.elements[k] = g.nextFloat() < test.elements[k] ? 1 : 0 }
        let epochs = Int(ProcessInfo.processInfo.environment["DBN_AIS_EPOCHS"] ?? "5") ?? 5
        let configuration = RBMTrainingConfiguration(epochs: epochs, learningRate: 0.05, seed: 3)
        var rbm = RBM(visibleCount: 784, hiddenCount: 500, data: train, generator: &g)
        try rbm.train(on: train, configuration: configuration, generator: &g) { report in
            print("[MNIST AIS] CD-1 epoch \(report.epoch + 1): \(String(format: "%.2f", report.seconds)) s, "
                  + "error per image \(String(format: "%.2f", report.reconstructionError))")
        }
        let ais = AISConfiguration(runs: 100, temperatureCount: 14_500)
        let clock = ContinuousClock()
        let start = clock.now
        let result = try rbm.annealedImportanceSampling(baseVisibleBias: RBM.baseRateVisibleBias(for: train),
                                                        configuration: ais, generator: &g)
        let seconds = (clock.now - start).seconds
        let testLL = rbm.averageLogLikelihood(test, logPartition: result.logZ)
        let trainLL = rbm.averageLogLikelihood(train.rows(in: 0..<10_000), logPartition: result.logZ)
        print("[MNIST AIS] \(epochs) epochs CD-1 (lr 0.05, batch 100, momentum 0.5/0.9, weight cost 2e-4), "
              + "AIS M=\(ais.runs), K=\(ais.temperatureCount) in \(String(format: "%.1f", seconds)) s: "
              + "log Z = \(String(format: "%.2f", result.logZ)) [\(String(format: "%.2f", result.logZLow)), "
              + "\(String(format: "%.2f", result.logZHigh))], sd \(String(format: "%.3f", result.standardDeviation)); "
              + "average log p: test \(String(format: "%.2f", testLL)), train (first 10,000) \(String(format: "%.2f", trainLL)) nats")
        #expect(result.logZ.isFinite && testLL < -50 && testLL > -250)
    }
}

import Foundation
import Testing
import Linalg
@testable import FineTuning

// Opt-in: DBN_FULL_TESTS=1, release build, on raw IDX copies made with
//   mkdir -p /tmp/mnist-idx && for f in /work/h-ft/datasets/mnist/*.gz; do
//     gunzip -c "$f" > /tmp/mnist-idx/$(basename "$f" .gz); done
// (another folder through DBN_MNIST_RAW_DIR). Prints test error and seconds per epoch of the
// 784-500-500-2000-10 network, sigmoid vs ReLU from Xavier and He starts, SGD momentum 0.9,
// batch 100, 2 BLAS threads. DBN_FT_EPOCHS (default 3), DBN_FT_RATE (default 0.05) and
// DBN_FT_THREADS (default 2) adjust.

/// A minimal raw-IDX reader for this test (the IDX module is written elsewhere).
enum RawIDX {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// The big-endian u32 at `offset`.
    static func u32(_ bytes: [UInt8], _ offset: Int) -> Int {
        Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    }

    /// Images as a (count x rows*columns) matrix scaled to [0, 1].
    static func images(_ path: String) throws -> Matrix {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(description: "cannot read \(path)") }
        let bytes = [UInt8](data)
        guard bytes.count >= 16, u32(bytes, 0) == 0x0000_0803 else {
            throw Failure(description: "\(path): expected the images magic 0x00000803")
        }
        let count = u32(bytes, 4), pixels = u32(bytes, 8) * u32(bytes, 12)
        guard bytes.count == 16 + count * pixels else {
            throw Failure(description: "\(path): expected \(16 + count * pixels) bytes, found \(bytes.count)")
        }
        return Matrix(rows: count, columns: pixels, elements: bytes[16...].map { Float($0) / 255 })
    }

    /// Labels 0...9.
    static func labels(_ path: String) throws -> [Int] {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(description: "cannot read \(path)") }
        let bytes = [UInt8](data)
        guard bytes.count >= 8, u32(bytes, 0) == 0x0000_0801 else {
            throw Failure(description: "\(path): expected the labels magic 0x00000801")
        }
        let count = u32(bytes, 4)
        guard bytes.count == 8 + count else { throw Failure(description: "\(path): expected \(8 + count) bytes, found \(bytes.count)") }
        return bytes[8...].map { Int($0) }
    }
}

@Suite(.enabled(if: ProcessInfo.processInfo.environment["DBN_FULL_TESTS"] == "1"))
struct MNISTSanityTests {
    let environment = ProcessInfo.processInfo.environment

    func load(_ prefix: String) throws -> LabeledData {
        let folder = environment["DBN_MNIST_RAW_DIR"] ?? "/tmp/mnist-idx"
        return try LabeledData(inputs: try RawIDX.images("\(folder)/\(prefix)-images-idx3-ubyte"),
                               labels: try RawIDX.labels("\(folder)/\(prefix)-labels-idx1-ubyte"), classCount: 10)
    }

    @Test func sigmoidAndReLUFromXavierAndHe() throws {
        BLASThreads.set(Int(environment["DBN_FT_THREADS"] ?? "") ?? 2)
        let train = try load("train"), test = try load("t10k")
        #expect(train.count == 60_000 && test.count == 10_000)
        let epochs = Int(environment["DBN_FT_EPOCHS"] ?? "") ?? 3
        let rate = Float(environment["DBN_FT_RATE"] ?? "") ?? 0.05
        let comparison = Comparison(
            sizes: [784, 500, 500, 2000, 10],
            starts: [ComparisonStart(.xavierUniform), ComparisonStart(.heNormal)],
            activations: [.sigmoid, .relu],
            configuration: TrainingConfiguration(epochs: epochs, batchSize: 100, learningRate: rate, momentum: 0.9, seed: 1))
        let rows = try comparison.run(data: train, test: test, onEpoch: { key, report in
            print("[FineTuning] \(key.start.name) \(key.activation.name) \(report.summary)")
        }).rows
        print(Comparison.markdownTable(rows))
        for row in rows {
            let perEpoch = row.reports.map(\.seconds)
            print("\(row.start) \(row.activation): seconds per epoch \(perEpoch.map { formatFixed($0, 2) }.joined(separator: ", "))")
        }
        // Loose sanity: ReLU from He must learn MNIST.
        let relu = rows.first { $0.start == "he-normal" && $0.activation == "relu" }!
        #expect(relu.testError! < 0.05)
    }

    /// The benchmark shape alone: one epoch of 784-500-500-2000-10, sigmoid, SGD momentum 0.9,
    /// batch 100, 2 threads; prints the seconds of the minibatch loop (DBN_FT_EPOCHS epochs).
    @Test func oneEpochSpeed() throws {
        BLASThreads.set(Int(environment["DBN_FT_THREADS"] ?? "") ?? 2)
        let train = try load("train")
        var g = Xoshiro256StarStar(seed: 1)
        let network = try Network(sizes: [784, 500, 500, 2000, 10], hiddenActivation: .sigmoid,
                                  initializer: .xavierUniform, generator: &g)
        let epochs = Int(environment["DBN_FT_EPOCHS"] ?? "") ?? 1
        let configuration = TrainingConfiguration(epochs: epochs, batchSize: 100, learningRate: 0.05, momentum: 0.9,
                                                  diagnosticRows: 0, seed: 1)
        let result = try Trainer(configuration: configuration).train(network, data: train, generator: &g) { report, _ in
            print("[FineTuning] speed: \(report.summary)")
        }
        #expect(result.reports.count == epochs)
    }
}

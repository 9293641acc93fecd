import DeepBelief
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The data the benchmarks step through: the real MNIST training set (pixels / 255) when it
/// can be found, else synthetic stand-ins of the same shape.
enum TrainingData {
    /// Where MNIST is looked for: `$DBN_MNIST`, then the repository's `datasets/mnist` (found
    /// from this file's path, so the working directory does not matter).
    static var mnistFolder: String {
        if let folder = environment("DBN_MNIST") { return folder }
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)  // Benchmarks/Benchmarks/DeepBeliefBenchmarks/TrainingData.swift
        return (parts + ["datasets", "mnist"]).joined(separator: "/")
    }

    /// The labelled training set (60,000 x 784, one-hot targets of 10 classes), loaded once.
    /// Says on standard error which it is.
    static let labeled: LabeledData = {
        do {
            let data = try DataSet.load(folder: mnistFolder).labeledTraining()
            note("MNIST from \(mnistFolder)")
            return data
        } catch {
            note("synthetic binary data, 19% ones (MNIST not loaded: \(error))")
            return synthetic(rows: 10_000)
        }
    }()

    /// Binary rows of 784 pixels with about 19% ones (MNIST's mean intensity is 0.13, its
    /// share of non-zero pixels 19%) and random labels of 10 classes.
    static func synthetic(rows: Int) -> LabeledData {
        var g = Xoshiro256StarStar(seed: 7)
        var inputs = Matrix(rows: rows, columns: 784)
        for i in inputs.elements.indices { inputs.elements[i] = g.nextFloat() < 0.19 ? 1 : 0 }
        let labels = (0..<rows).map { _ in Int(g.next() % 10) }
        return try! LabeledData(inputs: inputs, labels: labels, classCount: 10)
    }

    /// The value of an environment variable, if set and not empty.
    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let string = String(cString: value)
        return string.isEmpty ? nil : string
    }

    /// Writes a line to standard error.
    static func note(_ message: String) {
        let line = "DeepBeliefBenchmarks: \(message)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}

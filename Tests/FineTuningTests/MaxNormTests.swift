import Linalg
import Testing
@testable import FineTuning

/// The max-norm constraint: after an update, each unit's incoming weight vector (a column of
/// W) longer than the limit is scaled back to it; shorter ones are left alone.
@Suite struct MaxNormTests {
    /// One step from the same start, with `maxNorm`, on `threads` threads: the weights.
    func stepped(maxNorm: Float?, threads: Int) throws -> [[Float]] {
        var g = Xoshiro256StarStar(seed: 80)
        let network = try Network(sizes: [30, 20, 10], hiddenActivation: .relu, initializer: .heNormal, generator: &g)
        let configuration = TrainingConfiguration(learningRate: 0.5, momentum: 0.9, maxNorm: maxNorm)
        let x = randomInputs(rows: 16, columns: 30, seed: 81)
        let data = try LabeledData(inputs: x, labels: randomLabels(count: 16, classes: 10, seed: 82), classCount: 10)
        return try withThreads(threads) {
            let stepper = try FineTuningStepper(network: network, configuration: configuration, batchSize: 16)
            stepper.step(on: data, rows: Array(0..<16)[...], learningRate: 0.5, epoch: 1, minibatch: 0)
            return stepper.network.layers.map(\.weight.elements)
        }
    }

    func columnNorm(_ w: [Float], rows: Int, columns: Int, _ j: Int) -> Double {
        (0..<rows).reduce(0.0) { $0 + Double(w[$1 * columns + j]) * Double(w[$1 * columns + j]) }.squareRoot()
    }

    @Test("long columns are scaled to the limit, short ones untouched (1 and 2 threads)", arguments: [1, 2])
    func constrainsColumns(threads: Int) throws {
        let free = try stepped(maxNorm: nil, threads: threads)
        let sizes = [30, 20, 10]
        // A limit between the shortest and the longest free column of layer 0.
        let w0 = free[0]
        let norms = (0..<20).map { columnNorm(w0, rows: 30, columns: 20, $0) }
        let limit = Float((norms.min()! + norms.max()!) / 2)
        let constrained = try stepped(maxNorm: limit, threads: threads)
        var scaled = 0
        for l in 0..<2 {
            let (rows, columns) = (sizes[l], sizes[l + 1])
            let a = free[l], b = constrained[l]
            for j in 0..<columns {
                let norm = columnNorm(a, rows: rows, columns: columns, j)
                let factor = norm > Double(limit) ? Double(limit) / norm : 1
                if factor < 1 { scaled += 1 }
                for i in 0..<rows {
                    #expect(abs(Double(b[i * columns + j]) - factor * Double(a[i * columns + j])) < 1e-5)
                }
                #expect(columnNorm(b, rows: rows, columns: columns, j) <= Double(limit) + 1e-4)
            }
        }
        #expect(scaled > 0 && scaled < 30)  // the test exercises both cases
    }

    @Test("a non-positive limit is a configuration error")
    func validates() {
        #expect(throws: FineTuningError.self) { try TrainingConfiguration(maxNorm: 0).validate() }
        #expect(throws: FineTuningError.self) { try TrainingConfiguration(maxNorm: -.infinity).validate() }
    }
}

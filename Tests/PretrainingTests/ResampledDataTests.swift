import Linalg
import Testing
@testable import Pretraining

/// `resampleBinaryData`: every use of a minibatch draws a new binary sample v0 ~ Bernoulli(data).
@Suite struct ResampledDataTests {
    @Test("each step's v0 is a fresh binary sample whose mean is the data's probability", arguments: [1, 2])
    func freshBinarySamples(threads: Int) {
        Lanes.setThreads(threads)
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 0.3, biasScale: 0.2, seed: 60)
        let configuration = RBMTrainingConfiguration(learningRate: 1e-6, resampleBinaryData: true)
        var g = Xoshiro256StarStar(seed: 61)
        let workspace = ContrastiveDivergence(rbm: rbm, configuration: configuration, capacity: 4, seed: g.next(), layer: 0)
        // Two rows of per-pixel probabilities, 0 and 1 included.
        let data = Matrix([[0, 0.1, 0.3, 0.5, 0.9, 1], [1, 0.7, 0.5, 0.2, 0.05, 0]])
        let rows = [0, 1, 0, 1]
        var sums = [Double](repeating: 0, count: 12)
        var samples: [Matrix] = []
        let steps = 4000
        for _ in 0..<steps {
            data.elements.withUnsafeBufferPointer { d in
                rows.withUnsafeBufferPointer { _ = workspace.step(data: d.baseAddress!, rows: $0) }
            }
            let v0 = workspace.lastMinibatch(rows: 4).v0
            #expect(v0.elements.allSatisfy { $0 == 0 || $0 == 1 })
            if samples.count < 2 { samples.append(v0) }
            for r in 0..<4 { for c in 0..<6 { sums[(r % 2) * 6 + c] += Double(v0[r, c]) } }
        }
        #expect(samples[0] != samples[1])
        for r in 0..<2 {
            for c in 0..<6 {
                let p = Double(data[r, c]), mean = sums[r * 6 + c] / Double(2 * steps)
                // 8000 draws: the standard error is at most 0.0056.
                #expect(abs(mean - p) < 0.025, "pixel (\(r), \(c)): mean \(mean) for p = \(p)")
            }
        }
    }

    @Test("resampling needs Bernoulli visible units: Gaussian ones give a typed error")
    func offByDefaultAndBernoulliOnly() throws {
        var g = Xoshiro256StarStar(seed: 62)
        let data = Matrix.uniform(rows: 8, columns: 5, using: &g)
        var rbm = RBM(visibleCount: 5, hiddenCount: 3, generator: &g)
        try rbm.train(on: data, configuration: RBMTrainingConfiguration(epochs: 1, batchSize: 4), generator: &g)
        var gaussian = RBM(visibleCount: 5, hiddenCount: 3, visibleUnits: .gaussian, generator: &g)
        #expect(throws: PretrainingError.self) {
            try gaussian.train(on: data, configuration: RBMTrainingConfiguration(epochs: 1, batchSize: 4,
                                                                                resampleBinaryData: true),
                               generator: &g)
        }
    }
}

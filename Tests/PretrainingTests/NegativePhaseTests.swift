import Foundation
import Linalg
import Testing
@testable import Pretraining

/// The negative-phase choices of CD-k (`negativeVisible`, `gibbsHidden`): each changes only
/// what it says, against a naive computation from the engine's own keyed draws.
@Suite("Negative-phase choices")
struct NegativePhaseTests {
    /// One CD-1 step on rows [7, 2, 9, 4] of a 10 x 6 uniform data set, with `configuration`.
    static func step(_ configuration: RBMTrainingConfiguration, rbm: RBM, seed: UInt64, threads: Int)
        -> (workspace: ContrastiveDivergence, data: Matrix, rows: [Int]) {
        Lanes.setThreads(threads)
        defer { Lanes.setThreads(2) }
        var g = Xoshiro256StarStar(seed: 41)
        let workspace = ContrastiveDivergence(rbm: rbm, configuration: configuration, capacity: 4, seed: seed, layer: 0)
        let data = Matrix.uniform(rows: 10, columns: 6, using: &g)
        let rows = [7, 2, 9, 4]
        _ = data.elements.withUnsafeBufferPointer { d in
            rows.withUnsafeBufferPointer { workspace.step(data: d.baseAddress!, rows: $0) }
        }
        return (workspace, data, rows)
    }

    @Test("sampled reconstructions: v1 = [u < sigmoid(h W^T + b)] with the step's visible stream; the rest as with means",
          arguments: [1, 3])
    func sampledVisibleReconstruction(threads: Int) {
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 0.8, biasScale: 0.5, seed: 40)
        let means = RBMTrainingConfiguration(learningRate: 0.1, weightCost: 2e-4)
        var samples = means
        samples.negativeVisible = .sample
        let a = Self.step(means, rbm: rbm, seed: 99, threads: threads)
        let b = Self.step(samples, rbm: rbm, seed: 99, threads: threads)
        let lastA = a.workspace.lastMinibatch(rows: 4), lastB = b.workspace.lastMinibatch(rows: 4)
        // The positive phase and the hidden sample are untouched by the option.
        #expect(lastA.v0 == lastB.v0 && lastA.h0 == lastB.h0 && lastA.hiddenSample == lastB.hiddenSample)
        // v1: the means of run A, sampled with the uniforms keyed (seed, visibleSample(0, 1), epoch 0, step 0).
        let stream = RandomStream(seed: 99, purpose: .visibleSample(layer: 0, step: 1), epoch: 0, step: 0)
        var expected = lastA.v1
        for r in 0..<4 { for i in 0..<6 { expected[r, i] = stream.uniform(row: r, unit: i) < lastA.v1[r, i] ? 1 : 0 } }
        #expect(lastB.v1 == expected)
        #expect(lastB.v1 != lastA.v1)
        // h1 = E[h | sampled v1], and the update is the textbook one on these statistics.
        let h1 = naiveProduct(lastB.v1, rbm.weight).map { r in r.indices.map { naiveSigmoid(r[$0] + Double(rbm.hiddenBias[$0])) } }
        var negativeH1 = lastB.negativeH1
        for k in negativeH1.elements.indices { negativeH1.elements[k] = -negativeH1.elements[k] }
        #expect(maxDifference(negativeH1, h1) < 1e-6)
        var reference = TextbookUpdate(rbm)
        reference.apply(v0: lastB.v0, v1: lastB.v1, h0: lastB.h0, h1: negativeH1, rate: 0.1, momentum: 0.5, weightCost: 2e-4)
        var result = rbm
        b.workspace.store(into: &result)
        #expect(reference.maxDifference(to: result) < 1e-6)
    }

    @Test("mean-field hidden states drive the reconstruction: v1 = sigmoid(h0 W^T + b)")
    func meanHiddenDrivesTheReconstruction() {
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 0.8, biasScale: 0.5, seed: 42)
        var configuration = RBMTrainingConfiguration()
        configuration.gibbsHidden = .mean
        let run = Self.step(configuration, rbm: rbm, seed: 7, threads: 2)
        let last = run.workspace.lastMinibatch(rows: 4)
        #expect(last.hiddenSample == last.h0)
        #expect(!last.h0.elements.allSatisfy { $0 == 0 || $0 == 1 })
        let v1 = naiveProduct(last.h0, rbm.weight.transposed()).map { r in
            r.indices.map { naiveSigmoid(r[$0] + Double(rbm.visibleBias[$0])) }
        }
        #expect(maxDifference(last.v1, v1) < 1e-6)
    }

    @Test("CD-3 with sampled reconstructions: every intermediate v is binary, the last hidden layer is the means")
    func cd3SampledStaysBinary() {
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 0.8, biasScale: 0.5, seed: 43)
        var configuration = RBMTrainingConfiguration(cdSteps: 3)
        configuration.negativeVisible = .sample
        let run = Self.step(configuration, rbm: rbm, seed: 8, threads: 2)
        let last = run.workspace.lastMinibatch(rows: 4)
        #expect(last.v1.elements.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(last.hiddenSample.elements.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(!last.negativeH1.elements.allSatisfy { $0 == 0 || $0 == -1 })
    }

    @Test("the defaults encode as before (no new keys), other values round-trip")
    func configurationJSON() throws {
        let plain = String(decoding: try JSONEncoder().encode(RBMTrainingConfiguration()), as: UTF8.self)
        for key in ["negativeVisible", "gibbsHidden", "visibleBiasStart"] { #expect(!plain.contains(key)) }
        var changed = RBMTrainingConfiguration(cdSteps: 25, growCDSteps: true)
        changed.negativeVisible = .sample
        changed.gibbsHidden = .mean
        changed.visibleBiasStart = .zero
        let data = try JSONEncoder().encode(changed)
        #expect(try JSONDecoder().decode(RBMTrainingConfiguration.self, from: data) == changed)
        #expect(try JSONDecoder().decode(RBMTrainingConfiguration.self, from: try JSONEncoder().encode(RBMTrainingConfiguration()))
                == RBMTrainingConfiguration())
    }

    @Test("visible biases start at zero when the configuration says so, from the data's log-odds otherwise")
    func visibleBiasStart() throws {
        var g = Xoshiro256StarStar(seed: 44)
        let data = Matrix.uniform(rows: 20, columns: 6, using: &g)
        let start = DeepBeliefNetwork(layerSizes: [6, 3], generator: &g)
        var zero = RBMTrainingConfiguration(epochs: 0)
        zero.visibleBiasStart = .zero
        var a = start, b = start
        var g1 = Xoshiro256StarStar(seed: 1), g2 = Xoshiro256StarStar(seed: 1)
        try a.pretrain(on: data, configuration: zero, generator: &g1)
        try b.pretrain(on: data, configuration: RBMTrainingConfiguration(epochs: 0), generator: &g2)
        #expect(a.layers[0].visibleBias == [Float](repeating: 0, count: 6))
        var fromData = start.layers[0]
        fromData.initializeVisibleBias(from: data)
        #expect(b.layers[0].visibleBias == fromData.visibleBias)
    }
}

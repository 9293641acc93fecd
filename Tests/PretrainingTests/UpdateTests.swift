import Foundation
import Linalg
import Testing
@testable import Pretraining

/// The textbook update with separate products, in double precision:
/// dW = m dW + lr ((v0^T h0 - v1^T h1) / b - wc W), W += dW; biases likewise, without decay.
struct TextbookUpdate {
    var w: [[Double]], b: [Double], c: [Double]
    var dw: [[Double]], db: [Double], dc: [Double]

    init(_ rbm: RBM) {
        w = (0..<rbm.visibleCount).map { i in (0..<rbm.hiddenCount).map { Double(rbm.weight[i, $0]) } }
        b = rbm.visibleBias.map(Double.init)
        c = rbm.hiddenBias.map(Double.init)
        dw = w.map { $0.map { _ in 0 } }
        db = b.map { _ in 0 }
        dc = c.map { _ in 0 }
    }

    mutating func apply(v0: Matrix, v1: Matrix, h0: Matrix, h1: Matrix, rate: Double, momentum: Double, weightCost: Double) {
        let n = Double(v0.rows)
        let positive = naiveProduct(v0.transposed(), h0)
        let negative = naiveProduct(v1.transposed(), h1)
        for i in w.indices {
            for j in w[i].indices {
                dw[i][j] = momentum * dw[i][j] + rate * ((positive[i][j] - negative[i][j]) / n - weightCost * w[i][j])
            }
        }
        for i in w.indices { for j in w[i].indices { w[i][j] += dw[i][j] } }
        for i in b.indices {
            var s = 0.0
            for r in 0..<v0.rows { s += Double(v0[r, i]) - Double(v1[r, i]) }
            db[i] = momentum * db[i] + rate * s / n
            b[i] += db[i]
        }
        for j in c.indices {
            var s = 0.0
            for r in 0..<h0.rows { s += Double(h0[r, j]) - Double(h1[r, j]) }
            dc[j] = momentum * dc[j] + rate * s / n
            c[j] += dc[j]
        }
    }

    func maxDifference(to rbm: RBM) -> Double {
        var d = 0.0
        for i in w.indices { for j in w[i].indices { d = max(d, abs(w[i][j] - Double(rbm.weight[i, j]))) } }
        for i in b.indices { d = max(d, abs(b[i] - Double(rbm.visibleBias[i]))) }
        for j in c.indices { d = max(d, abs(c[j] - Double(rbm.hiddenBias[j]))) }
        return d
    }
}

@Suite("The parameter update")
struct UpdateTests {
    @Test("momentum and weight cost on a hand-computed example")
    func handComputed() {
        let rbm = RBM(weight: Matrix([[0.5]]), visibleBias: [0], hiddenBias: [0])
        let configuration = RBMTrainingConfiguration(learningRate: 0.1, weightCost: 0.01)
        var g = Xoshiro256StarStar(seed: 29)
        let workspace = ContrastiveDivergence(rbm: rbm, configuration: configuration, capacity: 1, seed: g.next(), layer: 0)
        var result = rbm
        // positive - negative = 1 * 0.5 - 0.5 * 0.25 = 0.375
        workspace.update(v0: Matrix([[1]]), v1: Matrix([[0.5]]), h0: Matrix([[0.5]]), h1: Matrix([[0.25]]))
        workspace.store(into: &result)
        // dW = 0.1 * 0.375 - 0.1 * 0.01 * 0.5 = 0.037; db = 0.1 * 0.5; dc = 0.1 * 0.25
        #expect(abs(result.weight[0, 0] - 0.537) < 1e-6)
        #expect(abs(result.visibleBias[0] - 0.05) < 1e-7)
        #expect(abs(result.hiddenBias[0] - 0.025) < 1e-7)
        workspace.update(v0: Matrix([[1]]), v1: Matrix([[0.5]]), h0: Matrix([[0.5]]), h1: Matrix([[0.25]]))
        workspace.store(into: &result)
        // dW = 0.5 * 0.037 + 0.0375 - 0.001 * 0.537 = 0.055463; db = 0.025 + 0.05; dc = 0.0125 + 0.025
        #expect(abs(result.weight[0, 0] - 0.592463) < 1e-6)
        #expect(abs(result.visibleBias[0] - 0.125) < 1e-6)
        #expect(abs(result.hiddenBias[0] - 0.0625) < 1e-6)
    }

    @Test("the stacked single-gemm update equals the textbook update with separate products",
          arguments: [1, 2, 3])
    func stackedUpdateMatchesTextbook(threads: Int) {
        Lanes.setThreads(threads)
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 0.5, biasScale: 0.5, seed: 30)
        let configuration = RBMTrainingConfiguration(learningRate: 0.1, momentumSwitchEpoch: 1, weightCost: 2e-4)
        var g = Xoshiro256StarStar(seed: 31)
        let workspace = ContrastiveDivergence(rbm: rbm, configuration: configuration, capacity: 5, seed: g.next(), layer: 0)
        var reference = TextbookUpdate(rbm)
        var result = rbm
        let schedule: [(rows: Int, momentum: Float)] = [(5, 0.5), (3, 0.5), (5, 0.9), (4, 0.9)]
        for (rows, momentum) in schedule {
            if momentum == 0.9 { workspace.setEpoch(1) }
            let v0 = Matrix.uniform(rows: rows, columns: 6, using: &g), v1 = Matrix.uniform(rows: rows, columns: 6, using: &g)
            let h0 = Matrix.uniform(rows: rows, columns: 4, using: &g), h1 = Matrix.uniform(rows: rows, columns: 4, using: &g)
            workspace.update(v0: v0, v1: v1, h0: h0, h1: h1)
            reference.apply(v0: v0, v1: v1, h0: h0, h1: h1, rate: 0.1, momentum: Double(momentum), weightCost: 2e-4)
        }
        workspace.store(into: &result)
        #expect(reference.maxDifference(to: result) < 1e-5)
    }

    @Test("one CD-1 step equals the rbm.m recipe computed naively from its sampled hidden states",
          arguments: [(1, VisibleUnits.bernoulli), (2, .bernoulli), (3, .bernoulli), (1, .gaussian), (2, .gaussian)])
    func cdStepMatchesNaiveRecipe(threads: Int, visibleUnits: VisibleUnits) {
        Lanes.setThreads(threads)
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 0.8, biasScale: 0.5, visibleUnits: visibleUnits, seed: 32)
        let configuration = RBMTrainingConfiguration(learningRate: 0.1, weightCost: 2e-4)
        var g = Xoshiro256StarStar(seed: 33)
        let workspace = ContrastiveDivergence(rbm: rbm, configuration: configuration, capacity: 4, seed: g.next(), layer: 0)
        let data = Matrix.uniform(rows: 10, columns: 6, using: &g)
        let rows = [7, 2, 9, 4]
        let error = data.elements.withUnsafeBufferPointer { d in
            rows.withUnsafeBufferPointer { workspace.step(data: d.baseAddress!, rows: $0) }
        }
        let last = workspace.lastMinibatch(rows: workspace.rows)
        let v0 = data.rows(at: rows)
        #expect(last.v0 == v0)
        // h0 = sigmoid(v0 W + c); the sample is binary; v1 = sigmoid(h_sample W^T + b); h1 = sigmoid(v1 W + c).
        let h0 = naiveProduct(v0, rbm.weight).map { r in r.indices.map { naiveSigmoid(r[$0] + Double(rbm.hiddenBias[$0])) } }
        #expect(maxDifference(last.h0, h0) < 1e-6)
        #expect(last.hiddenSample.elements.allSatisfy { $0 == 0 || $0 == 1 })
        let v1 = naiveProduct(last.hiddenSample, rbm.weight.transposed()).map { r in
            r.indices.map { i in
                let x = r[i] + Double(rbm.visibleBias[i])
                return visibleUnits == .bernoulli ? naiveSigmoid(x) : x
            }
        }
        #expect(maxDifference(last.v1, v1) < 1e-6)
        let h1 = naiveProduct(last.v1, rbm.weight).map { r in r.indices.map { -naiveSigmoid(r[$0] + Double(rbm.hiddenBias[$0])) } }
        #expect(maxDifference(last.negativeH1, h1) < 1e-6)
        var squared = 0.0
        for r in 0..<4 { for i in 0..<6 { squared += pow(Double(v0[r, i]) - v1[r][i], 2) } }
        #expect(abs(error - squared) < 1e-5)

        var reference = TextbookUpdate(rbm)
        var negativeH1 = last.negativeH1
        for k in negativeH1.elements.indices { negativeH1.elements[k] = -negativeH1.elements[k] }
        reference.apply(v0: v0, v1: last.v1, h0: last.h0, h1: negativeH1, rate: 0.1, momentum: 0.5, weightCost: 2e-4)
        var result = rbm
        workspace.store(into: &result)
        #expect(reference.maxDifference(to: result) < 1e-6)
    }

    @Test("one PCD step: negative statistics from binary fantasy states and their hidden probabilities",
          arguments: [1, 2])
    func pcdStep(threads: Int) {
        Lanes.setThreads(threads)
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 0.8, biasScale: 0.5, seed: 34)
        let configuration = RBMTrainingConfiguration(cdSteps: 2, persistent: true)
        var g = Xoshiro256StarStar(seed: 35)
        let workspace = ContrastiveDivergence(rbm: rbm, configuration: configuration, capacity: 4, seed: g.next(), layer: 0)
        let data = Matrix.uniform(rows: 8, columns: 6, using: &g)
        for rows in [[0, 1, 2, 3], [4, 5, 6, 7]] {
            var before = rbm
            workspace.store(into: &before)
            _ = data.elements.withUnsafeBufferPointer { d in
                rows.withUnsafeBufferPointer { workspace.step(data: d.baseAddress!, rows: $0) }
            }
            let last = workspace.lastMinibatch(rows: workspace.rows)
            #expect(last.v1.elements.allSatisfy { $0 == 0 || $0 == 1 })
            let h1 = naiveProduct(last.v1, before.weight)
                .map { r in r.indices.map { -naiveSigmoid(r[$0] + Double(before.hiddenBias[$0])) } }
            #expect(maxDifference(last.negativeH1, h1) < 1e-6)
        }
    }

    @Test("PCD's fantasy chains sample the model distribution (total variation over all 64 states)",
          arguments: [1, 2])
    func pcdChainsSampleTheModel(threads: Int) throws {
        Lanes.setThreads(threads)
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 1, biasScale: 0.5, seed: 36)
        // A learning rate too small to move Float parameters: the chains run on a fixed model.
        let configuration = RBMTrainingConfiguration(learningRate: 1e-30, initialMomentum: 0, finalMomentum: 0,
                                                     weightCost: 0, persistent: true)
        var g = Xoshiro256StarStar(seed: 37)
        let workspace = ContrastiveDivergence(rbm: rbm, configuration: configuration, capacity: 10, seed: g.next(), layer: 0)
        let data = Matrix(rows: 10, columns: 6)  // chains start at all-zero states
        var counts = [Double](repeating: 0, count: 64)
        let rows = Array(0..<10)
        for step in 0..<3000 {
            _ = data.elements.withUnsafeBufferPointer { d in
                rows.withUnsafeBufferPointer { workspace.step(data: d.baseAddress!, rows: $0) }
            }
            guard step >= 50 else { continue }
            countStates(workspace.lastMinibatch(rows: workspace.rows).v1, into: &counts)
        }
        var after = rbm
        workspace.store(into: &after)
        #expect(after == rbm)
        let total = counts.reduce(0, +)
        let exact = try exactVisibleDistribution(rbm)
        let tv = 0.5 * zip(counts, exact).reduce(0.0) { $0 + abs($1.0 / total - $1.1) }
        #expect(tv < 0.04, "total variation \(tv)")
    }
}

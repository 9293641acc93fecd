import Foundation
import Linalg
import Testing
@testable import Pretraining

/// Centered RBMs: the centered form and the plain RBM it is saved as define the same
/// distribution, and the engine's centered update is Melchior, Fischer & Wiskott's Algorithm 1
/// step for step.
@Suite("Centered RBMs")
struct CenteringTests {
    /// The centered energy -(v - mu).b - (h - lambda).c - (v - mu)^T W (h - lambda), from its definition.
    static func centeredEnergy(_ c: CenteredRBM, _ v: [Double], _ h: [Double]) -> Double {
        var e = 0.0
        let nv = v.count, nh = h.count
        for i in 0..<nv { e -= (v[i] - Double(c.visibleOffset[i])) * Double(c.visibleBias[i]) }
        for j in 0..<nh { e -= (h[j] - Double(c.hiddenOffset[j])) * Double(c.hiddenBias[j]) }
        for i in 0..<nv {
            for j in 0..<nh {
                e -= (v[i] - Double(c.visibleOffset[i])) * Double(c.weight[i, j]) * (h[j] - Double(c.hiddenOffset[j]))
            }
        }
        return e
    }

    @Test("a centered RBM and the plain RBM it is saved as: the same log-probability of every visible vector")
    func centeredAndPlainAgree() throws {
        let plain = randomRBM(visible: 7, hidden: 5, weightScale: 1, biasScale: 0.6, seed: 90)
        var g = Xoshiro256StarStar(seed: 91)
        let mu = (0..<7).map { _ in g.nextFloat() }, lambda = (0..<5).map { _ in g.nextFloat() }
        let centered = CenteredRBM(plain: plain, visibleOffset: mu, hiddenOffset: lambda)
        let back = centered.plain
        #expect(zip(back.visibleBias, plain.visibleBias).allSatisfy { abs($0 - $1) < 1e-5 })
        #expect(zip(back.hiddenBias, plain.hiddenBias).allSatisfy { abs($0 - $1) < 1e-5 })
        let visible = allBinaryStates(7), hidden = allBinaryStates(5)
        func centeredFreeEnergy(_ v: [Double]) -> Double {
            -naiveLogSumExp(hidden.map { -Self.centeredEnergy(centered, v, $0) })
        }
        let logZCentered = naiveLogSumExp(visible.flatMap { v in hidden.map { -Self.centeredEnergy(centered, v, $0) } })
        let logZPlain = try plain.exactLogPartition()
        // E_centered = E_plain + K with K = mu.b + lambda.c - mu^T W lambda: log Z differs by -K,
        // every free energy by +K, every probability not at all.
        var k = 0.0
        for i in 0..<7 { k += Double(mu[i]) * Double(centered.visibleBias[i]) }
        for j in 0..<5 { k += Double(lambda[j]) * Double(centered.hiddenBias[j]) }
        for i in 0..<7 { for j in 0..<5 { k -= Double(mu[i]) * Double(centered.weight[i, j]) * Double(lambda[j]) } }
        #expect(abs(logZCentered - (logZPlain - k)) < 1e-4)
        let states = Matrix(visible.map { $0.map(Float.init) })
        let plainFree = plain.freeEnergy(states)
        for (n, v) in visible.enumerated() {
            #expect(abs(centeredFreeEnergy(v) - (plainFree[n] + k)) < 1e-4)
            #expect(abs((-centeredFreeEnergy(v) - logZCentered) - (-plainFree[n] - logZPlain)) < 1e-4)
        }
    }

    /// Algorithm 1 of Melchior et al. (2016) in centered coordinates and double precision.
    struct NaiveCentered {
        var w: [[Double]], b: [Double], c: [Double], mu: [Double], lambda: [Double]
        var dw: [[Double]], db: [Double], dc: [Double]

        init(_ rbm: RBM, mu: [Float]) {
            let centered = CenteredRBM(plain: rbm, visibleOffset: mu, hiddenOffset: [Float](repeating: 0.5, count: rbm.hiddenCount))
            w = (0..<rbm.visibleCount).map { i in (0..<rbm.hiddenCount).map { Double(rbm.weight[i, $0]) } }
            b = centered.visibleBias.map(Double.init); c = centered.hiddenBias.map(Double.init)
            self.mu = mu.map(Double.init); lambda = [Double](repeating: 0.5, count: rbm.hiddenCount)
            dw = w.map { $0.map { _ in 0 } }; db = b.map { _ in 0 }; dc = c.map { _ in 0 }
        }

        mutating func step(v0: Matrix, h0: Matrix, v1: Matrix, h1: Matrix, rate: Double, momentum: Double,
                           weightCost: Double, nu: Double) {
            let n = Double(v0.rows), nv = b.count, nh = c.count
            // (2)-(3): new hidden offsets, and the biases re-expressed for them.
            var newLambda = lambda
            for j in 0..<nh {
                var mean = 0.0
                for r in 0..<v0.rows { mean += Double(h0[r, j]) }
                newLambda[j] = (1 - nu) * lambda[j] + nu * mean / n
            }
            for i in 0..<nv { for j in 0..<nh { b[i] += w[i][j] * (newLambda[j] - lambda[j]) } }
            lambda = newLambda
            // (4): the centered gradient; (5): the update with momentum.
            for i in 0..<nv {
                for j in 0..<nh {
                    var g = 0.0
                    for r in 0..<v0.rows {
                        g += (Double(v0[r, i]) - mu[i]) * (Double(h0[r, j]) - lambda[j])
                        g -= (Double(v1[r, i]) - mu[i]) * (Double(h1[r, j]) - lambda[j])
                    }
                    dw[i][j] = momentum * dw[i][j] + rate * (g / n - weightCost * w[i][j])
                }
            }
            for i in 0..<nv {
                var g = 0.0
                for r in 0..<v0.rows { g += Double(v0[r, i]) - Double(v1[r, i]) }
                db[i] = momentum * db[i] + rate * g / n
            }
            for j in 0..<nh {
                var g = 0.0
                for r in 0..<v0.rows { g += Double(h0[r, j]) - Double(h1[r, j]) }
                dc[j] = momentum * dc[j] + rate * g / n
            }
            for i in 0..<nv { for j in 0..<nh { w[i][j] += dw[i][j] } }
            for i in 0..<nv { b[i] += db[i] }
            for j in 0..<nh { c[j] += dc[j] }
        }

        /// The plain parameters: b - W lambda, c - W^T mu.
        func maxDifference(toPlain rbm: RBM) -> Double {
            var d = 0.0
            for i in w.indices { for j in w[i].indices { d = max(d, abs(w[i][j] - Double(rbm.weight[i, j]))) } }
            for i in b.indices {
                var s = b[i]
                for j in c.indices { s -= w[i][j] * lambda[j] }
                d = max(d, abs(s - Double(rbm.visibleBias[i])))
            }
            for j in c.indices {
                var s = c[j]
                for i in b.indices { s -= w[i][j] * mu[i] }
                d = max(d, abs(s - Double(rbm.hiddenBias[j])))
            }
            return d
        }
    }

    @Test("the engine's centered update equals the naive Algorithm 1, step for step (CD-1, PCD-2, PT)",
          arguments: ["cd", "pcd", "pt"])
    func centeredUpdateMatchesNaive(sampler: String) {
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 0.8, biasScale: 0.5, seed: 92)
        var configuration = RBMTrainingConfiguration(learningRate: 0.1, momentumSwitchEpoch: 2, weightCost: 2e-4)
        configuration.centered = true
        configuration.hiddenOffsetRate = 0.1
        if sampler != "cd" { configuration.persistent = true; configuration.cdSteps = 2 }
        if sampler == "pt" { configuration.temperatures = 3 }
        var g = Xoshiro256StarStar(seed: 93)
        let data = thresholded(Matrix.uniform(rows: 12, columns: 6, using: &g))
        let mu = data.columnMeans()
        let workspace = ContrastiveDivergence(rbm: rbm, configuration: configuration, capacity: 4, seed: g.next(), layer: 0,
                                              visibleOffset: mu)
        var naive = NaiveCentered(rbm, mu: mu)
        for (n, rows) in [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10], [11, 0, 5, 6]].enumerated() {
            if n == 2 { workspace.setEpoch(2) }
            _ = data.elements.withUnsafeBufferPointer { d in rows.withUnsafeBufferPointer { workspace.step(data: d.baseAddress!, rows: $0) } }
            let last = workspace.lastMinibatch(rows: workspace.rows)
            var h1 = last.negativeH1
            for k in h1.elements.indices { h1.elements[k] = -h1.elements[k] }
            naive.step(v0: last.v0, h0: last.h0, v1: last.v1, h1: h1, rate: 0.1, momentum: n < 2 ? 0.5 : 0.9,
                       weightCost: 2e-4, nu: 0.1)
            var result = rbm
            workspace.store(into: &result)
            #expect(naive.maxDifference(toPlain: result) < 1e-5, "step \(n + 1)")
            let lambda = workspace.centering!.hiddenOffset.array.map(Double.init)
            #expect(zip(lambda, naive.lambda).allSatisfy { abs($0 - $1) < 1e-6 })
        }
    }

    @Test("centered training raises the exact log-likelihood of small data; the offset rate is validated")
    func offsetsAndValidation() throws {
        var configuration = RBMTrainingConfiguration()
        configuration.centered = true
        configuration.hiddenOffsetRate = 0
        #expect(throws: PretrainingError.self) { try configuration.validate() }
        configuration.hiddenOffsetRate = 0.01
        try configuration.validate()
        // RBM.train sets mu to the training data's column means.
        var g = Xoshiro256StarStar(seed: 94)
        let data = prototypeData(prototypes: tenBitPrototypes, rows: 60, noise: 0.05, seed: 95)
        var rbm = RBM(visibleCount: 10, hiddenCount: 6, generator: &g)
        let start = rbm
        configuration.epochs = 30
        configuration.batchSize = 10
        configuration.learningRate = 0.1
        try rbm.train(on: data, configuration: configuration, generator: &g)
        #expect(try rbm.exactAverageLogLikelihood(data) > (try start.exactAverageLogLikelihood(data)) + 1)
    }
}

/// 1 where a value exceeds 0.5, else 0.
func thresholded(_ m: Matrix) -> Matrix {
    Matrix(rows: m.rows, columns: m.columns, elements: m.elements.map { $0 > 0.5 ? 1 : 0 })
}

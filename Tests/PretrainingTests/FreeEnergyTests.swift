import Foundation
import Linalg
import Testing
@testable import Pretraining

@Suite("Free energy and exact log Z")
struct FreeEnergyTests {
    @Test("free energy equals -log sum_h exp(-E(v, h)) for every visible state")
    func freeEnergyMatchesMarginal() {
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 1, biasScale: 0.5, seed: 1)
        let states = allBinaryStates(6)
        let v = Matrix(states.map { $0.map(Float.init) })
        let f = rbm.freeEnergy(v)
        for (r, state) in states.enumerated() {
            #expect(abs(f[r] - bruteForceFreeEnergy(rbm, state)) < 1e-5)
        }
    }

    @Test("Gaussian-visible free energy equals the marginal over hidden states")
    func gaussianFreeEnergy() {
        let rbm = randomRBM(visible: 3, hidden: 4, weightScale: 0.7, biasScale: 0.5, visibleUnits: .gaussian, seed: 2)
        var g = Xoshiro256StarStar(seed: 3)
        let v = Matrix.normal(rows: 20, columns: 3, standardDeviation: 2, using: &g)
        let f = rbm.freeEnergy(v)
        for r in 0..<v.rows {
            #expect(abs(f[r] - bruteForceFreeEnergy(rbm, v.row(r).map(Double.init))) < 1e-5)
        }
    }

    @Test("stepped softplus equals the direct sum over stepped sigmoid units")
    func steppedSoftplusMatchesSum() {
        for x in stride(from: -8.0, through: 30.0, by: 0.37) {
            var direct = 0.0
            for i in 1...400 { direct += Foundation.log1p(Foundation.exp(x - Double(i) + 0.5)) }
            #expect(abs(steppedSoftplus(x) - direct) < 1e-9 * max(1, direct))
        }
        #expect(steppedSoftplus(1e33).isFinite)
        #expect(abs(steppedSoftplus(1e6) / 5e11 - 1) < 1e-6)  // about x^2 / 2
    }

    @Test("exact log Z equals the brute-force sum over all joint states (both enumeration sides)")
    func exactLogPartitionMatchesBruteForce() throws {
        for (v, h, seed) in [(6, 4, UInt64(4)), (4, 7, 5), (5, 5, 6)] {
            let rbm = randomRBM(visible: v, hidden: h, weightScale: 1.5, biasScale: 1, seed: seed)
            let exact = try rbm.exactLogPartition()
            #expect(abs(exact - bruteForceLogPartition(rbm)) < 1e-6 * max(1, abs(exact)), "\(v)x\(h)")
        }
    }

    @Test("exact log Z of a Gaussian-Bernoulli RBM equals a numerical integral")
    func gaussianExactLogPartition() throws {
        let rbm = randomRBM(visible: 2, hidden: 3, weightScale: 0.8, biasScale: 0.5, visibleUnits: .gaussian, seed: 7)
        let exact = try rbm.exactLogPartition()
        // Z = integral over v of exp(-F(v)), on a grid (the integrand is smooth and decays
        // like a Gaussian; a midpoint rule on [-12, 12]^2 is accurate to far below 1e-4).
        let step = 0.05
        var points: [[Float]] = []
        var x = -12.0 + step / 2
        while x < 12 {
            var y = -12.0 + step / 2
            while y < 12 { points.append([Float(x), Float(y)]); y += step }
            x += step
        }
        let f = rbm.freeEnergy(Matrix(points))
        let numeric = naiveLogSumExp(f.map { -$0 }) + Foundation.log(step * step)
        #expect(abs(exact - numeric) < 1e-4)
    }

    @Test("exact log Z rejects large or rectified RBMs with clear errors")
    func exactLogPartitionErrors() {
        var g = Xoshiro256StarStar(seed: 1)
        let big = RBM(visibleCount: 30, hiddenCount: 25, generator: &g)
        #expect(throws: PretrainingError.tooManyStatesForExactPartition(smallerLayer: 25, limit: 20)) {
            try big.exactLogPartition()
        }
        let rectified = RBM(visibleCount: 4, hiddenCount: 3, hiddenUnits: .rectified, generator: &g)
        #expect(throws: PretrainingError.self) { try rectified.exactLogPartition() }
    }

    @Test("exact average log-likelihood equals the brute-force value")
    func exactLikelihood() throws {
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 1, biasScale: 0.5, seed: 8)
        let data = prototypeData(prototypes: tenBitPrototypes.map { Array($0[0..<6]) }, rows: 30, noise: 0.1, seed: 9)
        let exact = try rbm.exactAverageLogLikelihood(data)
        #expect(abs(exact - bruteForceAverageLogLikelihood(rbm, data)) < 1e-5)
        // Probabilities of all states sum to one.
        let all = Matrix(allBinaryStates(6).map { $0.map(Float.init) })
        let logZ = try rbm.exactLogPartition()
        let total = rbm.freeEnergy(all).reduce(0.0) { $0 + Foundation.exp(-$1 - logZ) }
        #expect(abs(total - 1) < 1e-6)
    }

    @Test("pseudo-log-likelihood: the mean of the stochastic estimate is sum_i log p(v_i | v_-i)")
    func pseudoLikelihoodScaling() throws {
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 1, biasScale: 0.5, seed: 10)
        let state: [Float] = [1, 0, 1, 1, 0, 0]
        // Exact: sum over i of log sigmoid(F(v with bit i flipped) - F(v)).
        var exact = 0.0
        let f = bruteForceFreeEnergy(rbm, state.map(Double.init))
        for i in 0..<6 {
            var flipped = state.map(Double.init)
            flipped[i] = 1 - flipped[i]
            exact += Foundation.log(naiveSigmoid(bruteForceFreeEnergy(rbm, flipped) - f))
        }
        var g = Xoshiro256StarStar(seed: 11)
        let rows = Matrix(Array(repeating: state, count: 6000))
        let values = try rbm.pseudoLogLikelihood(rows, generator: &g)
        let mean = values.reduce(0, +) / Double(values.count)
        #expect(abs(mean - exact) < 0.05 * abs(exact))
        #expect(values.allSatisfy { $0 <= 0 })
    }
}

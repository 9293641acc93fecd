import Foundation
import Linalg
import Testing
@testable import Pretraining

/// Parallel tempering: the swap rule against the Metropolis ratio computed by hand, the chains'
/// energies against the definition, the beta = 1 chains against the exact distribution.
@Suite("Parallel tempering")
struct ParallelTemperingTests {
    @Test("the swap probability is the Metropolis ratio of the exchanged joint states, computed by hand")
    func swapProbabilityIsTheMetropolisRatio() {
        let rbm = randomRBM(visible: 3, hidden: 2, weightScale: 1.5, biasScale: 0.7, seed: 80)
        let a = (v: [1.0, 0, 1], h: [0.0, 1]), b = (v: [0.0, 1, 1], h: [1.0, 1])
        let ea = naiveEnergy(rbm, visible: a.v, hidden: a.h), eb = naiveEnergy(rbm, visible: b.v, hidden: b.h)
        for (low, high) in [(0.3, 1.0), (0.7, 0.9), (0.05, 0.2)] {
            // p_beta(x) ∝ exp(-beta E(x)): (p_low(b) p_high(a)) / (p_low(a) p_high(b)).
            let hand = Foundation.exp(-low * eb) * Foundation.exp(-high * ea) / (Foundation.exp(-low * ea) * Foundation.exp(-high * eb))
            let p = ParallelTempering.swapProbability(betaLow: low, betaHigh: high, energyLow: ea, energyHigh: eb)
            #expect(abs(p - min(1, hand)) < 1e-12)
            let back = ParallelTempering.swapProbability(betaLow: low, betaHigh: high, energyLow: eb, energyHigh: ea)
            #expect(abs(back - min(1, 1 / hand)) < 1e-12)
        }
    }

    @Test("swaps: each pair is exchanged exactly when its uniform is below the hand-computed ratio, in order from the hottest")
    func swapDecisionsAndBookkeeping() {
        let pt = ParallelTempering(chains: 3, rows: 4, visibleCount: 2, hiddenCount: 3, blocks: 2)
        pt.setLadder([0.2, 0.6, 1])
        var g = Xoshiro256StarStar(seed: 81)
        var energies = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 3)
        for m in 0..<3 {
            for r in 0..<4 {
                let e = Double(g.nextFloat() * 8 - 4)
                energies[m][r] = e
                // Two blocks' shares, summed by the swap.
                pt.partialEnergy[(m * 4 + r) * 2] = e * 0.25
                pt.partialEnergy[(m * 4 + r) * 2 + 1] = e * 0.75
                for j in 0..<3 { pt.hiddenStates.pointer[(m * 4 + r) * 3 + j] = Float(10 * m + j) }
            }
        }
        let stream = RandomStream(seed: 3, purpose: .temperingSwap(layer: 0, step: 1))
        pt.swap(rows: 4, hiddenCount: 3, stream: stream)
        var expectedAccepted = [0, 0]
        for r in 0..<4 {
            var owner = [0, 1, 2]  // which chain's original state each rung holds
            var e = (0..<3).map { energies[$0][r] }
            let betas = [0.2, 0.6, 1.0]
            for m in 0..<2 {
                let ratio = Foundation.exp(-betas[m] * e[m + 1] - betas[m + 1] * e[m] + betas[m] * e[m] + betas[m + 1] * e[m + 1])
                if ratio >= 1 || Double(stream.uniform(row: r, unit: m)) < ratio {
                    owner.swapAt(m, m + 1); e.swapAt(m, m + 1); expectedAccepted[m] += 1
                }
            }
            for m in 0..<3 {
                #expect(pt.hiddenStates.pointer[(m * 4 + r) * 3 + 1] == Float(10 * owner[m] + 1), "row \(r) rung \(m)")
            }
        }
        #expect(pt.attempted == [4, 4] && pt.accepted == expectedAccepted)
        #expect(expectedAccepted.reduce(0, +) > 0)
    }

    @Test("the chains' energies are E(v, h) = -v.b - h.c - v W h of their states (two column blocks)")
    func chainEnergiesMatchTheDefinition() {
        let rbm = randomRBM(visible: 40, hidden: 36, weightScale: 0.3, biasScale: 0.5, seed: 82)
        var configuration = RBMTrainingConfiguration(learningRate: 1e-30, weightCost: 0, persistent: true)
        configuration.temperatures = 3
        var g = Xoshiro256StarStar(seed: 83)
        let workspace = ContrastiveDivergence(rbm: rbm, configuration: configuration, capacity: 5, seed: g.next(), layer: 0)
        let data = thresholded(Matrix.uniform(rows: 5, columns: 40, using: &g))
        let rows = Array(0..<5)
        _ = data.elements.withUnsafeBufferPointer { d in rows.withUnsafeBufferPointer { workspace.step(data: d.baseAddress!, rows: $0) } }
        let pt = workspace.tempering!
        workspace.run(.temperedHidden)  // the next sweep's hidden states and energies, before any swap
        let energies = pt.lastEnergies(rows: 5)
        for m in 0..<3 {
            for r in 0..<5 {
                let v = (0..<40).map { Double(pt.visible.pointer[(m * 5 + r) * 40 + $0]) }
                let h = (0..<36).map { Double(pt.hiddenStates.pointer[(m * 5 + r) * 36 + $0]) }
                #expect(abs(energies[m][r] - naiveEnergy(rbm, visible: v, hidden: h)) < 1e-4)
            }
        }
    }

    @Test("the beta = 1 chains sample a peaked 6x4 RBM's exact distribution (chi-square over its 64 states)")
    func temperedChainsSampleTheModel() throws {
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 2, biasScale: 0.5, seed: 84)
        var configuration = RBMTrainingConfiguration(learningRate: 1e-30, initialMomentum: 0, finalMomentum: 0,
                                                     weightCost: 0, persistent: true)
        configuration.temperatures = 4
        var g = Xoshiro256StarStar(seed: 85)
        let workspace = ContrastiveDivergence(rbm: rbm, configuration: configuration, capacity: 10, seed: g.next(), layer: 0)
        let data = Matrix(rows: 10, columns: 6)
        var counts = [Double](repeating: 0, count: 64)
        let rows = Array(0..<10)
        for step in 0..<4000 {
            _ = data.elements.withUnsafeBufferPointer { d in rows.withUnsafeBufferPointer { workspace.step(data: d.baseAddress!, rows: $0) } }
            guard step >= 100, step % 4 == 0 else { continue }  // burn-in, thinning
            countStates(workspace.lastMinibatch(rows: 10).v1, into: &counts)
        }
        var after = rbm
        workspace.store(into: &after)
        #expect(after == rbm)
        let total = counts.reduce(0, +)
        let exact = try exactVisibleDistribution(rbm)
        // Pool the states expected fewer than 5 times into one bin.
        var chiSquare = 0.0, bins = 0, pooledObserved = 0.0, pooledExpected = 0.0
        for s in 0..<64 {
            let expected = exact[s] * total
            if expected < 5 { pooledObserved += counts[s]; pooledExpected += expected; continue }
            chiSquare += (counts[s] - expected) * (counts[s] - expected) / expected
            bins += 1
        }
        if pooledExpected > 0 { chiSquare += (pooledObserved - pooledExpected) * (pooledObserved - pooledExpected) / pooledExpected; bins += 1 }
        // The 0.999 quantile of chi-square with bins - 1 degrees of freedom (Wilson-Hilferty).
        let k = Double(bins - 1), z = 3.09
        let critical = k * Foundation.pow(1 - 2 / (9 * k) + z * (2 / (9 * k)).squareRoot(), 3)
        #expect(chiSquare < critical, "chi-square \(chiSquare) over \(bins) bins, critical \(critical)")
        // The model is peaked: at least one state carries more than 10% of the mass.
        #expect(exact.max()! > 0.1)
    }

    @Test("the ladder adapts towards even swap rates and keeps its ends")
    func ladderAdapts() {
        let pt = ParallelTempering(chains: 4, rows: 1, visibleCount: 1, hiddenCount: 1, blocks: 1)
        #expect(pt.betas == [0.25, 0.5, 0.75, 1])
        pt.attempted = [100, 100, 100]
        pt.accepted = [90, 10, 50]  // the middle gap swaps rarely: it must shrink
        pt.adaptLadder()
        let gaps = zip(pt.betas.dropFirst(), pt.betas).map { $0 - $1 }
        #expect(pt.betas.first == 0.25 && pt.betas.last == 1)
        #expect(gaps[1] < 0.25 && gaps[0] > 0.25 && gaps.allSatisfy { $0 > 0 })
        #expect(abs(gaps.reduce(0, +) - 0.75) < 1e-12)
        #expect(pt.attempted == [0, 0, 0] && pt.accepted == [0, 0, 0])
        let before = pt.betas
        pt.adaptLadder()  // no swaps counted: nothing to adapt
        #expect(pt.betas == before)
    }

    @Test("tempering needs persistent training and a sane number of chains")
    func validation() {
        var c = RBMTrainingConfiguration()
        c.temperatures = 4
        #expect(throws: PretrainingError.self) { try c.validate() }
        c.persistent = true
        #expect(throws: Never.self) { try c.validate() }
        c.temperatures = 0
        #expect(throws: PretrainingError.self) { try c.validate() }
    }
}

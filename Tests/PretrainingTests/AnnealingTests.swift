import Foundation
import Linalg
import Testing
@testable import Pretraining

/// The fused Float AIS (`AnnealingChains`) against the double-precision path and exact log Z,
/// and reverse AIS: the two estimates bracket exact log Z.
@Suite("AIS in Float and reverse AIS")
struct AnnealingTests {
    @Test("-log1p(sigmoid(b t) expm1(d t)) equals softplus(b t) - softplus((b + d) t), in range and in the fallback")
    func softplusDifferenceIdentity() {
        var g = Xoshiro256StarStar(seed: 60)
        for (scale, d) in [(Float(3), Float(-1e-5)), (30, -1e-3), (30, 1e-4), (80, -0.02), (5, 0.9), (60, -0.5)] {
            let count = 37  // four SIMD chunks and a tail
            var x = (0..<count).map { _ in scale * (2 * g.nextFloat() - 1) }
            let c = (0..<count).map { _ in 2 * g.nextFloat() - 1 }
            let b: Float = 0.7
            let reference = zip(x, c).reduce(0.0) { sum, pair in
                let t = Double(pair.0 + pair.1)
                return sum + softplus(Double(b) * t) - softplus((Double(b) + Double(d)) * t)
            }
            let original = x
            let fused = x.withUnsafeMutableBufferPointer { px in
                c.withUnsafeBufferPointer { AnnealingChains.softplusDifference(px.baseAddress!, bias: $0.baseAddress!,
                                                                                 count: count, betaTo: b, d: d).sum }
            }
            // Float inputs: the terms are exact up to Float rounding of t and of the probabilities.
            let magnitude = zip(original, c).reduce(0.0) { $0 + abs(Double(d) * Double($1.0 + $1.1)) }
            #expect(abs(fused - reference) <= 1e-6 * magnitude + 1e-9, "scale \(scale), d \(d): \(fused) vs \(reference)")
            for j in 0..<count {
                #expect(abs(x[j] - Float(naiveSigmoid(Double(b) * Double(original[j] + c[j])))) < 1e-6)
            }
        }
    }

    @Test("on the paper's schedule no unit of a 784 x 64 model falls back to double-precision softplus")
    func noFallbackOnThePaperSchedule() {
        let rbm = randomRBM(visible: 784, hidden: 64, weightScale: 0.05, biasScale: 1, seed: 69)
        var chains = AnnealingChains(rbm: rbm, baseVisibleBias: [Float](repeating: -1, count: 784), runs: 8, seed: 1)
        chains.sampleBaseRate()
        let betas = AISConfiguration().inverseTemperatures()
        // The largest steps of each segment (1e-3, 1e-4, 1e-5), a few of each.
        for k in [1, 2, 3, 501, 502, 4501, 4502, 14_500] {
            chains.addLogRatio(to: betas[k], from: betas[k - 1])
            chains.transition(beta: betas[k], step: k)
        }
        #expect(chains.doubleCalls == 0)
        // A coarse schedule on the same model does fall back (the counter can count).
        chains.addLogRatio(to: 1, from: 0)
        #expect(chains.doubleCalls > 0)
    }

    @Test("the fused Float path agrees with the double-precision path run by run (same draws)",
          arguments: [(12, 9, 1000), (30, 20, 300)])
    func agreesWithDoublePath(visible: Int, hidden: Int, temperatures: Int) throws {
        let rbm = randomRBM(visible: visible, hidden: hidden, weightScale: 1, biasScale: 0.5, seed: 61)
        var g = Xoshiro256StarStar(seed: 62)
        let base = RBM.baseRateVisibleBias(for: rbm.gibbsStep(Matrix.uniform(rows: 100, columns: visible, using: &g), using: &g))
        let configuration = AISConfiguration(runs: 40, temperatureCount: temperatures)
        var seeds = Xoshiro256StarStar(seed: 63)
        let fast = try rbm.annealedImportanceSampling(baseVisibleBias: base, configuration: configuration, generator: &seeds)
        seeds = Xoshiro256StarStar(seed: 63)
        let reference = referenceAnnealedImportanceSampling(rbm, baseVisibleBias: base, configuration: configuration,
                                                            seed: seeds.next())
        let worst = zip(fast.logWeights, reference.logWeights).map { abs($0 - $1) }.max()!
        #expect(worst < 2e-3, "largest difference of a run's log weight \(worst)")
        #expect(abs(fast.logZ - reference.logZ) < 1e-3)
        #expect(fast.logBaseZ == reference.logBaseZ)
    }

    /// `count` exact samples of the visible layer of a small RBM, by enumeration.
    static func exactSamples(_ rbm: RBM, count: Int, seed: UInt64) throws -> Matrix {
        let n = rbm.visibleCount
        let states = Matrix((0..<(1 << n)).map { s in (0..<n).map { Float((s >> $0) & 1) } })
        let probabilities = try exactVisibleDistribution(rbm)
        var cumulative: [Double] = [], total = 0.0
        for p in probabilities { total += p; cumulative.append(total) }
        var g = Xoshiro256StarStar(seed: seed)
        var rows: [Int] = []
        for _ in 0..<count {
            let u = Double(g.nextFloat()) * total
            rows.append(cumulative.firstIndex { $0 >= u } ?? (cumulative.count - 1))
        }
        return states.rows(at: rows)
    }

    @Test("on small models AIS is below and reverse AIS above exact log Z, on average over seeds")
    func reverseAISBracketsExactLogZ() throws {
        // A peaked model and a short schedule, so that both biases are large against the noise.
        let rbm = randomRBM(visible: 10, hidden: 6, weightScale: 2.5, biasScale: 0.5, seed: 64)
        let exact = try rbm.exactLogPartition()
        let base = [Float](repeating: 0, count: 10)
        let configuration = AISConfiguration(runs: 20, temperatureCount: 30)
        var forward = 0.0, reverse = 0.0
        let seeds = 12
        for s in 0..<seeds {
            var g = Xoshiro256StarStar(seed: 100 + UInt64(s))
            forward += try rbm.annealedImportanceSampling(baseVisibleBias: base, configuration: configuration, generator: &g).logZ
            let start = try Self.exactSamples(rbm, count: 20, seed: 200 + UInt64(s))
            reverse += try rbm.reverseAnnealedImportanceSampling(baseVisibleBias: base, start: start,
                                                                 configuration: configuration, generator: &g).logZ
        }
        forward /= Double(seeds); reverse /= Double(seeds)
        #expect(forward < exact && exact < reverse, "AIS \(forward), exact \(exact), reverse AIS \(reverse)")
        #expect(exact - forward > 0.05 && reverse - exact > 0.05, "the biases are too small to tell: \(forward) \(exact) \(reverse)")
    }

    @Test("with a fine schedule both estimates close in on exact log Z, and reverse AIS's band holds it")
    func fineScheduleConverges() throws {
        let rbm = randomRBM(visible: 10, hidden: 8, weightScale: 1, biasScale: 0.5, seed: 65)
        let exact = try rbm.exactLogPartition()
        var g = Xoshiro256StarStar(seed: 66)
        let data = rbm.gibbsStep(Matrix.uniform(rows: 200, columns: 10, using: &g), using: &g)
        let base = RBM.baseRateVisibleBias(for: data)
        let configuration = AISConfiguration(runs: 100, temperatureCount: 2000)
        let start = try Self.exactSamples(rbm, count: 100, seed: 67)
        let reverse = try rbm.reverseAnnealedImportanceSampling(baseVisibleBias: base, start: start,
                                                                configuration: configuration, generator: &g)
        #expect(abs(reverse.logZ - exact) < 0.05, "reverse \(reverse.logZ), exact \(exact)")
        #expect(reverse.logZLow <= exact && exact <= reverse.logZHigh)
        #expect(reverse.logBaseZ > 0 && reverse.runs == 100)
        #expect(throws: PretrainingError.self) {
            try rbm.reverseAnnealedImportanceSampling(baseVisibleBias: base, start: start.rows(in: 0..<10),
                                                      configuration: configuration, generator: &g)
        }
    }

    @Test("the reverse start: data rows in turn, moved by keyed Gibbs steps; zero steps keep the data")
    func reverseStart() {
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 1, biasScale: 0.5, seed: 68)
        let data = Matrix([[1, 0, 1, 0, 1, 0], [0, 1, 0, 1, 0, 1]])
        let kept = rbm.reverseAnnealingStart(from: data, runs: 5, gibbsSteps: 0, seed: 1)
        #expect(kept == data.rows(at: [0, 1, 0, 1, 0]))
        let moved = rbm.reverseAnnealingStart(from: data, runs: 5, gibbsSteps: 3, seed: 1)
        #expect(moved == rbm.reverseAnnealingStart(from: data, runs: 5, gibbsSteps: 3, seed: 1))
        #expect(moved != kept && moved.elements.allSatisfy { $0 == 0 || $0 == 1 })
    }
}

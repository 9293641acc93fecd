import Linalg
import Testing
import _TestSupport

@Suite struct RandomTests {
    @Test func sameSeedSameStreamDifferentSeedDifferentStream() {
        var a = Xoshiro256StarStar(seed: 42), b = Xoshiro256StarStar(seed: 42), c = Xoshiro256StarStar(seed: 43)
        let sa = (0..<100).map { _ in a.next() }
        let sb = (0..<100).map { _ in b.next() }
        let sc = (0..<100).map { _ in c.next() }
        #expect(sa == sb)
        #expect(sa != sc)
    }

    @Test func knownFirstOutputsOfSplitMix64() {
        // Reference values of SplitMix64 from seed 0 (Vigna's splitmix64.c).
        var s = SplitMix64(seed: 0)
        #expect(s.next() == 0xE220_A839_7B1D_CDAF)
        #expect(s.next() == 0x6E78_9E6A_A1B9_65F4)
    }

    @Test func uniformMomentsMatch() {
        var rng = Xoshiro256StarStar(seed: 1)
        var values = [Float](repeating: 0, count: 200_000)
        rng.fillUniform(&values)
        let (mean, variance) = meanAndVariance(values)
        #expect(abs(mean - 0.5) < 0.003)
        #expect(abs(variance - 1.0 / 12) < 0.002)
        #expect(values.allSatisfy { $0 >= 0 && $0 < 1 })
    }

    @Test func normalMomentsMatch() {
        var rng = Xoshiro256StarStar(seed: 2)
        var values = [Float](repeating: 0, count: 200_001)
        rng.fillNormal(&values, mean: 3, standardDeviation: 2)
        let (mean, variance) = meanAndVariance(values)
        #expect(abs(mean - 3) < 0.02)
        #expect(abs(variance - 4) < 0.05)
        let single = (0..<100_000).map { _ in rng.nextNormal() }
        let (m2, v2) = meanAndVariance(single)
        #expect(abs(m2) < 0.02 && abs(v2 - 1) < 0.03)
    }

    @Test func bernoulliMeanApproachesProbability() {
        let stream = RandomStream(seed: 3, purpose: .other(0, 0))
        let p = Matrix(rows: 1000, columns: 4, elements: (0..<4000).map { [0, 0.1, 0.5, 1][$0 % 4] })
        var s = Matrix(rows: 1000, columns: 4)
        p.elements.withUnsafeBufferPointer { pp in
            s.elements.withUnsafeMutableBufferPointer { ps in
                for r in 0..<1000 {
                    stream.sampleBernoulli(row: r, units: 0..<4, probabilities: pp.baseAddress! + 4 * r,
                                           into: ps.baseAddress! + 4 * r)
                }
            }
        }
        let means = s.columnMeans()
        #expect(means[0] == 0 && abs(means[3] - 1) < 1e-5)
        #expect(abs(means[1] - 0.1) < 0.03 && abs(means[2] - 0.5) < 0.05)
    }

    @Test func shuffleIsAPermutationAndReproducible() {
        var a = Xoshiro256StarStar(seed: 9), b = Xoshiro256StarStar(seed: 9)
        var x = Array(0..<1000), y = Array(0..<1000)
        a.shuffle(&x); b.shuffle(&y)
        #expect(x == y)
        #expect(x.sorted() == Array(0..<1000))
        #expect(x != Array(0..<1000))
    }
}

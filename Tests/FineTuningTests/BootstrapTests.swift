import Testing
import Linalg
@testable import FineTuning

/// The paired bootstrap against a naive reference, known answers and its properties.
@Suite struct BootstrapTests {
    /// The definition of `Statistics.pairedBootstrap` in plain loops: scalar draws
    /// (`bits(row:unit:)`), a set lookup per drawn index, doubles throughout.
    func naiveBootstrap(_ first: [[Int]], _ second: [[Int]], n: Int, resamples: Int, level: Double,
                        seed: UInt64) -> Statistics.BootstrapResult {
        let seeds = first.count
        func draw(_ bits: UInt32, _ m: Int) -> Int { Int(Double(bits) * Double(m) / 4294967296.0) }
        let firstSets = first.map(Set.init), secondSets = second.map(Set.init)
        func rate(_ wrong: Set<Int>, _ indices: [Int]) -> Double {
            Double(indices.filter(wrong.contains).count) / Double(indices.count)
        }
        var observed = 0.0
        for s in 0..<seeds { observed += rate(firstSets[s], Array(0..<n)) - rate(secondSets[s], Array(0..<n)) }
        var differences: [Double] = []
        for b in 0..<resamples {
            let stream = RandomStream(seed: seed, purpose: .bootstrap, step: b)
            var d = 0.0
            for k in 0..<seeds {
                let s = draw(stream.bits(row: 0, unit: k), seeds)
                let indices = (0..<n).map { draw(stream.bits(row: k + 1, unit: $0), n) }
                d += rate(firstSets[s], indices) - rate(secondSets[s], indices)
            }
            differences.append(d / Double(seeds))
        }
        differences.sort()
        let low = Int(((1 - level) / 2 * Double(resamples)).rounded(.down))
        let below = differences.filter { $0 <= 1e-12 }.count, above = differences.filter { $0 >= -1e-12 }.count
        return Statistics.BootstrapResult(difference: observed / Double(seeds),
                                          interval: .init(lower: differences[low], upper: differences[resamples - 1 - low]),
                                          pValue: min(1, 2 * Double(1 + min(below, above)) / Double(resamples + 1)),
                                          resamples: resamples)
    }

    func randomWrong(_ n: Int, rate: Double, seed: UInt64) -> [Int] {
        var g = Xoshiro256StarStar(seed: seed)
        return (0..<n).filter { _ in Double.random(in: 0..<1, using: &g) < rate }
    }

    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 }

    /// The fast path (bulk draws, integer sums) against the plain definition, with a sample
    /// count that is not a multiple of 32 and three seeds.
    @Test(arguments: [(203, 3, 0.95), (64, 1, 0.9), (1, 2, 0.95)])
    func matchesTheNaiveReference(n: Int, seeds: Int, level: Double) {
        let first = (0..<seeds).map { randomWrong(n, rate: 0.3, seed: UInt64(10 + $0)) }
        let second = (0..<seeds).map { randomWrong(n, rate: 0.25, seed: UInt64(20 + $0)) }
        let fast = Statistics.pairedBootstrap(firstWrong: first, secondWrong: second, sampleCount: n, resamples: 300,
                                              level: level, seed: 7)
        let naive = naiveBootstrap(first, second, n: n, resamples: 300, level: level, seed: 7)
        #expect(close(fast.difference, naive.difference))
        #expect(close(fast.interval.lower, naive.interval.lower) && close(fast.interval.upper, naive.interval.upper))
        #expect(fast.pValue == naive.pValue)
    }

    @Test func identicalArmsGiveZeroAndPOne() {
        let wrong = [randomWrong(500, rate: 0.1, seed: 1), randomWrong(500, rate: 0.1, seed: 2)]
        let result = Statistics.pairedBootstrap(firstWrong: wrong, secondWrong: wrong, sampleCount: 500, resamples: 200, seed: 3)
        #expect(result.difference == 0 && result.interval.lower == 0 && result.interval.upper == 0)
        #expect(result.pValue == 1)
    }

    /// The first arm wrong on 200 of 1000 samples, the second on 20 of them: every resample
    /// keeps a positive difference, so p is the smallest the definition gives, 2 / (B + 1).
    @Test func aLargeDifferenceGivesTheSmallestP() {
        let first = [Array(0..<200)], second = [Array(0..<20)]
        let result = Statistics.pairedBootstrap(firstWrong: first, secondWrong: second, sampleCount: 1000, resamples: 999, seed: 1)
        #expect(close(result.difference, 0.18))
        #expect(result.pValue == 2.0 / 1000)
        #expect(result.interval.lower > 0.14 && result.interval.upper < 0.22)
        // And the other way round: the sign follows the order of the arms.
        let reversed = Statistics.pairedBootstrap(firstWrong: second, secondWrong: first, sampleCount: 1000, resamples: 999, seed: 1)
        #expect(close(reversed.difference, -0.18) && reversed.pValue == result.pValue)
    }

    /// One seed: the resampled difference is (A - B) / n with (A, B) multinomial counts of
    /// the a and b discordant samples, so its sd is sqrt(((a + b) / n - ((a - b) / n)^2) / n)
    /// and the 95% percentile interval is about the difference -+ 1.96 sd.
    @Test func intervalWidthMatchesTheMultinomialStandardError() {
        let n = 1000, a = 60, b = 40
        let first = [Array(0..<a)], second = [Array(a..<(a + b))]
        let result = Statistics.pairedBootstrap(firstWrong: first, secondWrong: second, sampleCount: n, resamples: 4000, seed: 11)
        let p = Double(a - b) / Double(n)
        let sd = ((Double(a + b) / Double(n) - p * p) / Double(n)).squareRoot()
        #expect(close(result.difference, 0.02))
        let half = (result.interval.upper - result.interval.lower) / 2
        #expect(abs(half - 1.96 * sd) < 0.1 * 1.96 * sd, "half width \(half), expected about \(1.96 * sd)")
        #expect(abs((result.interval.upper + result.interval.lower) / 2 - p) < 0.2 * sd)
        // 0 lies about 2 sd below the difference: p about 0.05 (McNemar's exact test on 60
        // against 40 gives 0.057).
        #expect(result.pValue > 0.02 && result.pValue < 0.1)
    }

    /// Seeds are resampled too: one seed with a large difference and one with none leave a
    /// quarter of the resamples (both draws the second seed) near 0, so the interval reaches
    /// 0 although each seed's images alone would say otherwise.
    @Test func seedsAreResampled() {
        let n = 2000
        let first = [Array(0..<200), Array(0..<100)], second = [Array(0..<100), Array(0..<100)]
        let result = Statistics.pairedBootstrap(firstWrong: first, secondWrong: second, sampleCount: n, resamples: 2000, seed: 5)
        #expect(close(result.difference, 0.025))
        #expect(result.interval.lower <= 0.001)
        let firstSeedOnly = Statistics.pairedBootstrap(firstWrong: [first[0]], secondWrong: [second[0]], sampleCount: n,
                                                       resamples: 2000, seed: 5)
        #expect(firstSeedOnly.interval.lower > 0.03)
    }

    @Test func deterministicGivenItsSeed() {
        let first = [randomWrong(300, rate: 0.2, seed: 1)], second = [randomWrong(300, rate: 0.2, seed: 2)]
        let one = Statistics.pairedBootstrap(firstWrong: first, secondWrong: second, sampleCount: 300, resamples: 500, seed: 9)
        #expect(one == Statistics.pairedBootstrap(firstWrong: first, secondWrong: second, sampleCount: 300, resamples: 500, seed: 9))
        // Other seeds draw other resamples (the observed difference stays).
        let others = (10..<16).map {
            Statistics.pairedBootstrap(firstWrong: first, secondWrong: second, sampleCount: 300, resamples: 500, seed: $0)
        }
        #expect(others.allSatisfy { $0.difference == one.difference })
        #expect(Set(others.map(\.pValue)).count > 1)
    }
}

import Linalg

/// The few statistics a comparison needs: sample mean and standard deviation, Student's t
/// distribution (two-sided tail and quantiles, computed from the regularised incomplete beta
/// function, not from a table), the 95% t-interval of a mean, the paired t-test, McNemar's
/// exact test and the paired bootstrap of two classifiers' error rates over test samples and
/// seeds.
public enum Statistics {
    /// The arithmetic mean (nan for no values).
    public static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }

    /// The sample standard deviation, `sqrt(sum (x - mean)^2 / (n - 1))` (nan for fewer than
    /// two values).
    public static func standardDeviation(_ values: [Double]) -> Double {
        guard values.count >= 2 else { return .nan }
        let m = mean(values)
        return (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
    }

    /// The regularised incomplete beta function `I_x(a, b)` for `a, b > 0`, `0 <= x <= 1`:
    /// the continued fraction of Numerical Recipes (`betacf`, modified Lentz), on the side
    /// where it converges fast.
    public static func incompleteBeta(_ x: Double, _ a: Double, _ b: Double) -> Double {
        precondition(a > 0 && b > 0, "incompleteBeta: a and b must be positive, got \(a), \(b)")
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = Libm.logGamma(a + b) - Libm.logGamma(a) - Libm.logGamma(b)
            + a * Libm.log(x) + b * Libm.log1p(-x)
        if x < (a + 1) / (a + b + 2) {
            return Libm.exp(logFront) * betaContinuedFraction(x, a, b) / a
        }
        return 1 - Libm.exp(logFront) * betaContinuedFraction(1 - x, b, a) / b
    }

    private static func betaContinuedFraction(_ x: Double, _ a: Double, _ b: Double) -> Double {
        let tiny = 1e-300
        var c = 1.0
        var d = 1 - (a + b) * x / (a + 1)
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...500 {
            let m = Double(m)
            // Even step.
            var numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            // Odd step.
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
            d = 1 + numerator * d
            if abs(d) < tiny { d = tiny }
            c = 1 + numerator / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return h
    }

    /// `P(|T| >= |t|)` for Student's t with `degreesOfFreedom` (> 0):
    /// `I_{df / (df + t^2)}(df / 2, 1 / 2)`.
    public static func studentTTwoSidedTail(_ t: Double, degreesOfFreedom df: Double) -> Double {
        precondition(df > 0, "studentTTwoSidedTail: degrees of freedom must be positive, got \(df)")
        guard t.isFinite else { return t.isNaN ? .nan : 0 }
        return incompleteBeta(df / (df + t * t), df / 2, 0.5)
    }

    /// The quantile `q` (0 < q < 1) of Student's t with `degreesOfFreedom`, by bisection on the
    /// tail function (to double precision): e.g. `studentTQuantile(0.975, 9) = 2.2621571...`.
    public static func studentTQuantile(_ q: Double, degreesOfFreedom df: Double) -> Double {
        precondition(q > 0 && q < 1, "studentTQuantile: q must be in (0, 1), got \(q)")
        if q == 0.5 { return 0 }
        // Find t >= 0 with two-sided tail 2 (1 - max(q, 1 - q)).
        let tail = 2 * (1 - max(q, 1 - q))
        var low = 0.0, high = 1.0
        while studentTTwoSidedTail(high, degreesOfFreedom: df) > tail { high *= 2 }
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if middle == low || middle == high { break }
            if studentTTwoSidedTail(middle, degreesOfFreedom: df) > tail { low = middle } else { high = middle }
        }
        let t = (low + high) / 2
        return q > 0.5 ? t : -t
    }

    /// A two-sided confidence interval of a mean.
    public struct Interval: Sendable, Codable, Equatable {
        public var lower: Double
        public var upper: Double
    }

    /// The t-interval `mean -+ t_{(1 + level) / 2, n - 1} sd / sqrt(n)` of the mean of `values`
    /// (nil for fewer than two values).
    public static func tInterval(_ values: [Double], level: Double = 0.95) -> Interval? {
        guard values.count >= 2 else { return nil }
        let n = Double(values.count)
        let half = studentTQuantile((1 + level) / 2, degreesOfFreedom: n - 1) * standardDeviation(values) / n.squareRoot()
        let m = mean(values)
        return Interval(lower: m - half, upper: m + half)
    }

    /// The outcome of a test: its statistic and two-sided p-value.
    public struct TestResult: Sendable, Codable, Equatable {
        public var statistic: Double
        public var pValue: Double
    }

    /// The paired t-test of `a` against `b` (same length, at least 2): `t = mean(d) / (sd(d) /
    /// sqrt(n))` with `d = a - b` and `n - 1` degrees of freedom; two-sided p. Identical pairs
    /// (all differences equal) give p = 1 if they are all 0, else p = 0. Nil for fewer than 2 pairs.
    public static func pairedTTest(_ a: [Double], _ b: [Double]) -> TestResult? {
        precondition(a.count == b.count, "pairedTTest: \(a.count) and \(b.count) values")
        guard a.count >= 2 else { return nil }
        let d = zip(a, b).map { $0 - $1 }
        let m = mean(d), s = standardDeviation(d)
        if s == 0 { return m == 0 ? TestResult(statistic: 0, pValue: 1) : TestResult(statistic: m > 0 ? .infinity : -.infinity, pValue: 0) }
        let t = m / (s / Double(d.count).squareRoot())
        return TestResult(statistic: t, pValue: studentTTwoSidedTail(t, degreesOfFreedom: Double(d.count - 1)))
    }

    /// McNemar's exact test on paired predictions: `onlyFirstWrong` samples the first classifier
    /// gets wrong and the second right, `onlySecondWrong` the reverse. Under the null hypothesis
    /// each discordant pair is a fair coin: `p = min(1, 2 P(X <= min(b, c)))`, `X ~ Bin(b + c, 1/2)`.
    /// The statistic is `min(b, c)`.
    public static func mcNemarExact(onlyFirstWrong b: Int, onlySecondWrong c: Int) -> TestResult {
        precondition(b >= 0 && c >= 0, "mcNemarExact: counts must be non-negative, got \(b), \(c)")
        let n = b + c, k = min(b, c)
        guard n > 0 else { return TestResult(statistic: 0, pValue: 1) }
        // Sum the binomial terms in log space: C(n, i) / 2^n.
        let logHalf = Double(n) * Libm.log(0.5)
        var tail = 0.0
        for i in 0...k {
            tail += Libm.exp(Libm.logGamma(Double(n + 1)) - Libm.logGamma(Double(i + 1)) - Libm.logGamma(Double(n - i + 1)) + logHalf)
        }
        return TestResult(statistic: Double(k), pValue: min(1, 2 * tail))
    }

    /// McNemar's exact test of two classifiers given the sorted indices of the test samples
    /// each gets wrong.
    public static func mcNemarExact(firstWrong: [Int], secondWrong: [Int]) -> TestResult {
        let first = Set(firstWrong), second = Set(secondWrong)
        return mcNemarExact(onlyFirstWrong: first.subtracting(second).count, onlySecondWrong: second.subtracting(first).count)
    }

    /// The outcome of a paired bootstrap: the observed difference of the error rates, its
    /// percentile interval and a two-sided p-value.
    public struct BootstrapResult: Sendable, Codable, Equatable {
        /// The observed difference, first minus second: the mean over seeds of the difference
        /// of the two error rates.
        public var difference: Double
        /// The percentile interval of the resampled differences (see `pairedBootstrap`).
        public var interval: Interval
        /// `min(1, 2 (1 + min(#{d* <= 0}, #{d* >= 0})) / (B + 1))` over the B resampled
        /// differences d*: small when the resamples rarely reach 0 from the observed side.
        public var pValue: Double
        /// B, the number of resamples.
        public var resamples: Int
    }

    /// The paired bootstrap of two classifiers' error rates on the same test samples and seeds
    /// (Efron & Tibshirani 1993, ch. 16; the resampling of test items for paired systems as in
    /// Koehn 2004). `firstWrong[s]` and `secondWrong[s]` are the indices (in `0..<sampleCount`)
    /// of the test samples each classifier gets wrong with seed `s`; both lists have one entry
    /// per seed. Each of the `resamples` resamples b draws, with replacement, S seeds (S = the
    /// number of seeds) and for each drawn seed `sampleCount` test indices, the same indices
    /// for both classifiers, and computes
    /// `d*_b = (1 / S) sum_k (1 / n) sum_j (wrong1_{s_k}(i_kj) - wrong2_{s_k}(i_kj))`.
    /// Only the discordant samples of a seed contribute, so the bootstrap is paired.
    ///
    /// The draws are counter-based: resample b uses `RandomStream(seed: seed, purpose:
    /// .bootstrap, step: b)`, its row 0 unit k choosing seed slot k and its row k + 1 unit j the
    /// j-th test index of slot k, each as `floor(bits m / 2^32)` for a range of m values (a
    /// bias below m / 2^32). The result is a pure function of the arguments.
    ///
    /// The interval is the percentile interval: the sorted resampled differences at positions
    /// `floor((1 - level) / 2 B)` and `B - 1 -` that position. Identical classifiers give the
    /// difference 0, the interval [0, 0] and p = 1.
    public static func pairedBootstrap(firstWrong: [[Int]], secondWrong: [[Int]], sampleCount n: Int,
                                       resamples: Int = 10_000, level: Double = 0.95, seed: UInt64) -> BootstrapResult {
        precondition(!firstWrong.isEmpty && firstWrong.count == secondWrong.count,
                     "pairedBootstrap: \(firstWrong.count) and \(secondWrong.count) seeds")
        precondition(n >= 1 && resamples >= 1 && level > 0 && level < 1,
                     "pairedBootstrap: needs samples, resamples and a level in (0, 1), got \(n), \(resamples), \(level)")
        let seeds = firstWrong.count
        // discordant[s][i]: +1 if only the first is wrong on sample i with seed s, -1 if only
        // the second, 0 otherwise.
        let discordant = (0..<seeds).map { s -> [Int32] in
            var d = [Int32](repeating: 0, count: n)
            for i in firstWrong[s] { precondition(i >= 0 && i < n, "pairedBootstrap: index \(i) outside 0..<\(n)"); d[i] += 1 }
            for i in secondWrong[s] { precondition(i >= 0 && i < n, "pairedBootstrap: index \(i) outside 0..<\(n)"); d[i] -= 1 }
            return d
        }
        let observed = discordant.reduce(0) { $0 + $1.reduce(0) { $0 + Int($1) } }
        // Sums over the S n draws of each resample (integers: the differences compare exactly).
        var sums = [Int](repeating: 0, count: resamples)
        for b in 0..<resamples {
            let stream = RandomStream(seed: seed, purpose: .bootstrap, step: b)
            var total = 0
            for k in 0..<seeds {
                let d = discordant[pick(stream.bits(row: 0, unit: k), seeds)]
                total += d.withUnsafeBufferPointer { d in sumOfDraws(d, stream: stream, row: k + 1) }
            }
            sums[b] = total
        }
        let scale = 1 / Double(seeds * n)
        sums.sort()
        let atOrBelow = sums.reduce(0) { $0 + ($1 <= 0 ? 1 : 0) }, atOrAbove = sums.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        let low = min(resamples - 1, Int(((1 - level) / 2 * Double(resamples)).rounded(.down)))
        return BootstrapResult(
            difference: Double(observed) * scale,
            interval: Interval(lower: Double(sums[low]) * scale, upper: Double(sums[resamples - 1 - low]) * scale),
            pValue: min(1, 2 * Double(1 + min(atOrBelow, atOrAbove)) / Double(resamples + 1)),
            resamples: resamples)
    }

    /// `floor(bits m / 2^32)`: a draw in `0..<m` from 32 random bits.
    @inline(__always)
    static func pick(_ bits: UInt32, _ m: Int) -> Int { Int((UInt64(bits) &* UInt64(m)) >> 32) }

    /// `sum_j d[pick(bits(row, j), n)]` for j in 0..<n (n = `d.count`), with the stream's
    /// bulk draws (32 units per Philox call; the same bits as `bits(row:unit:)`).
    static func sumOfDraws(_ d: UnsafeBufferPointer<Int32>, stream: RandomStream, row: Int) -> Int {
        let n = d.count
        var total = 0
        for g in 0..<((n + 31) >> 5) {
            let (w0, w1, w2, w3) = stream.group(g, row: row)
            let base = g << 5
            if base + 32 <= n {
                var lanes = SIMD8<Int32>()
                for j in 0..<8 {
                    lanes[j] = d[pick(w0[j], n)] &+ d[pick(w1[j], n)] &+ d[pick(w2[j], n)] &+ d[pick(w3[j], n)]
                }
                total += Int(lanes.wrappedSum())
            } else {
                for (i, words) in [w0, w1, w2, w3].enumerated() {
                    for j in 0..<8 where base + 8 * i + j < n { total += Int(d[pick(words[j], n)]) }
                }
            }
        }
        return total
    }
}

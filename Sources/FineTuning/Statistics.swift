import Linalg

/// The few statistics a comparison needs: sample mean and standard deviation, Student's t
/// distribution (two-sided tail and quantiles, computed from the regularised incomplete beta
/// function, not from a table), the 95% t-interval of a mean, the paired t-test and McNemar's
/// exact test.
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
}

import Testing
@testable import FineTuning

/// The statistics of comparisons against published values (R, SciPy and exact binomial sums).
@Suite struct StatisticsTests {
    func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { abs(a - b) <= tolerance * max(1, abs(b)) }

    @Test func meanAndSampleStandardDeviation() {
        #expect(close(Statistics.mean([1, 2, 3, 4]), 2.5))
        // sum of squared deviations 5, n - 1 = 3.
        #expect(close(Statistics.standardDeviation([1, 2, 3, 4]), (5.0 / 3).squareRoot()))
        #expect(Statistics.standardDeviation([7]).isNaN)
        #expect(Statistics.mean([]).isNaN)
    }

    /// `t.ppf` of SciPy 1.17.
    @Test(arguments: [(1.0, 12.706204736174694), (2, 4.302652729749462), (3, 3.1824463052837078),
                      (4, 2.7764451051977934), (9, 2.262157162798205), (29, 2.045229642132703),
                      (1000, 1.9623390808264083)])
    func tQuantiles(df: Double, expected: Double) {
        #expect(close(Statistics.studentTQuantile(0.975, degreesOfFreedom: df), expected, 1e-10))
    }

    @Test func otherQuantilesTailsAndBeta() {
        #expect(close(Statistics.studentTQuantile(0.9, degreesOfFreedom: 5), 1.4758840488244815, 1e-10))
        #expect(close(Statistics.studentTQuantile(0.05, degreesOfFreedom: 7), -1.8945786050900066, 1e-10))
        #expect(Statistics.studentTQuantile(0.5, degreesOfFreedom: 3) == 0)
        #expect(close(Statistics.studentTTwoSidedTail(2.5, degreesOfFreedom: 3), 0.08770664700806556, 1e-10))
        #expect(close(Statistics.studentTTwoSidedTail(-0.3, degreesOfFreedom: 1), 0.8144528418445154, 1e-10))
        // Regularised incomplete beta = the beta distribution's CDF (scipy.stats.beta.cdf(0.3, 2.5, 4)).
        #expect(close(Statistics.incompleteBeta(0.3, 2.5, 4), 0.3521975859067672, 1e-10))
        #expect(Statistics.incompleteBeta(0, 2, 3) == 0 && Statistics.incompleteBeta(1, 2, 3) == 1)
    }

    /// Student's sleep data (Cushny & Peebles), the paired example of R's `t.test(extra ~ group,
    /// data = sleep, paired = TRUE)`: t = -4.0621, df = 9, p = 0.002833, 95% CI (-2.4599, -0.7001).
    @Test func pairedTTestOnTheSleepData() throws {
        let drug1: [Double] = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
        let drug2: [Double] = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
        let result = try #require(Statistics.pairedTTest(drug1, drug2))
        #expect(close(result.statistic, -4.062127683382037, 1e-9))
        #expect(close(result.pValue, 0.002832890197384273, 1e-8))
        let interval = try #require(Statistics.tInterval(zip(drug1, drug2).map { $0 - $1 }))
        #expect(close(interval.lower, -2.4598857, 1e-6) && close(interval.upper, -0.7001143, 1e-6))
        #expect(Statistics.pairedTTest([1], [2]) == nil)
        #expect(Statistics.pairedTTest([1, 2], [1, 2])?.pValue == 1)
        #expect(Statistics.pairedTTest([2, 3], [1, 2])?.pValue == 0)
    }

    /// Three seeds' errors: SciPy's `t.interval(0.95, 2, loc=mean, scale=sem)`.
    @Test func tIntervalOfThreeSeeds() throws {
        let interval = try #require(Statistics.tInterval([0.0231, 0.0245, 0.0219]))
        #expect(close(interval.lower, 0.0199341044183165, 1e-9) && close(interval.upper, 0.026399228915016837, 1e-9))
        #expect(Statistics.tInterval([0.1]) == nil)
    }

    /// Exact two-sided p = 2 sum_{i <= min(b, c)} C(b + c, i) / 2^(b + c), computed with exact
    /// fractions in Python.
    @Test(arguments: [(1, 6, 0.125), (6, 1, 0.125), (3, 10, 0.09228515625), (0, 5, 0.0625), (5, 5, 1.0),
                      (0, 0, 1.0), (40, 60, 0.05688793364098079), (101, 150, 0.0023809925216453426)])
    func mcNemarExact(b: Int, c: Int, expected: Double) {
        #expect(close(Statistics.mcNemarExact(onlyFirstWrong: b, onlySecondWrong: c).pValue, expected, 1e-9))
    }

    @Test func mcNemarFromMisclassifiedIndices() {
        // First wrong on {1, 2, 3, 9}, second on {3, 4}: b = 3 (1, 2, 9), c = 1 (4).
        let result = Statistics.mcNemarExact(firstWrong: [1, 2, 3, 9], secondWrong: [3, 4])
        #expect(result == Statistics.mcNemarExact(onlyFirstWrong: 3, onlySecondWrong: 1))
        #expect(close(result.pValue, 0.625))
    }
}

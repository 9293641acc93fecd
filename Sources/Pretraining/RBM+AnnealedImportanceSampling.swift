import Linalg

/// The settings of annealed importance sampling (Salakhutdinov & Murray 2008).
public struct AISConfiguration: Sendable, Codable, Equatable {
    /// The number M of independent annealing runs (the paper uses 100).
    public var runs: Int
    /// The number K of annealing steps: K + 1 inverse temperatures from 0 to 1. The paper's
    /// 14,500 is 0..0.5 in steps of 1e-3, 0.5..0.9 in 1e-4, 0.9..1 in 1e-5; other counts keep
    /// the three segments' shares (500, 4000 and 10000 of 14500 steps).
    public var temperatureCount: Int
    /// The smoothing of the base-rate model's pixel means, as in the released code: p =
    /// (mean + s) / (1 + s), i.e. s = 0.05 adds 5 "on" cases per 100.
    public var baseRateSmoothing: Double

    public init(runs: Int = 100, temperatureCount: Int = 14_500, baseRateSmoothing: Double = 0.05) {
        self.runs = runs
        self.temperatureCount = temperatureCount
        self.baseRateSmoothing = baseRateSmoothing
    }

    /// The schedule beta_0 = 0 < beta_1 < ... < beta_K = 1 (K = temperatureCount).
    public func inverseTemperatures() -> [Double] {
        let k = max(temperatureCount, 3)
        let first = max(1, Int((Double(k) * 500 / 14_500).rounded()))
        let second = max(1, Int((Double(k) * 4_000 / 14_500).rounded()))
        let third = max(1, k - first - second)
        var betas: [Double] = []
        betas.reserveCapacity(first + second + third + 1)
        for i in 0..<first { betas.append(0.5 * Double(i) / Double(first)) }
        for i in 0..<second { betas.append(0.5 + 0.4 * Double(i) / Double(second)) }
        for i in 0..<third { betas.append(0.9 + 0.1 * Double(i) / Double(third)) }
        betas.append(1)
        return betas
    }

    func validate() throws {
        if runs < 2 { throw PretrainingError.invalidConfiguration("AIS needs at least 2 runs, got \(runs)") }
        if temperatureCount < 3 {
            throw PretrainingError.invalidConfiguration("AIS needs at least 3 temperatures, got \(temperatureCount)")
        }
        if !(baseRateSmoothing >= 0 && baseRateSmoothing.isFinite) {
            throw PretrainingError.invalidConfiguration("AIS base-rate smoothing must be >= 0, got \(baseRateSmoothing)")
        }
    }
}

/// The estimate of log Z from annealed importance sampling.
public struct AISResult: Sendable, Equatable, Codable {
    /// log Z = log Z_A + log(mean importance weight).
    public var logZ: Double
    /// log Z_A + log(mean weight - 3 standard errors of the mean weight); -inf when that is
    /// not positive (the released code's `logZZ_est_down`).
    public var logZLow: Double
    /// log Z_A + log(mean weight + 3 standard errors of the mean weight).
    public var logZHigh: Double
    /// The standard deviation of the log Z estimate: the standard error of the mean weight
    /// divided by the mean weight (delta method).
    public var standardDeviation: Double
    /// The number of annealing runs M.
    public var runs: Int
    /// The number of annealing steps K.
    public var temperatureCount: Int
    /// log Z_A of the base-rate model (with the target's hidden layer: sum softplus(b_A) + H log 2).
    public var logBaseZ: Double
    /// The log importance weight of each run.
    public var logWeights: [Double]
}

extension RBM {
    /// The visible biases of the base-rate model: log(p / (1 - p)) with p the smoothed pixel
    /// means (mean + s) / (1 + s), clipped to [1e-3, 1 - 1e-3]. `data` is (n, visibleCount).
    public static func baseRateVisibleBias(for data: Matrix, smoothing: Double = 0.05) -> [Float] {
        data.columnMeans().map { m in
            let p = min(max((Double(m) + smoothing) / (1 + smoothing), 1e-3), 1 - 1e-3)
            return Float(Libm.log(p / (1 - p)))
        }
    }

    /// Estimates log Z by annealed importance sampling (Salakhutdinov & Murray 2008), for
    /// Bernoulli-Bernoulli RBMs. On average the estimate errs low (log Z is underestimated, so
    /// log-likelihoods computed from it err high); `reverseAnnealedImportanceSampling` gives
    /// the other side.
    ///
    /// The base model A has zero weights and visible biases `baseVisibleBias` (see
    /// `baseRateVisibleBias(for:)`). The intermediate distributions are
    /// p_k(v) ∝ exp((1 - beta_k) v.b_A + beta_k v.b) prod_j (1 + exp(beta_k (v W + c)_j)),
    /// annealed over `configuration.inverseTemperatures()`; each transition is one Gibbs step
    /// at beta_k. M runs are advanced together as the rows of one matrix (see `AnnealingChains`
    /// for the arithmetic: Float products and kernels, log weights summed in double precision).
    public func annealedImportanceSampling(baseVisibleBias: [Float], configuration: AISConfiguration = .init(),
                                           generator: inout Xoshiro256StarStar) throws -> AISResult {
        try checkAnnealing(baseVisibleBias: baseVisibleBias, configuration: configuration)
        let betas = configuration.inverseTemperatures()
        // Every draw is keyed by this seed, the temperature index, the run and the unit.
        let seed = generator.next()
        // v_1 ~ p_0 = the base-rate model: independent pixels with p = sigmoid(b_A).
        var chains = AnnealingChains(rbm: self, baseVisibleBias: baseVisibleBias, runs: configuration.runs, seed: seed)
        chains.sampleBaseRate()
        for k in 1..<betas.count {
            // log w += log p*_k(v) - log p*_{k-1}(v); then T_k (leaves p_k invariant).
            chains.addLogRatio(to: betas[k], from: betas[k - 1])
            if k < betas.count - 1 { chains.transition(beta: betas[k], step: k) }
        }
        return AISResult(logWeights: chains.logWeights, logBaseZ: chains.logBaseZ, temperatureCount: betas.count - 1)
    }

    /// Estimates log Z by reverse annealed importance sampling: the runs start at `start`
    /// (M rows of binary visible states, taken as samples of this RBM) and are annealed from
    /// beta = 1 down to the base-rate model; the weights w = prod_k p*_{k-1}(v_k) / p*_k(v_k)
    /// have mean Z_A / Z, so log Z = log Z_A - log(mean w). With exact samples of the model
    /// the estimate errs high on average (Jensen's inequality; Burda, Grosse & Salakhutdinov
    /// 2015), the opposite side from forward AIS: together they bracket log Z. Starts that are
    /// only approximate samples (chains started at the data) keep the estimate on the
    /// conservative side as long as they sit where the model puts more mass than it should
    /// (RAISE's argument); the tests check the bracket on small models with exact samples.
    ///
    /// The same temperatures, transitions and arithmetic as `annealedImportanceSampling`, run
    /// backwards; `configuration.runs` must equal `start.rows`.
    public func reverseAnnealedImportanceSampling(baseVisibleBias: [Float], start: Matrix,
                                                  configuration: AISConfiguration = .init(),
                                                  generator: inout Xoshiro256StarStar) throws -> AISResult {
        try checkAnnealing(baseVisibleBias: baseVisibleBias, configuration: configuration)
        guard start.columns == visibleCount, start.rows == configuration.runs else {
            throw PretrainingError.invalidConfiguration(
                "reverse AIS needs \(configuration.runs) start states of \(visibleCount) units, got \(start.rows)x\(start.columns)")
        }
        let betas = configuration.inverseTemperatures()
        let seed = generator.next()
        var chains = AnnealingChains(rbm: self, baseVisibleBias: baseVisibleBias, runs: configuration.runs, seed: seed)
        chains.v = start
        for k in stride(from: betas.count - 1, through: 1, by: -1) {
            // log w += log p*_{k-1}(v) - log p*_k(v); then T_{k-1} (none at the base model).
            chains.addLogRatio(to: betas[k - 1], from: betas[k])
            if k > 1 { chains.transition(beta: betas[k - 1], step: k - 1) }
        }
        let summary = AISResult(logWeights: chains.logWeights, logBaseZ: 0, temperatureCount: betas.count - 1)
        let logBaseZ = chains.logBaseZ
        return AISResult(logZ: logBaseZ - summary.logZ, logZLow: logBaseZ - summary.logZHigh,
                         logZHigh: logBaseZ - summary.logZLow,
                         standardDeviation: summary.standardDeviation, runs: summary.runs,
                         temperatureCount: summary.temperatureCount, logBaseZ: logBaseZ, logWeights: summary.logWeights)
    }

    /// The start states of reverse AIS from `data` (binary rows): rows `0 ..< runs` taken in
    /// turn (repeating when the data is shorter), then `gibbsSteps` Gibbs steps of this RBM
    /// with draws keyed by `seed`, so that the states drift from the data towards the model.
    public func reverseAnnealingStart(from data: Matrix, runs: Int, gibbsSteps: Int, seed: UInt64) -> Matrix {
        precondition(data.rows >= 1 && data.columns == visibleCount && runs >= 1,
                     "reverseAnnealingStart: \(data.rows)x\(data.columns) data for \(runs) runs of \(visibleCount) units")
        var v = data.rows(at: (0..<runs).map { $0 % data.rows })
        var generator = RandomStream(seed: seed, purpose: .monitor(layer: -2)).generator()
        for _ in 0..<gibbsSteps { v = gibbsStep(v, using: &generator) }
        return v
    }

    /// The checks shared by forward and reverse AIS.
    private func checkAnnealing(baseVisibleBias: [Float], configuration: AISConfiguration) throws {
        guard visibleUnits == .bernoulli && hiddenUnits == .bernoulli else {
            throw PretrainingError.unsupportedUnits(operation: "annealed importance sampling",
                                                    visible: visibleUnits, hidden: hiddenUnits)
        }
        guard labelCount == 0 else {
            throw PretrainingError.invalidConfiguration("annealed importance sampling is not available for an RBM with label units")
        }
        try configuration.validate()
        guard baseVisibleBias.count == visibleCount else {
            throw PretrainingError.shapeMismatch(what: "AIS base-rate biases", expected: visibleCount,
                                                 found: baseVisibleBias.count)
        }
    }
}

extension AISResult {
    /// Summarises the log importance weights as the released code does (`RBM_AIS.m`).
    init(logWeights: [Double], logBaseZ: Double, temperatureCount: Int) {
        let m = Double(logWeights.count)
        var sum = LogSumExpAccumulator()
        for w in logWeights { sum.add(w) }
        let logMean = sum.value - Libm.log(m)
        let top = logWeights.max() ?? 0
        let scaled = logWeights.map { Libm.exp($0 - top) }
        let mean = scaled.reduce(0, +) / m
        let variance = scaled.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / max(m - 1, 1)
        // log of the standard error of the mean weight.
        let logStandardError = 0.5 * Libm.log(variance) + top - 0.5 * Libm.log(m)
        let logThree = Libm.log(3)
        let spread = logThree + logStandardError
        let high = max(spread, logMean) + Libm.log1p(Libm.exp(-abs(spread - logMean)))
        let low = spread < logMean ? logMean + Libm.log1p(-Libm.exp(spread - logMean)) : -Double.infinity
        self.init(logZ: logMean + logBaseZ, logZLow: low + logBaseZ, logZHigh: high + logBaseZ,
                  standardDeviation: Libm.exp(logStandardError - logMean), runs: logWeights.count,
                  temperatureCount: temperatureCount, logBaseZ: logBaseZ, logWeights: logWeights)
    }
}

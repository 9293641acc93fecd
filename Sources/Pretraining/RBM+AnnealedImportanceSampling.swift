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
    /// Bernoulli-Bernoulli RBMs.
    ///
    /// The base model A has zero weights and visible biases `baseVisibleBias` (see
    /// `baseRateVisibleBias(for:)`). The intermediate distributions are
    /// p_k(v) ∝ exp((1 - beta_k) v.b_A + beta_k v.b) prod_j (1 + exp(beta_k (v W + c)_j)),
    /// annealed over `configuration.inverseTemperatures()`; each transition is one Gibbs step
    /// at beta_k. The log importance weights are accumulated in double precision; the Gibbs
    /// transitions use Float gemms. M runs are advanced together as the rows of one matrix.
    public func annealedImportanceSampling(baseVisibleBias: [Float], configuration: AISConfiguration = .init(),
                                           generator: inout Xoshiro256StarStar) throws -> AISResult {
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
        let betas = configuration.inverseTemperatures()
        let runs = configuration.runs, vCount = visibleCount, hCount = hiddenCount
        let biasA = baseVisibleBias, biasB = visibleBias, c = hiddenBias
        let biasDifference = (0..<vCount).map { Double(biasB[$0]) - Double(biasA[$0]) }
        let cDouble = c.map(Double.init)

        // log Z_A: the base model times the target's hidden layer at beta = 0 (2^H states).
        let logBaseZ = biasA.reduce(0.0) { $0 + softplus(Double($1)) } + Double(hCount) * Libm.log(2)
        // Every draw is keyed by this seed, the temperature index, the run and the unit.
        let seed = generator.next()

        // v_1 ~ p_0 = the base-rate model: independent pixels with p = sigmoid(b_A).
        var v = Matrix(rows: runs, columns: vCount)
        let baseProbabilities = biasA.map { sigmoid($0) }
        let start = RandomStream(seed: seed, purpose: .visibleSample(layer: 0, step: -1))
        baseProbabilities.withUnsafeBufferPointer { p in
            v.elements.withUnsafeMutableBufferPointer { pv in
                for r in 0..<runs {
                    start.sampleBernoulli(row: r, units: 0..<vCount, probabilities: p.baseAddress!,
                                          into: pv.baseAddress! + r * vCount)
                }
            }
        }
        var x = Matrix(rows: runs, columns: hCount)       // v W, then the hidden probabilities
        var h = Matrix(rows: runs, columns: hCount)       // sampled hidden states
        var visible = Matrix(rows: runs, columns: vCount) // visible pre-activations, then probabilities
        var mixedBias = [Float](repeating: 0, count: vCount)
        var logWeights = [Double](repeating: 0, count: runs)

        for k in 1..<betas.count {
            let beta = betas[k], previous = betas[k - 1]
            // x = v W : (M, V) * (V, H) -> (M, H)
            gemmInRowChunks(v, weight, .none, into: &x)
            // log w += log p*_k(v) - log p*_{k-1}(v), in double precision.
            x.elements.withUnsafeBufferPointer { px in
                v.elements.withUnsafeBufferPointer { pv in
                    for r in 0..<runs {
                        let vr = pv.baseAddress! + r * vCount
                        var visibleTerm = 0.0
                        for i in 0..<vCount where vr[i] != 0 { visibleTerm += biasDifference[i] }
                        var term = (beta - previous) * visibleTerm
                        let xr = px.baseAddress! + r * hCount
                        for j in 0..<hCount {
                            let total = Double(xr[j]) + cDouble[j]
                            term += softplus(beta * total) - softplus(previous * total)
                        }
                        logWeights[r] += term
                    }
                }
            }
            guard k < betas.count - 1 else { break }
            // Transition T_k (leaves p_k invariant): h ~ sigmoid(beta (v W + c)),
            // v ~ sigmoid((1 - beta) b_A + beta (b + h W^T)).
            let betaF = Float(beta)
            x.elements.withUnsafeMutableBufferPointer { px in
                let hiddenStream = RandomStream(seed: seed, purpose: .hiddenSample(layer: 0, step: k))
                h.elements.withUnsafeMutableBufferPointer { ph in
                    for r in 0..<runs {
                        let xr = px.baseAddress! + r * hCount
                        for j in 0..<hCount { xr[j] = sigmoid(betaF * (xr[j] + c[j])) }
                        hiddenStream.sampleBernoulli(row: r, units: 0..<hCount, probabilities: xr,
                                                     into: ph.baseAddress! + r * hCount)
                    }
                }
            }
            for i in 0..<vCount { mixedBias[i] = (1 - betaF) * biasA[i] + betaF * biasB[i] }
            // visible = beta * h W^T : (M, H) * (H, V) -> (M, V)
            gemmInRowChunks(h, weight, .transposed, into: &visible, alpha: betaF)
            visible.elements.withUnsafeMutableBufferPointer { pp in
                mixedBias.withUnsafeBufferPointer { mb in
                    UnitKernels.visibleMeans(.bernoulli, pp.baseAddress!, rows: runs, bias: mb.baseAddress!,
                                             columns: vCount, stride: vCount)
                }
                v.elements.withUnsafeMutableBufferPointer { pv in
                    UnitKernels.sampleVisible(.bernoulli, means: pp.baseAddress!, rows: runs, columns: vCount, first: 0,
                                              stride: vCount, into: pv.baseAddress!,
                                              stream: RandomStream(seed: seed, purpose: .visibleSample(layer: 0, step: k)))
                }
            }
        }
        return AISResult(logWeights: logWeights, logBaseZ: logBaseZ, temperatureCount: betas.count - 1)
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

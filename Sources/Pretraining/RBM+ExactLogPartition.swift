import Linalg

extension RBM {
    /// The largest layer `exactLogPartition()` enumerates the states of (2^20 states).
    public static let exactPartitionLimit = 20

    /// The exact log partition function log Z = log sum_{v,h} exp(-E(v, h)), in double precision.
    ///
    /// Sums over the 2^n states of the smaller layer and marginalises the other analytically:
    /// - over hidden states: log Z = logsumexp_h [h.c + sum_i softplus(b_i + (W h)_i)] for
    ///   Bernoulli visible units, and [h.c + b.(W h) + |W h|^2 / 2 + (V/2) log(2 pi)] for
    ///   Gaussian visible units (always enumerated over h);
    /// - over visible states: log Z = logsumexp_v [-F(v)].
    /// Needs Bernoulli hidden units; throws `tooManyStatesForExactPartition` when the layer to
    /// enumerate has more than `exactPartitionLimit` units, `unsupportedUnits` for rectified units.
    public func exactLogPartition() throws -> Double {
        try checkExactPartitionIsAvailable()
        let enumerateHidden = enumeratesHiddenStates
        let n = enumerateHidden ? hiddenCount : visibleCount
        let total = 1 << n
        let chunk = min(total, 4096)
        var states = Matrix(rows: chunk, columns: n)
        var product = Matrix(rows: 0, columns: 0)
        var accumulator = LogSumExpAccumulator()
        let logTwoPi = Libm.log(2 * Double.pi)
        var start = 0
        while start < total {
            let count = min(chunk, total - start)
            states.resize(rows: count, columns: n)
            for s in 0..<count {
                let index = start + s
                for u in 0..<n { states[s, u] = (index >> u) & 1 == 1 ? 1 : 0 }
            }
            if enumerateHidden {
                // product = h W^T : (count, H) * (H, V) -> (count, V)
                gemm(states, .none, weight, .transposed, into: &product)
                for s in 0..<count {
                    var a = 0.0
                    for j in 0..<hiddenCount { a += Double(states[s, j]) * Double(hiddenBias[j]) }
                    switch visibleUnits {
                    case .bernoulli:
                        for i in 0..<visibleCount { a += softplus(Double(visibleBias[i]) + Double(product[s, i])) }
                    case .gaussian:
                        for i in 0..<visibleCount {
                            let wh = Double(product[s, i])
                            a += Double(visibleBias[i]) * wh + 0.5 * wh * wh
                        }
                        a += 0.5 * Double(visibleCount) * logTwoPi
                    }
                    accumulator.add(a)
                }
            } else {
                for f in freeEnergy(states) { accumulator.add(-f) }
            }
            start += count
        }
        return accumulator.value
    }

    /// Whether `exactLogPartition` sums over the hidden states (else over the visible states).
    var enumeratesHiddenStates: Bool {
        visibleUnits == .gaussian || hiddenCount <= visibleCount || visibleCount > RBM.exactPartitionLimit
    }

    /// Throws when `exactLogPartition()` is not available for this RBM.
    func checkExactPartitionIsAvailable() throws {
        guard labelCount == 0 else {
            throw PretrainingError.invalidConfiguration("exact log Z is not available for an RBM with label units")
        }
        guard hiddenUnits == .bernoulli else {
            throw PretrainingError.unsupportedUnits(operation: "exact log Z", visible: visibleUnits, hidden: hiddenUnits)
        }
        let n = enumeratesHiddenStates ? hiddenCount : visibleCount
        guard n <= RBM.exactPartitionLimit else {
            throw PretrainingError.tooManyStatesForExactPartition(smallerLayer: n, limit: RBM.exactPartitionLimit)
        }
    }

    /// The mean over the rows of `data` of log p(v) = -F(v) - logPartition.
    public func averageLogLikelihood(_ data: Matrix, logPartition: Double) -> Double {
        let energies = freeEnergy(data)
        guard !energies.isEmpty else { return .nan }
        return -energies.reduce(0, +) / Double(energies.count) - logPartition
    }

    /// The exact mean log-likelihood of the rows of `data`, through `exactLogPartition()`.
    public func exactAverageLogLikelihood(_ data: Matrix) throws -> Double {
        try validate(data, what: "exactAverageLogLikelihood")
        return averageLogLikelihood(data, logPartition: try exactLogPartition())
    }
}

/// log(sum of e^a) over a stream of values, kept stable by rescaling to the running maximum.
struct LogSumExpAccumulator {
    private var maximum = -Double.infinity
    private var scaledSum = 0.0

    mutating func add(_ a: Double) {
        if a.isNaN { maximum = .nan; return }
        if a <= maximum {
            scaledSum += Libm.exp(a - maximum)
        } else {
            scaledSum = (maximum == -.infinity ? 0 : scaledSum * Libm.exp(maximum - a)) + 1
            maximum = a
        }
    }

    /// The log of the sum so far (-inf when empty).
    var value: Double { maximum == -.infinity ? -.infinity : maximum + Libm.log(scaledSum) }
}

extension RBM {
    /// Throws when `data` does not fit the visible layer, is empty or holds NaN or infinity.
    func validate(_ data: Matrix, what: String) throws {
        guard data.columns == visibleCount else {
            throw PretrainingError.shapeMismatch(what: what, expected: visibleCount, found: data.columns)
        }
        guard data.rows > 0 else { throw PretrainingError.emptyData(what: what) }
        if let bad = data.elements.firstIndex(where: { !$0.isFinite }) {
            throw PretrainingError.nonFiniteData(what: what, row: bad / data.columns, column: bad % data.columns)
        }
    }
}

import Linalg

/// The state of parallel tempering (Desjardins, Courville, Bengio, Vincent & Delalleau 2010) for
/// one RBM: M persistent chains per minibatch row at inverse temperatures
/// 0 < beta_1 < ... < beta_M = 1, each sampling p_beta(v, h) ∝ exp(-beta E(v, h)) with
/// E(v, h) = -v.b - h.c - v W h (Bernoulli units). After every Gibbs sweep, neighbours
/// (m, m + 1) exchange their states with the Metropolis probability
///
///     min(1, exp((beta_m - beta_{m+1}) (E(x_m) - E(x_{m+1})))),
///
/// pairs tried in order from the hottest up, so a state can climb several rungs in one sweep.
/// The ladder starts evenly spaced (beta_m = m / M) and adapts at every epoch boundary: each gap
/// is scaled by sqrt((a_m + 0.05) / mean(a + 0.05)), a_m the pair's acceptance rate over the
/// epoch, and the gaps renormalised between the fixed ends, so gaps with rare swaps shrink and
/// the rates even out. The engine's phases are in `ContrastiveDivergence+ParallelTempering`.
///
/// Shapes (B the engine's capacity, M chains, chain m's row r at m B + r): `visible` (M B, V)
/// the chains' states; `hiddenStates` (M B, H); `preActivation` (M B, H) beta_m v W;
/// `hiddenMeans` (M B, H) and `visibleMeans` (M B, V) scratch; `scaledHiddenBias` (M, H)
/// beta_m c and `scaledVisibleBias` (M, V) beta_m b; `partialEnergy` (M B, blocks) each
/// column block's share of E, summed in block order.
final class ParallelTempering: @unchecked Sendable {
    // @unchecked Sendable: blocks write disjoint columns (and their own partial-energy column);
    // the ladder and the counts change only between phases.
    let chainCount: Int, capacity: Int, blockCount: Int
    /// The inverse temperatures, ascending; the last is 1.
    private(set) var betas: [Double]
    let visible, hiddenStates, preActivation, hiddenMeans, visibleMeans: FloatBuffer
    let scaledHiddenBias, scaledVisibleBias: FloatBuffer
    let partialEnergy: UnsafeMutablePointer<Double>
    /// Whether the chains hold states (they start at the first minibatch's data; a resumed run
    /// starts them again there).
    var started = false
    /// Swap attempts and acceptances of each neighbour pair (m, m + 1) in the current epoch.
    var attempted: [Int], accepted: [Int]
    /// Scratch: one row's energies, one row of hidden states.
    private var energies: [Double]
    private let swapRow: FloatBuffer

    init(chains: Int, rows: Int, visibleCount: Int, hiddenCount: Int, blocks: Int) {
        precondition(chains >= 2 && rows >= 1, "ParallelTempering: \(chains) chains of \(rows) rows")
        chainCount = chains; capacity = rows; blockCount = blocks
        betas = (1...chains).map { Double($0) / Double(chains) }
        let n = chains * rows
        visible = FloatBuffer(count: n * visibleCount); visibleMeans = FloatBuffer(count: n * visibleCount)
        hiddenStates = FloatBuffer(count: n * hiddenCount); preActivation = FloatBuffer(count: n * hiddenCount)
        hiddenMeans = FloatBuffer(count: n * hiddenCount)
        scaledHiddenBias = FloatBuffer(count: chains * hiddenCount); scaledVisibleBias = FloatBuffer(count: chains * visibleCount)
        partialEnergy = .allocate(capacity: n * blocks)
        partialEnergy.initialize(repeating: 0, count: n * blocks)
        attempted = [Int](repeating: 0, count: chains - 1); accepted = attempted
        energies = [Double](repeating: 0, count: chains)
        swapRow = FloatBuffer(count: hiddenCount)
    }

    deinit { partialEnergy.deallocate() }

    /// The Metropolis probability of exchanging the states of the chains at `betaLow` and
    /// `betaHigh` whose energies are `energyLow` and `energyHigh`.
    static func swapProbability(betaLow: Double, betaHigh: Double, energyLow: Double, energyHigh: Double) -> Double {
        min(1, Libm.exp((betaLow - betaHigh) * (energyLow - energyHigh)))
    }

    /// The acceptance rate of each neighbour pair in the current epoch (0 before any attempt).
    var swapRates: [Double] { zip(accepted, attempted).map { $1 > 0 ? Double($0) / Double($1) : 0 } }

    /// beta_m c and beta_m b for every chain (after each update).
    func scaleBiases(hidden c: UnsafePointer<Float>, visible b: UnsafePointer<Float>, hiddenCount: Int, visibleCount: Int) {
        for m in 0..<chainCount {
            let beta = Float(betas[m])
            for j in 0..<hiddenCount { scaledHiddenBias.pointer[m * hiddenCount + j] = beta * c[j] }
            for i in 0..<visibleCount { scaledVisibleBias.pointer[m * visibleCount + i] = beta * b[i] }
        }
    }

    /// The neighbour swaps of rows 0 ..< rows after a sweep, from the partial energies, with
    /// the uniforms of `stream` (row r, unit m for the pair (m, m + 1)): exchanges the chains'
    /// hidden states (the visible states are redrawn from them next).
    func swap(rows: Int, hiddenCount nh: Int, stream: RandomStream) {
        for r in 0..<rows {
            for m in 0..<chainCount {
                var e = 0.0
                let p = partialEnergy + (m * capacity + r) * blockCount
                for block in 0..<blockCount { e += p[block] }
                energies[m] = e
            }
            for m in 0..<(chainCount - 1) {
                attempted[m] += 1
                let probability = Self.swapProbability(betaLow: betas[m], betaHigh: betas[m + 1],
                                                       energyLow: energies[m], energyHigh: energies[m + 1])
                guard probability >= 1 || Double(stream.uniform(row: r, unit: m)) < probability else { continue }
                accepted[m] += 1
                energies.swapAt(m, m + 1)
                let low = hiddenStates.pointer + (m * capacity + r) * nh, high = low + capacity * nh
                swapRow.pointer.update(from: low, count: nh)
                low.update(from: high, count: nh)
                high.update(from: swapRow.pointer, count: nh)
            }
        }
    }

    /// The energies E(v, h) of rows 0 ..< rows of every chain after the last sweep's hidden
    /// phase (chain-major), for tests.
    func lastEnergies(rows: Int) -> [[Double]] {
        (0..<chainCount).map { m in
            (0..<rows).map { r in
                let p = partialEnergy + (m * capacity + r) * blockCount
                return (0..<blockCount).reduce(0.0) { $0 + p[$1] }
            }
        }
    }

    /// Adapts the ladder to the last epoch's acceptance rates (see the type's comment) and
    /// starts new counts; nothing to adapt before the first swaps.
    func adaptLadder() {
        defer { attempted = attempted.map { _ in 0 }; accepted = attempted }
        guard attempted.allSatisfy({ $0 > 0 }) else { return }
        let rates = swapRates.map { $0 + 0.05 }
        let meanRate = rates.reduce(0, +) / Double(rates.count)
        var gaps = (0..<(chainCount - 1)).map { (betas[$0 + 1] - betas[$0]) * (rates[$0] / meanRate).squareRoot() }
        let scale = (1 - betas[0]) / gaps.reduce(0, +)
        gaps = gaps.map { $0 * scale }
        for m in 1..<chainCount { betas[m] = betas[m - 1] + gaps[m - 1] }
        betas[chainCount - 1] = 1
    }

    /// Restores a ladder (resuming); `betas` ascending, ending at 1.
    func setLadder(_ betas: [Double]) {
        precondition(betas.count == chainCount && betas.last == 1, "ParallelTempering.setLadder: \(betas)")
        self.betas = betas
    }
}

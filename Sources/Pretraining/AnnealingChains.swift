import Linalg

/// The M runs of (forward or reverse) annealed importance sampling of a Bernoulli RBM, as the
/// rows of one matrix, between the base-rate model A (zero weights, visible biases b_A) and the
/// RBM (W, b, c):
///
///     log p*_beta(v) = (1 - beta) v.b_A + beta v.b + sum_j softplus(beta t_j),  t = v W + c.
///
/// A step from beta_from to beta_to adds log p*_to(v) - log p*_from(v) to each run's log weight.
/// The softplus difference is computed without softplus: with s = sigmoid(beta_to t) and
/// d = beta_from - beta_to,
///
///     softplus(beta_to t) - softplus(beta_from t) = -log1p(s expm1(d t)),
///
/// exact (1 + e^{a + x}) / (1 + e^a) = 1 + sigmoid(a)(e^x - 1) rearranged), well conditioned in
/// Float because d t is small, and s is the hidden probability the transition at beta_to needs
/// anyway. One SIMD pass per step computes s, the polynomial expm1 and log1p, and the row sums
/// (each 8-lane chunk added in double precision to the run's weight). The earlier path called a
/// double-precision softplus (exp and log1p) twice per run and hidden unit and temperature:
/// 2 M H calls per temperature, 1.45e9 for the paper's 100 runs x 14,500 temperatures on 500
/// hidden units; this one calls none for whole chunks of 8 units whose log1p argument lies in [-0.5, 0.5]
/// and falls back to the double-precision difference for other chunks and the tail of a row
/// (H mod 8 units); `doubleCalls` counts those calls (the fine schedules of the paper keep |d t|
/// small: none on the models of the tests). `AnnealingTests` checks it against that path and exact log Z.
///
/// Shapes: v (M, V) binary states; x (M, H) v W, then s; h (M, H) sampled hidden states;
/// visible (M, V) the visible probabilities of a transition. Draws are keyed by (seed,
/// purpose, temperature index, run, unit).
struct AnnealingChains {
    let weight: Matrix                      // (V, H)
    let hiddenBias: [Float]                 // (H)
    let baseBias: [Float], targetBias: [Float]  // b_A, b (V)
    let biasDifference: [Double]            // b - b_A (V)
    let seed: UInt64
    var v: Matrix, x: Matrix, h: Matrix, visible: Matrix
    var mixedBias: [Float]
    /// Each run's log importance weight.
    var logWeights: [Double]
    /// How many double-precision softplus differences the steps fell back to (see above).
    var doubleCalls = 0
    /// log Z_A of the base-rate model with the RBM's hidden layer at beta = 0:
    /// sum softplus(b_A) + H log 2.
    let logBaseZ: Double

    init(rbm: RBM, baseVisibleBias: [Float], runs: Int, seed: UInt64) {
        weight = rbm.weight; hiddenBias = rbm.hiddenBias
        baseBias = baseVisibleBias; targetBias = rbm.visibleBias
        biasDifference = (0..<rbm.visibleCount).map { Double(rbm.visibleBias[$0]) - Double(baseVisibleBias[$0]) }
        self.seed = seed
        v = Matrix(rows: runs, columns: rbm.visibleCount); visible = v
        x = Matrix(rows: runs, columns: rbm.hiddenCount); h = x
        mixedBias = baseVisibleBias
        logWeights = [Double](repeating: 0, count: runs)
        logBaseZ = baseVisibleBias.reduce(0.0) { $0 + softplus(Double($1)) } + Double(rbm.hiddenCount) * Libm.log(2)
    }

    var runs: Int { v.rows }

    /// v ~ p_0, the base-rate model: independent pixels with p = sigmoid(b_A).
    mutating func sampleBaseRate() {
        let probabilities = baseBias.map { sigmoid($0) }, nv = v.columns, runs = v.rows
        let stream = RandomStream(seed: seed, purpose: .visibleSample(layer: 0, step: -1))
        probabilities.withUnsafeBufferPointer { p in
            v.elements.withUnsafeMutableBufferPointer { pv in
                for r in 0..<runs {
                    stream.sampleBernoulli(row: r, units: 0..<nv, probabilities: p.baseAddress!, into: pv.baseAddress! + r * nv)
                }
            }
        }
    }

    /// log w += log p*_to(v) - log p*_from(v) for every run; leaves x = sigmoid(to (v W + c)).
    mutating func addLogRatio(to: Double, from: Double) {
        // x = v W : (M, V) * (V, H) -> (M, H)
        gemmInRowChunks(v, weight, .none, into: &x)
        let nv = v.columns, nh = x.columns, runs = v.rows, step = to - from
        let betaTo = Float(to), d = Float(from - to), biasDifference = biasDifference
        var logWeights = self.logWeights, doubleCalls = 0
        defer { self.logWeights = logWeights; self.doubleCalls += doubleCalls }
        x.elements.withUnsafeMutableBufferPointer { px in
            v.elements.withUnsafeBufferPointer { pv in
                hiddenBias.withUnsafeBufferPointer { pc in
                    for r in 0..<runs {
                        let vr = pv.baseAddress! + r * nv
                        var visibleTerm = 0.0
                        for i in 0..<nv where vr[i] != 0 { visibleTerm += biasDifference[i] }
                        let (hiddenTerm, fallbacks) = AnnealingChains.softplusDifference(
                            px.baseAddress! + r * nh, bias: pc.baseAddress!, count: nh, betaTo: betaTo, d: d)
                        logWeights[r] += step * visibleTerm + hiddenTerm
                        doubleCalls += fallbacks
                    }
                }
            }
        }
    }

    /// The transition at `beta` (leaves p_beta invariant), from x = sigmoid(beta (v W + c)):
    /// h ~ x, then v ~ sigmoid((1 - beta) b_A + beta (b + h W^T)); draws keyed by `step`.
    mutating func transition(beta: Double, step: Int) {
        let nh = x.columns, nv = v.columns, runs = v.rows, betaF = Float(beta)
        let hiddenStream = RandomStream(seed: seed, purpose: .hiddenSample(layer: 0, step: step))
        x.elements.withUnsafeBufferPointer { px in
            h.elements.withUnsafeMutableBufferPointer { ph in
                for r in 0..<runs {
                    hiddenStream.sampleBernoulli(row: r, units: 0..<nh, probabilities: px.baseAddress! + r * nh,
                                                 into: ph.baseAddress! + r * nh)
                }
            }
        }
        for i in 0..<nv { mixedBias[i] = (1 - betaF) * baseBias[i] + betaF * targetBias[i] }
        // visible = beta * h W^T : (M, H) * (H, V) -> (M, V)
        gemmInRowChunks(h, weight, .transposed, into: &visible, alpha: betaF)
        let stream = RandomStream(seed: seed, purpose: .visibleSample(layer: 0, step: step))
        let mixedBias = mixedBias
        visible.elements.withUnsafeMutableBufferPointer { pp in
            mixedBias.withUnsafeBufferPointer { mb in
                UnitKernels.visibleMeans(.bernoulli, pp.baseAddress!, rows: runs, bias: mb.baseAddress!, columns: nv, stride: nv)
            }
            v.elements.withUnsafeMutableBufferPointer { pv in
                UnitKernels.sampleVisible(.bernoulli, means: pp.baseAddress!, rows: runs, columns: nv, first: 0, stride: nv,
                                          into: pv.baseAddress!, stream: stream)
            }
        }
    }

    /// sum_j softplus(betaTo t_j) - softplus((betaTo + d) t_j) with t = x + c, as
    /// -sum_j log1p(s_j expm1(d t_j)), s = sigmoid(betaTo t), summed per 8-lane chunk in double
    /// precision; x is overwritten by s. Also returns how many units fell back to
    /// double-precision softplus.
    static func softplusDifference(_ x: UnsafeMutablePointer<Float>, bias c: UnsafePointer<Float>, count: Int,
                                   betaTo: Float, d: Float) -> (sum: Double, doubleCalls: Int) {
        var sum = 0.0, j = 0, calls = 0
        while j + 8 <= count {
            let t = load8(x + j) + load8(c + j)
            let s = sigmoid8(betaTo * t)
            store8(s, x + j)
            let z = s * expm1Small8(d * t)
            if all((z .<= 0.5) .& (z .>= -0.5)) {
                sum -= Double(log1pSmall8(z).sum())
            } else {
                for lane in 0..<8 { sum += softplusDifference(t[lane], betaTo: betaTo, d: d) }
                calls += 8
            }
            j += 8
        }
        while j < count {
            let t = x[j] + c[j]
            x[j] = sigmoid(betaTo * t)
            sum += softplusDifference(t, betaTo: betaTo, d: d)
            calls += 1
            j += 1
        }
        return (sum, calls)
    }

    /// softplus(betaTo t) - softplus((betaTo + d) t) in double precision: the fallback for
    /// lanes whose log1p argument is large (near -1 the identity loses the digits that the
    /// rounding of s to Float drops) and for the tail of a row.
    static func softplusDifference(_ t: Float, betaTo: Float, d: Float) -> Double {
        let t = Double(t), b = Double(betaTo)
        return softplus(b * t) - softplus((b + Double(d)) * t)
    }

    /// e^y - 1 lane-wise: a degree-7 Taylor polynomial for |y| < 0.25 (relative error below
    /// 1e-9 there), exp8(y) - 1 elsewhere (where cancellation costs at most a factor of 4.5).
    @inline(__always)
    static func expm1Small8(_ y: SIMD8<Float>) -> SIMD8<Float> {
        var p = SIMD8<Float>(repeating: 1 / 5040)
        p = p * y + 1 / 720
        p = p * y + 1 / 120
        p = p * y + 1 / 24
        p = p * y + 1 / 6
        p = p * y + 0.5
        p = (p * y + 1) * y
        return (exp8(y) - 1).replacing(with: p, where: (y .< 0.25) .& (y .> -0.25))
    }

    /// log(1 + z) lane-wise for |z| <= 0.5: 2 atanh(u) with u = z / (2 + z), |u| <= 1/3, as
    /// 2 u (1 + u^2/3 + ... + u^12/13) (relative error below 1e-7 at |z| = 0.5, far less for
    /// the small z of fine schedules).
    @inline(__always)
    static func log1pSmall8(_ z: SIMD8<Float>) -> SIMD8<Float> {
        let u = z / (2 + z), u2 = u * u
        var p = SIMD8<Float>(repeating: 1 / 13)
        p = p * u2 + 1 / 11
        p = p * u2 + 1 / 9
        p = p * u2 + 1 / 7
        p = p * u2 + 1 / 5
        p = p * u2 + 1 / 3
        p = p * u2 + 1
        return 2 * u * p
    }
}

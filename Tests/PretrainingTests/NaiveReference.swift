import Foundation
import Linalg
@testable import Pretraining

// Independent references written with plain loops in double precision (no gemm, no kernels
// of the module), used to check the fast paths.

/// a * b with plain loops, in Double.
func naiveProduct(_ a: Matrix, _ b: Matrix) -> [[Double]] {
    precondition(a.columns == b.rows)
    return (0..<a.rows).map { r in
        (0..<b.columns).map { c in
            var s = 0.0
            for k in 0..<a.columns { s += Double(a[r, k]) * Double(b[k, c]) }
            return s
        }
    }
}

func naiveSigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

/// log(sum(exp(values))) by rescaling to the maximum.
func naiveLogSumExp(_ values: [Double]) -> Double {
    let m = values.max()!
    return m + Foundation.log(values.reduce(0) { $0 + Foundation.exp($1 - m) })
}

/// The energy E(v, h) of one joint state, from its definition.
func naiveEnergy(_ rbm: RBM, visible v: [Double], hidden h: [Double]) -> Double {
    var e = 0.0
    for i in 0..<rbm.visibleCount {
        switch rbm.visibleUnits {
        case .bernoulli: e -= v[i] * Double(rbm.visibleBias[i])
        case .gaussian: e += 0.5 * (v[i] - Double(rbm.visibleBias[i])) * (v[i] - Double(rbm.visibleBias[i]))
        }
    }
    for j in 0..<rbm.hiddenCount { e -= h[j] * Double(rbm.hiddenBias[j]) }
    for i in 0..<rbm.visibleCount {
        for j in 0..<rbm.hiddenCount { e -= v[i] * Double(rbm.weight[i, j]) * h[j] }
    }
    return e
}

/// All 2^n binary vectors of length n.
func allBinaryStates(_ n: Int) -> [[Double]] {
    (0..<(1 << n)).map { s in (0..<n).map { Double((s >> $0) & 1) } }
}

/// log Z by brute force over every joint binary state (v, h) (Bernoulli-Bernoulli).
func bruteForceLogPartition(_ rbm: RBM) -> Double {
    var terms: [Double] = []
    for v in allBinaryStates(rbm.visibleCount) {
        for h in allBinaryStates(rbm.hiddenCount) { terms.append(-naiveEnergy(rbm, visible: v, hidden: h)) }
    }
    return naiveLogSumExp(terms)
}

/// -log sum_h exp(-E(v, h)) by brute force over the binary hidden states.
func bruteForceFreeEnergy(_ rbm: RBM, _ v: [Double]) -> Double {
    -naiveLogSumExp(allBinaryStates(rbm.hiddenCount).map { -naiveEnergy(rbm, visible: v, hidden: $0) })
}

/// The mean exact log-likelihood of the rows of `data` by brute force (Bernoulli-Bernoulli).
func bruteForceAverageLogLikelihood(_ rbm: RBM, _ data: Matrix) -> Double {
    let logZ = bruteForceLogPartition(rbm)
    var sum = 0.0
    for r in 0..<data.rows { sum += -bruteForceFreeEnergy(rbm, data.row(r).map(Double.init)) - logZ }
    return sum / Double(data.rows)
}

/// A random RBM with weights N(0, weightScale^2) and biases N(0, biasScale^2).
func randomRBM(visible: Int, hidden: Int, weightScale: Float, biasScale: Float,
               visibleUnits: VisibleUnits = .bernoulli, hiddenUnits: HiddenUnits = .bernoulli,
               seed: UInt64) -> RBM {
    var g = Xoshiro256StarStar(seed: seed)
    let w = Matrix.normal(rows: visible, columns: hidden, standardDeviation: weightScale, using: &g)
    let b = Matrix.normal(rows: 1, columns: visible, standardDeviation: biasScale, using: &g).elements
    let c = Matrix.normal(rows: 1, columns: hidden, standardDeviation: biasScale, using: &g).elements
    return RBM(weight: w, visibleBias: b, hiddenBias: c, visibleUnits: visibleUnits, hiddenUnits: hiddenUnits)
}

/// Noisy copies of a few binary prototypes: each row is a prototype with every bit flipped
/// with probability `noise`.
func prototypeData(prototypes: [[Float]], rows: Int, noise: Float, seed: UInt64) -> Matrix {
    var g = Xoshiro256StarStar(seed: seed)
    let v = prototypes[0].count
    var m = Matrix(rows: rows, columns: v)
    for r in 0..<rows {
        let p = prototypes[Int(g.next() % UInt64(prototypes.count))]
        for i in 0..<v { m[r, i] = g.nextFloat() < noise ? 1 - p[i] : p[i] }
    }
    return m
}

/// The largest absolute difference between a matrix and a reference.
func maxDifference(_ m: Matrix, _ reference: [[Double]]) -> Double {
    var d = 0.0
    for r in 0..<m.rows { for c in 0..<m.columns { d = max(d, abs(Double(m[r, c]) - reference[r][c])) } }
    return d
}

let tenBitPrototypes: [[Float]] = [
    [1, 1, 1, 0, 0, 0, 1, 0, 1, 0],
    [0, 0, 0, 1, 1, 1, 0, 1, 0, 1],
    [1, 0, 1, 0, 1, 0, 1, 1, 0, 0],
]

/// Adds each row of the binary matrix `v` (n x V, V small) to `counts`, indexed by the state
/// sum_i v_i 2^i.
func countStates(_ v: Matrix, into counts: inout [Double]) {
    for r in 0..<v.rows {
        var state = 0
        for i in 0..<v.columns where v[r, i] == 1 { state |= 1 << i }
        counts[state] += 1
    }
}

/// The exact probability of every visible state of a small Bernoulli RBM, indexed as
/// `countStates` counts them.
func exactVisibleDistribution(_ rbm: RBM) throws -> [Double] {
    let n = rbm.visibleCount, logZ = try rbm.exactLogPartition()
    let states = Matrix((0..<(1 << n)).map { s in (0..<n).map { Float((s >> $0) & 1) } })
    return rbm.freeEnergy(states).map { Foundation.exp(-$0 - logZ) }
}

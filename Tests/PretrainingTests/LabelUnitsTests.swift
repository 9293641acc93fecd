import Foundation
import Linalg
import Testing
@testable import Pretraining

/// A small RBM with `features` Bernoulli visible units, `labels` softmax label units and
/// `hidden` Bernoulli hidden units, its parameters drawn N(0, scale^2).
func labelledRBM(features: Int, labels: Int, hidden: Int, seed: UInt64, scale: Float = 1) -> RBM {
    var g = Xoshiro256StarStar(seed: seed)
    let v = features + labels
    return RBM(weight: Matrix.normal(rows: v, columns: hidden, mean: 0, standardDeviation: scale, using: &g),
               visibleBias: Matrix.normal(rows: 1, columns: v, mean: 0, standardDeviation: scale, using: &g).elements,
               hiddenBias: Matrix.normal(rows: 1, columns: hidden, mean: 0, standardDeviation: scale, using: &g).elements,
               labelCount: labels)
}

/// The 2^n binary states of n units, one per row of a matrix.
func binaryStateMatrix(_ n: Int) -> Matrix {
    Matrix(rows: 1 << n, columns: n, elements: allBinaryStates(n).flatMap { $0.map(Float.init) })
}

@Suite("Label units: a softmax group in the visible layer")
struct LabelUnitsTests {
    @Test("p(label | h) is the softmax of the label units' inputs and sums to one")
    func conditionalsSumToOne() {
        let rbm = labelledRBM(features: 3, labels: 4, hidden: 3, seed: 1, scale: 1.5)
        let h = binaryStateMatrix(3)
        let p = rbm.visibleProbabilities(h)
        for r in 0..<h.rows {
            var inputs: [Double] = []
            for i in 0..<rbm.visibleCount {
                var x = Double(rbm.visibleBias[i])
                for j in 0..<3 { x += Double(rbm.weight[i, j]) * Double(h[r, j]) }
                if i < 3 {
                    #expect(abs(Double(p[r, i]) - naiveSigmoid(x)) < 1e-6)
                } else {
                    inputs.append(x)
                }
            }
            let normaliser = inputs.map(exp).reduce(0, +)
            var sum = 0.0
            for k in 0..<4 {
                sum += Double(p[r, 3 + k])
                #expect(abs(Double(p[r, 3 + k]) - exp(inputs[k]) / normaliser) < 1e-6)
            }
            #expect(abs(sum - 1) < 1e-6)
        }
    }

    @Test("a sample of the label group is one-hot, with the softmax's frequencies")
    func multinomialSample() {
        let rbm = labelledRBM(features: 2, labels: 3, hidden: 2, seed: 2)
        let n = 30_000
        let h = Matrix(rows: n, columns: 2, elements: (0..<n).flatMap { _ in [Float(1), 0] })
        var g = Xoshiro256StarStar(seed: 3)
        let sample = rbm.sampleVisible(given: h, using: &g)
        let p = rbm.visibleProbabilities(h.rows(in: 0..<1))
        var counts = [0, 0, 0]
        for r in 0..<n {
            let row = (2..<5).map { sample[r, $0] }
            #expect(row.reduce(0, +) == 1)
            counts[row.firstIndex(of: 1)!] += 1
        }
        // Chi-square with 2 degrees of freedom: 13.8 is its 0.999 quantile.
        var chi = 0.0
        for k in 0..<3 {
            let expected = Double(n) * Double(p[0, 2 + k])
            chi += (Double(counts[k]) - expected) * (Double(counts[k]) - expected) / expected
        }
        #expect(chi < 13.8, "chi-square \(chi), counts \(counts), p \((2..<5).map { p[0, $0] })")
    }

    @Test("the free energy with labels equals -log sum_h exp(-E(v, h)) by enumeration")
    func freeEnergyByEnumeration() {
        let rbm = labelledRBM(features: 2, labels: 3, hidden: 3, seed: 4)
        let v = Matrix([[1, 0, 0, 0, 1], [0, 1, 1, 0, 0]])
        let f = rbm.freeEnergy(v)
        for r in 0..<v.rows {
            #expect(abs(f[r] - bruteForceFreeEnergy(rbm, v.row(r).map(Double.init))) < 1e-5)
        }
    }

    /// The expected CD-1 statistics of the data row `v0` by enumeration over the hidden sample
    /// h ~ p(h | v0): E[v0^T h0 - v1^T h1], with h0 = p(h | v0), v1 = E[v | h] (softmax over the
    /// labels) and h1 = p(h | v1); and the bias terms E[v0 - v1], E[h0 - h1].
    static func expectedCD1(_ rbm: RBM, _ v0: [Float]) -> (w: [[Double]], b: [Double], c: [Double]) {
        let nv = rbm.visibleCount, nh = rbm.hiddenCount
        let h0 = rbm.hiddenProbabilities(Matrix(rows: 1, columns: nv, elements: v0))
        let states = binaryStateMatrix(nh)
        let v1 = rbm.visibleProbabilities(states)
        let h1 = rbm.hiddenProbabilities(v1)
        var w = Array(repeating: Array(repeating: 0.0, count: nh), count: nv)
        var b = Array(repeating: 0.0, count: nv), c = Array(repeating: 0.0, count: nh)
        for s in 0..<states.rows {
            var p = 1.0
            for j in 0..<nh { p *= states[s, j] == 1 ? Double(h0[0, j]) : 1 - Double(h0[0, j]) }
            for i in 0..<nv {
                b[i] += p * (Double(v0[i]) - Double(v1[s, i]))
                for j in 0..<nh {
                    w[i][j] += p * (Double(v0[i]) * Double(h0[0, j]) - Double(v1[s, i]) * Double(h1[s, j]))
                }
            }
            for j in 0..<nh { c[j] += p * (Double(h0[0, j]) - Double(h1[s, j])) }
        }
        return (w, b, c)
    }

    @Test("the CD-1 update of an RBM with labels averages to the enumerated CD-1 statistics")
    func cdGradientMatchesEnumeration() throws {
        let rbm = labelledRBM(features: 2, labels: 3, hidden: 3, seed: 5)
        let v0: [Float] = [1, 0, 0, 0, 1]
        let rows = 40_000
        // One step with rate 1, no momentum, no weight cost: the parameters move by the
        // statistics averaged over `rows` independent hidden samples of the same data row.
        let configuration = RBMTrainingConfiguration(learningRate: 1, initialMomentum: 0, finalMomentum: 0,
                                                     weightCost: 0)
        let stepper = try ContrastiveDivergenceStepper(rbm: rbm, configuration: configuration, batchSize: rows, seed: 6)
        stepper.step(on: Matrix(rows: 1, columns: 5, elements: v0), rows: Array(repeating: 0, count: rows)[...])
        let trained = stepper.rbm
        let expected = Self.expectedCD1(rbm, v0)
        // Each statistic is a mean of terms in [-1, 1]: 4.5 standard errors of at most 0.5/sqrt(n).
        let tolerance = 4.5 * 0.5 / Double(rows).squareRoot()
        for i in 0..<5 {
            #expect(abs(Double(trained.visibleBias[i] - rbm.visibleBias[i]) - expected.b[i]) < tolerance)
            for j in 0..<3 {
                #expect(abs(Double(trained.weight[i, j] - rbm.weight[i, j]) - expected.w[i][j]) < tolerance,
                        "W[\(i), \(j)]")
            }
        }
        for j in 0..<3 {
            #expect(abs(Double(trained.hiddenBias[j] - rbm.hiddenBias[j]) - expected.c[j]) < tolerance)
        }
    }
}

import Foundation
import Linalg
import Testing
@testable import Pretraining

@Suite("Conditionals and sampling")
struct ConditionalsTests {
    @Test("hidden and visible probabilities equal the naive formulas")
    func probabilitiesMatchNaive() {
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 1, biasScale: 0.5, seed: 20)
        var g = Xoshiro256StarStar(seed: 21)
        let v = Matrix.uniform(rows: 7, columns: 6, using: &g)
        let vw = naiveProduct(v, rbm.weight)
        let hiddenReference = vw.map { row in row.indices.map { naiveSigmoid(row[$0] + Double(rbm.hiddenBias[$0])) } }
        #expect(maxDifference(rbm.hiddenProbabilities(v), hiddenReference) < 1e-6)

        let h = Matrix.uniform(rows: 5, columns: 4, using: &g)
        let hw = naiveProduct(h, rbm.weight.transposed())
        let visibleReference = hw.map { row in row.indices.map { naiveSigmoid(row[$0] + Double(rbm.visibleBias[$0])) } }
        #expect(maxDifference(rbm.visibleProbabilities(h), visibleReference) < 1e-6)

        var gaussian = rbm
        gaussian.visibleUnits = .gaussian
        let meanReference = hw.map { row in row.indices.map { row[$0] + Double(rbm.visibleBias[$0]) } }
        #expect(maxDifference(gaussian.visibleProbabilities(h), meanReference) < 1e-5)

        var rectified = rbm
        rectified.hiddenUnits = .rectified
        let reluReference = vw.map { row in row.indices.map { max(0, row[$0] + Double(rbm.hiddenBias[$0])) } }
        #expect(maxDifference(rectified.hiddenProbabilities(v), reluReference) < 1e-5)
    }

    @Test("the mean of many sampled states approaches the probabilities")
    func samplesApproachProbabilities() {
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 1, biasScale: 0.5, seed: 22)
        let n = 20_000
        let state: [Float] = [1, 0, 0.5, 1, 0.2, 0]
        let v = Matrix(Array(repeating: state, count: n))
        var g = Xoshiro256StarStar(seed: 23)
        let p = rbm.hiddenProbabilities(Matrix([state]))
        let samples = rbm.sampleHidden(given: v, using: &g)
        #expect(samples.elements.allSatisfy { $0 == 0 || $0 == 1 })
        let means = samples.columnMeans()
        for j in 0..<4 {
            let sd = (Double(p[0, j]) * (1 - Double(p[0, j])) / Double(n)).squareRoot()
            #expect(abs(Double(means[j]) - Double(p[0, j])) < 5 * sd + 1e-4)
        }
        // Visible side, Bernoulli and Gaussian (mean and unit variance).
        let hState: [Float] = [1, 0, 1, 1]
        let h = Matrix(Array(repeating: hState, count: n))
        let pv = rbm.visibleProbabilities(Matrix([hState]))
        let vMeans = rbm.sampleVisible(given: h, using: &g).columnMeans()
        for i in 0..<6 { #expect(abs(vMeans[i] - pv[0, i]) < 0.02) }
        var gaussian = rbm
        gaussian.visibleUnits = .gaussian
        let gv = gaussian.sampleVisible(given: h, using: &g)
        let mean = gaussian.visibleProbabilities(Matrix([hState]))
        let gMeans = gv.columnMeans()
        for i in 0..<6 {
            #expect(abs(gMeans[i] - mean[0, i]) < 0.04)
            var variance = 0.0
            for r in 0..<n { variance += pow(Double(gv[r, i] - gMeans[i]), 2) }
            #expect(abs(variance / Double(n) - 1) < 0.05)
        }
    }

    @Test("NReLU samples: max(0, x + N(0, sigmoid(x))) has the mean of a rectified Gaussian")
    func rectifiedSamples() {
        var rbm = randomRBM(visible: 3, hidden: 5, weightScale: 1, biasScale: 1, seed: 24)
        rbm.hiddenUnits = .rectified
        let state: [Float] = [1, -0.5, 2]
        let n = 40_000
        var g = Xoshiro256StarStar(seed: 25)
        let samples = rbm.sampleHidden(given: Matrix(Array(repeating: state, count: n)), using: &g)
        #expect(samples.elements.allSatisfy { $0 >= 0 })
        let x = rbm.hiddenPreActivations(Matrix([state]))
        let means = samples.columnMeans()
        for j in 0..<5 {
            let mu = Double(x[0, j]), s = naiveSigmoid(mu).squareRoot()
            // E[max(0, X)] for X ~ N(mu, s^2) = mu Phi(mu / s) + s phi(mu / s).
            let z = mu / s
            let expected = mu * 0.5 * erfc(-z / 2.0.squareRoot()) + s * Foundation.exp(-z * z / 2) / (2 * Double.pi).squareRoot()
            #expect(abs(Double(means[j]) - expected) < 0.02, "unit \(j): \(means[j]) vs \(expected)")
        }
    }

    @Test("gibbsStep returns binary visible states of the input's shape")
    func gibbsStepShape() {
        let rbm = randomRBM(visible: 6, hidden: 4, weightScale: 1, biasScale: 0.5, seed: 26)
        var g = Xoshiro256StarStar(seed: 27)
        let v = Matrix.uniform(rows: 9, columns: 6, using: &g)
        let next = rbm.gibbsStep(v, using: &g)
        #expect(next.rows == 9 && next.columns == 6)
        #expect(next.elements.allSatisfy { $0 == 0 || $0 == 1 })
    }

    @Test("initialisation: N(0, 0.01^2) weights, log-odds visible biases, configurable")
    func initialisation() {
        var g = Xoshiro256StarStar(seed: 28)
        var data = Matrix(rows: 200, columns: 3)
        for r in 0..<200 { data[r, 0] = r < 50 ? 1 : 0; data[r, 1] = 0; data[r, 2] = 1 }
        let rbm = RBM(visibleCount: 3, hiddenCount: 400, data: data, generator: &g)
        let w = rbm.weight.elements.map(Double.init)
        let sd = (w.reduce(0) { $0 + $1 * $1 } / Double(w.count)).squareRoot()
        #expect(abs(sd - 0.01) < 0.0005)
        #expect(abs(Double(rbm.visibleBias[0]) - Foundation.log(0.25 / 0.75)) < 1e-5)
        #expect(abs(Double(rbm.visibleBias[1]) - Foundation.log(1e-3 / (1 - 1e-3))) < 1e-4)
        #expect(abs(Double(rbm.visibleBias[2]) - Foundation.log((1 - 1e-3) / 1e-3)) < 1e-4)
        #expect(rbm.hiddenBias.allSatisfy { $0 == 0 })

        let custom = RBM(visibleCount: 3, hiddenCount: 4, visibleUnits: .gaussian,
                         initialization: RBMInitialization(weightStandardDeviation: 0.1, hiddenBias: -4,
                                                           visibleBias: .fromData),
                         data: data, generator: &g)
        #expect(custom.hiddenBias.allSatisfy { $0 == -4 })
        #expect(abs(custom.visibleBias[0] - 0.25) < 1e-6 && abs(custom.visibleBias[2] - 1) < 1e-6)
        let zero = RBM(visibleCount: 3, hiddenCount: 4, initialization: .hintonSalakhutdinov2006, data: data,
                       generator: &g)
        #expect(zero.visibleBias.allSatisfy { $0 == 0 })
    }
}

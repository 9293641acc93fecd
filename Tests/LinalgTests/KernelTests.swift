import Foundation
import Linalg
import Testing

@Suite struct KernelTests {
    @Test func fastExpMatchesLibmAcrossRange() {
        var worst = 0.0
        var x: Float = -87
        while x < 88 {
            let rel = abs(Double(fastExp(x)) - exp(Double(x))) / exp(Double(x))
            worst = max(worst, rel)
            x += 0.173
        }
        #expect(worst < 5e-7)
    }

    @Test func expClampsInsteadOfOverflowing() {
        for x: Float in [1e30, .greatestFiniteMagnitude, 89, 1000] { #expect(fastExp(x).isFinite) }
        #expect(fastExp(.infinity).isFinite)
        #expect(fastExp(-1e30) >= 0 && fastExp(-1e30) < 1e-37)
        #expect(fastExp(.nan).isNaN)
    }

    static let extremes: [Float] = [-.infinity, -1e30, -100, -10, -1, -1e-8, 0, 1e-8, 1, 10, 100, 1e30, .infinity]

    @Test(arguments: Activation.allCases)
    func activationsAreFiniteAtExtremesAndMatchDefinitions(activation: Activation) {
        for x in Self.extremes {
            let y = activation.value(x)
            let expected: Double
            switch activation {
            case .sigmoid: expected = x == .infinity ? 1 : x == -.infinity ? 0 : 1 / (1 + exp(-Double(x)))
            case .tanh: expected = Foundation.tanh(Double(x))
            case .relu: expected = Double(max(x, 0))
            case .leakyReLU: expected = x > 0 ? Double(x) : 0.01 * Double(x)
            case .elu: expected = x > 0 ? Double(x) : exp(Double(x)) - 1
            case .identity, .maxout: expected = Double(x)
            }
            if x.isFinite && (activation == .sigmoid || activation == .tanh || activation == .elu) {
                #expect(y.isFinite, "\(activation) at \(x)")
            }
            if expected.isInfinite {
                #expect(Double(y) == expected, "\(activation) at \(x)")
            } else {
                #expect(abs(Double(y) - expected) <= 2e-7 * max(1, abs(expected)), "\(activation) at \(x): \(y) vs \(expected)")
            }
        }
    }

    @Test(arguments: Activation.allCases)
    func derivativeMatchesFiniteDifference(activation: Activation) {
        for x: Float in [-2.5, -0.7, 0.3, 1.9] {
            let h = 1e-3
            let numeric = (Double(activation.value(x + Float(h))) - Double(activation.value(x - Float(h)))) / (2 * h)
            var y = Matrix([[activation.value(x)]])
            var g = Matrix([[1]])
            activation.multiplyByDerivative(output: y, gradient: &g)
            #expect(abs(Double(g[0, 0]) - numeric) < 2e-3, "\(activation) at \(x)")
            y[0, 0] = 0
        }
    }

    @Test func softmaxRowsAreStableAndSumToOne() {
        var m = Matrix([[1, 2, 3], [1000, 1000, -1e30], [-1e30, -1e30, -1e30], [1e30, 0, -1e30]])
        m.softmaxRows()
        #expect(m.isFinite)
        for r in 0..<m.rows { #expect(abs(m.row(r).reduce(0, +) - 1) < 1e-5) }
        let e = [exp(1.0), exp(2.0), exp(3.0)]
        let s = e.reduce(0, +)
        for c in 0..<3 { #expect(abs(Double(m[0, c]) - e[c] / s) < 1e-6) }
        #expect(abs(m[1, 0] - 0.5) < 1e-6 && m[1, 2] < 1e-30)
        #expect(abs(m[2, 0] - 1.0 / 3) < 1e-6)
        #expect(m[3, 0] == 1)
    }

    @Test func fusedBiasSigmoidMatchesSeparateSteps() {
        var a = Matrix([[0, 1, -1], [2, -3, 0.5]])
        var b = a
        a.addBiasSigmoid([0.1, -0.2, 0.3])
        b.addRowVector([0.1, -0.2, 0.3])
        Activation.sigmoid.apply(&b)
        #expect(a == b)
    }

    @Test func softplusAndLogSumExpAreStable() {
        #expect(softplus(Double(1000)) == 1000)
        #expect(softplus(Double(-1000)) >= 0 && softplus(Double(-1000)) < 1e-300)
        #expect(abs(softplus(0.0) - log(2)) < 1e-15)
        #expect(abs(logSumExp([1000, 1000]) - (1000 + log(2))) < 1e-9)
        #expect(logSumExp([Double]()) == -.infinity)
    }
}

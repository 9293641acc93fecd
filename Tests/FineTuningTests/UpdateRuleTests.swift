import Foundation
import Testing
import Linalg
@testable import FineTuning

/// Optimiser steps against hand computations on a one-layer softmax network.
@Suite struct UpdateRuleTests {
    // W (2 x 2), b (2); one sample x = [1, 2] of class 0, stored twice so that an epoch of
    // batch 1 makes two steps.
    let start = DenseParameters(weight: Matrix([[0.1, -0.2], [0.3, 0.4]]), bias: [0.05, -0.05])
    let x: [Double] = [1, 2]
    let t: [Double] = [1, 0]

    var data: LabeledData { try! LabeledData(inputs: Matrix([[1, 2], [1, 2]]), labels: [0, 0], classCount: 2) }

    /// The gradient of the cross-entropy at (W, b) for the sample, by hand: dz = softmax(z) - t.
    func gradient(_ w: [[Double]], _ b: [Double]) -> (w: [[Double]], b: [Double]) {
        let z = (0..<2).map { c in b[c] + x[0] * w[0][c] + x[1] * w[1][c] }
        let m = z.max()!
        let e = z.map { exp($0 - m) }
        let dz = (0..<2).map { e[$0] / (e[0] + e[1]) - t[$0] }
        return ((0..<2).map { r in (0..<2).map { x[r] * dz[$0] } }, dz)
    }

    func initial() -> ([[Double]], [Double]) {
        ((0..<2).map { r in (0..<2).map { Double(start.weight[r, $0]) } }, start.bias.map(Double.init))
    }

    func trained(_ configuration: TrainingConfiguration) throws -> DenseParameters {
        let network = Network(layers: [start])
        return try Trainer(configuration: configuration).train(network, data: data).network.layers[0]
    }

    func expectClose(_ layer: DenseParameters, _ w: [[Double]], _ b: [Double]) {
        for r in 0..<2 { for c in 0..<2 { #expect(abs(Double(layer.weight[r, c]) - w[r][c]) < 1e-6) } }
        for c in 0..<2 { #expect(abs(Double(layer.bias[c]) - b[c]) < 1e-6) }
    }

    @Test func sgdWithMomentumAndWeightDecay() throws {
        let rate = 0.1, mu = 0.9, lambda = 0.01
        var (w, b) = initial()
        var vw = [[0.0, 0.0], [0.0, 0.0]], vb = [0.0, 0.0]
        for _ in 0..<4 {  // 2 epochs x 2 steps
            let g = gradient(w, b)
            for r in 0..<2 { for c in 0..<2 {
                vw[r][c] = mu * vw[r][c] - rate * (g.w[r][c] + lambda * w[r][c])
                w[r][c] += vw[r][c]
            } }
            for c in 0..<2 { vb[c] = mu * vb[c] - rate * g.b[c]; b[c] += vb[c] }
        }
        let configuration = TrainingConfiguration(epochs: 2, batchSize: 1, learningRate: 0.1, momentum: 0.9,
                                                  weightDecay: 0.01, diagnosticRows: 0)
        expectClose(try trained(configuration), w, b)
    }

    @Test func plainSGDWithWeightDecay() throws {
        var (w, b) = initial()
        for _ in 0..<4 {
            let g = gradient(w, b)
            for r in 0..<2 { for c in 0..<2 { w[r][c] -= 0.5 * (g.w[r][c] + 0.1 * w[r][c]) } }
            for c in 0..<2 { b[c] -= 0.5 * g.b[c] }
        }
        let configuration = TrainingConfiguration(epochs: 2, batchSize: 1, learningRate: 0.5, momentum: 0,
                                                  weightDecay: 0.1, diagnosticRows: 0)
        expectClose(try trained(configuration), w, b)
    }

    @Test func nesterovMomentum() throws {
        let rate = 0.1, mu = 0.9
        var (w, b) = initial()
        var vw = [[0.0, 0.0], [0.0, 0.0]], vb = [0.0, 0.0]
        for _ in 0..<4 {
            let g = gradient(w, b)
            for r in 0..<2 { for c in 0..<2 {
                vw[r][c] = mu * vw[r][c] - rate * g.w[r][c]
                w[r][c] += mu * vw[r][c] - rate * g.w[r][c]
            } }
            for c in 0..<2 { vb[c] = mu * vb[c] - rate * g.b[c]; b[c] += mu * vb[c] - rate * g.b[c] }
        }
        let configuration = TrainingConfiguration(epochs: 2, batchSize: 1, learningRate: 0.1, momentum: 0.9,
                                                  nesterov: true, diagnosticRows: 0)
        expectClose(try trained(configuration), w, b)
    }

    @Test func adamFirstStepsByHand() throws {
        let rate = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8
        var (w, b) = initial()
        // The first step moves every parameter by -rate * sign(g) (m_hat = g, s_hat = g^2).
        let g0 = gradient(w, b)
        var firstStep = start
        for r in 0..<2 { for c in 0..<2 { firstStep.weight[r, c] -= Float(rate * g0.w[r][c] / (abs(g0.w[r][c]) + eps)) } }
        for c in 0..<2 { firstStep.bias[c] -= Float(rate * g0.b[c] / (abs(g0.b[c]) + eps)) }

        var mw = [[0.0, 0.0], [0.0, 0.0]], sw = mw, mb = [0.0, 0.0], sb = mb
        for step in 1...4 {
            let g = gradient(w, b)
            let c1 = 1 - pow(b1, Double(step)), c2 = 1 - pow(b2, Double(step))
            for r in 0..<2 { for c in 0..<2 {
                mw[r][c] = b1 * mw[r][c] + (1 - b1) * g.w[r][c]
                sw[r][c] = b2 * sw[r][c] + (1 - b2) * g.w[r][c] * g.w[r][c]
                w[r][c] -= rate * (mw[r][c] / c1) / ((sw[r][c] / c2).squareRoot() + eps)
            } }
            for c in 0..<2 {
                mb[c] = b1 * mb[c] + (1 - b1) * g.b[c]
                sb[c] = b2 * sb[c] + (1 - b2) * g.b[c] * g.b[c]
                b[c] -= rate * (mb[c] / c1) / ((sb[c] / c2).squareRoot() + eps)
            }
        }
        let one = TrainingConfiguration(epochs: 1, batchSize: 2, optimizer: .adam(), learningRate: 0.01, diagnosticRows: 0)
        expectClose(try trained(one), (0..<2).map { r in (0..<2).map { Double(firstStep.weight[r, $0]) } },
                    firstStep.bias.map(Double.init))
        let four = TrainingConfiguration(epochs: 2, batchSize: 1, optimizer: .adam(), learningRate: 0.01, diagnosticRows: 0)
        expectClose(try trained(four), w, b)
    }

    /// Runs `steps` steps of `rule` on a block of 21 parameters (two SIMD vectors and a tail)
    /// with fresh random gradients and compares with `reference`, a naive double-precision
    /// loop over one parameter: (w, g, moment, second, rate, decay, t) -> (w, moment, second).
    func checkAgainstReference(_ rule: any OptimizerStep, secondMoment: Bool, decay: Float,
                               reference: (Double, Double, Double, Double, Double, Double, Int) -> (Double, Double, Double)) {
        let count = 21, rate: Float = 0.05
        var g = Xoshiro256StarStar(seed: 90)
        var w = (0..<count).map { _ in g.nextNormal() }, m = [Float](repeating: 0, count: count), s = m
        var rw = w.map(Double.init), rm = [Double](repeating: 0, count: count), rs = rm
        for t in 1...5 {
            let gradient = (0..<count).map { _ in g.nextNormal() }
            var consumed = gradient
            w.withUnsafeMutableBufferPointer { wb in
                m.withUnsafeMutableBufferPointer { mb in
                    s.withUnsafeMutableBufferPointer { sb in
                        consumed.withUnsafeMutableBufferPointer { gb in
                            rule.apply(ParameterBlock(values: wb.baseAddress!, gradient: gb.baseAddress!, moment: mb.baseAddress!,
                                                      secondMoment: secondMoment ? sb.baseAddress! : nil, count: count),
                                       rate: rate, decay: decay, step: t)
                        }
                    }
                }
            }
            #expect(consumed.allSatisfy { $0 == 0 }, "\(rule) step \(t): the gradient is cleared after it is read")
            for i in 0..<count {
                (rw[i], rm[i], rs[i]) = reference(rw[i], Double(gradient[i]), rm[i], rs[i], Double(rate), Double(decay), t)
            }
            for i in 0..<count {
                #expect(abs(Double(w[i]) - rw[i]) < 1e-5 * max(1, abs(rw[i])), "\(rule) step \(t), element \(i)")
                #expect(abs(Double(m[i]) - rm[i]) < 1e-5 * max(1, abs(rm[i])), "\(rule) step \(t), moment \(i)")
                #expect(abs(Double(s[i]) - rs[i]) < 1e-5 * max(1, abs(rs[i])), "\(rule) step \(t), second moment \(i)")
            }
        }
    }

    @Test("optimiser steps against naive scalar references", arguments: [Float(0), 0.01])
    func optimiserStepsMatchNaiveReferences(decay: Float) {
        for mu in [0.0, 0.9] {
            checkAgainstReference(MomentumStep(momentum: Float(mu)), secondMoment: false, decay: decay) { w, g, v, _, rate, decay, _ in
                let velocity = mu * v - rate * (g + decay * w)
                return (w + velocity, velocity, 0)
            }
            checkAgainstReference(NesterovStep(momentum: Float(mu)), secondMoment: false, decay: decay) { w, g, v, _, rate, decay, _ in
                let velocity = mu * v - rate * (g + decay * w)
                return (w + mu * velocity - rate * (g + decay * w), velocity, 0)
            }
        }
        let (b1, b2, eps) = (0.9, 0.999, 1e-8)
        checkAgainstReference(AdamStep(beta1: Float(b1), beta2: Float(b2), epsilon: Float(eps)), secondMoment: true,
                              decay: decay) { w, g, m, s, rate, decay, t in
            let gradient = g + decay * w
            let first = b1 * m + (1 - b1) * gradient, second = b2 * s + (1 - b2) * gradient * gradient
            let mHat = first / (1 - pow(b1, Double(t))), sHat = second / (1 - pow(b2, Double(t)))
            return (w - rate * mHat / (sHat.squareRoot() + eps), first, second)
        }
    }

    @Test("the configuration picks the rule")
    func configurationPicksTheRule() {
        #expect(TrainingConfiguration(momentum: 0.7).optimizerStep is MomentumStep)
        #expect(TrainingConfiguration(momentum: 0.7, nesterov: true).optimizerStep is NesterovStep)
        #expect(TrainingConfiguration(optimizer: .adam()).optimizerStep is AdamStep)
        #expect(TrainingConfiguration(optimizer: .adam()).usesSecondMoment)
        #expect(!TrainingConfiguration().usesSecondMoment)
    }
}

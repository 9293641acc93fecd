import Foundation
import Testing
import Linalg
@testable import FineTuning

/// Optimiser steps against hand computations on a one-layer softmax network.
@Suite struct UpdateRuleTests {
    // W (2 x 2), b (2); one sample x = [1, 2] of class 0, stored twice so that an epoch of
    // batch 1 makes two steps (the first with the explicit gradient, the second folded).
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

    /// The folded update (V = momentum V - (rate/B) X^T delta in one gemm with beta =
    /// momentum, then V -= rate lambda W; W += V) equals the textbook two-step update from the
    /// explicit gradient, over several steps of a deeper network.
    @Test(arguments: [(Float(0.9), Float(0.001)), (0.9, 0), (0, 0.01), (0, 0)])
    func foldedMomentumEqualsTextbook(momentum: Float, decay: Float) throws {
        var g = Xoshiro256StarStar(seed: 4)
        let network = try Network(sizes: [6, 7, 5, 3], hiddenActivation: .tanh, initializer: .xavierNormal, generator: &g)
        let configuration = TrainingConfiguration(learningRate: 0.3, momentum: momentum, weightDecay: decay)
        let folded = TrainingState(network: network, capacity: 8, configuration: configuration)
        let textbook = TrainingState(network: network, capacity: 8, configuration: configuration)
        let x = randomInputs(rows: 8, columns: 6, seed: 5)
        let data = try LabeledData(inputs: x, labels: randomLabels(count: 8, classes: 3, seed: 6), classCount: 3)
        for state in [folded, textbook] {
            x.elements.withUnsafeBufferPointer { xb in
                data.targets.elements.withUnsafeBufferPointer { tb in
                    state.loadRows(Array(0..<8)[...], inputs: xb.baseAddress!, targets: tb.baseAddress!)
                }
            }
        }
        for _ in 0..<3 {
            for (state, explicit) in [(folded, false), (textbook, true)] {
                state.forward(rows: 8, generator: &g)
                _ = state.output.outputPass(state.activations[2].pointer, targets: state.target.pointer,
                                            rows: 8, columns: 3, write: .delta)
                state.backward(rows: 8, downTo: 0)
                for l in 0..<3 {
                    if explicit {
                        state.computeGradient(layer: l, rows: 8)
                        state.applyGradient(layer: l, learningRate: 0.3)
                    } else {
                        state.foldedMomentumUpdate(layer: l, rows: 8, learningRate: 0.3)
                    }
                }
            }
        }
        for l in 0..<3 {
            let a = folded.weights[l].array, b = textbook.weights[l].array
            for i in a.indices { #expect(abs(a[i] - b[i]) < 1e-5) }
            let ab = folded.biases[l].array, bb = textbook.biases[l].array
            for i in ab.indices { #expect(abs(ab[i] - bb[i]) < 1e-5) }
            #expect(a != network.layers[l].weight.elements)
        }
    }
}

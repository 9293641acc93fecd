import Foundation
import Linalg
import Testing
@testable import Pretraining

@Suite("The hybrid objective of a label RBM: CD plus the discriminative gradient (Larochelle & Bengio 2008)")
struct DiscriminativeGradientTests {
    /// The parameters of an RBM with labels in double precision, flattened: the weight (V x H,
    /// row-major), then the visible biases (V), then the hidden biases (H).
    static func parameters(_ rbm: RBM) -> [Double] {
        (rbm.weight.elements + rbm.visibleBias + rbm.hiddenBias).map(Double.init)
    }

    /// The mean over the rows of log p(y | x) for parameters `theta` (`parameters`' layout) of
    /// an RBM with F features, K labels and H hidden units, from the free energies
    /// F(x, e_k) = -b.x - d_k - sum_j softplus(c_j + x W_j + U_kj), naively in double precision.
    static func meanLogConditional(_ theta: [Double], features f: Int, labels k: Int, hidden h: Int,
                                   x: [[Double]], y: [Int]) -> Double {
        let v = f + k, visibleBias = v * h, hiddenBias = visibleBias + v
        var total = 0.0
        for (row, label) in zip(x, y) {
            var base = [Double](repeating: 0, count: h)
            for j in 0..<h {
                var o = theta[hiddenBias + j]
                for i in 0..<f { o += row[i] * theta[i * h + j] }
                base[j] = o
            }
            let logits = (0..<k).map { c in
                (0..<h).reduce(theta[visibleBias + f + c]) { $0 + softplus(base[$1] + theta[(f + c) * h + $1]) }
            }
            total += logits[label] - logSumExp(logits)
        }
        return total / Double(x.count)
    }

    @Test("the update with the discriminative weight differs from plain CD by rate x weight x the finite-difference gradient of log p(y | x)")
    func discriminativeGradientMatchesFiniteDifferences() throws {
        // 8 features + 3 labels -> 3000 hidden units: the engine splits the hidden units into 4
        // blocks, so p(y | x) needs the blocks' sums. Small weights keep p(y | x) away from 0 and 1.
        let (f, k, h) = (8, 3, 3000)
        let rbm = labelledRBM(features: f, labels: k, hidden: h, seed: 71, scale: 0.05)
        #expect(Lanes.blockCount(productSize: (f + k) * h) > 1)
        var g = Xoshiro256StarStar(seed: 72)
        let y = [0, 1, 2, 1]
        let x = y.map { _ in (0..<f).map { _ in Double(g.nextFloat()) } }
        let data = Matrix(rows: y.count, columns: f + k, elements: zip(x, y).flatMap { row, label in
            row.map(Float.init) + (0..<k).map { $0 == label ? 1 : 0 }
        })
        let (rate, alpha): (Float, Float) = (0.5, 2)
        func trained(_ weight: Float) throws -> RBM {
            let configuration = RBMTrainingConfiguration(batchSize: y.count, learningRate: rate, initialMomentum: 0,
                                                         finalMomentum: 0, weightCost: 0, discriminativeWeight: weight)
            let stepper = try ContrastiveDivergenceStepper(rbm: rbm, configuration: configuration, seed: 73)
            stepper.step(on: data, rows: Array(0..<y.count)[...])
            return stepper.rbm
        }
        // The same seed gives the same CD statistics: the difference is the discriminative term.
        let hybrid = Self.parameters(try trained(alpha)), plain = Self.parameters(try trained(0))
        let theta = Self.parameters(rbm)
        let v = f + k
        // Every label weight and hidden bias of a few units in each block, a spread of feature
        // weights, every visible bias.
        let units = [0, 1, 700, 751, 1499, 1500, 2249, 2250, 2999]
        var indices = units.flatMap { j in (f..<v).map { $0 * h + j } + [v * h + v + j] }
        indices += (0..<f).flatMap { i in units.map { i * h + $0 } }
        indices += (0..<v).map { v * h + $0 }
        var worst = 0.0, largest = 0.0
        for index in indices {
            var plus = theta, minus = theta
            let step = 1e-4
            plus[index] += step
            minus[index] -= step
            let gradient = (Self.meanLogConditional(plus, features: f, labels: k, hidden: h, x: x, y: y)
                            - Self.meanLogConditional(minus, features: f, labels: k, hidden: h, x: x, y: y)) / (2 * step)
            let measured = (hybrid[index] - plain[index]) / Double(rate * alpha)
            worst = max(worst, abs(measured - gradient))
            largest = max(largest, abs(gradient))
            #expect(abs(measured - gradient) < 2e-5 + 1e-3 * abs(gradient), "parameter \(index): \(measured) vs \(gradient)")
        }
        // The check is not empty: the gradient is far from zero somewhere.
        #expect(largest > 0.05, "largest gradient \(largest), worst difference \(worst)")
        // The feature biases get no discriminative gradient: bit for bit as plain CD.
        for i in 0..<f { #expect(hybrid[v * h + i] == plain[v * h + i]) }
    }

    @Test("the hybrid objective is refused with centering or tempering, and a negative weight")
    func invalidCombinations() {
        for configuration in [RBMTrainingConfiguration(centered: true, discriminativeWeight: 1),
                              RBMTrainingConfiguration(persistent: true, temperatures: 3, discriminativeWeight: 1),
                              RBMTrainingConfiguration(discriminativeWeight: -1)] {
            #expect(throws: PretrainingError.self) { try configuration.validate() }
        }
        #expect(throws: Never.self) { try RBMTrainingConfiguration(persistent: true, discriminativeWeight: 1).validate() }
    }

    @Test("the weight round-trips through JSON and old JSON without it reads as 0")
    func configurationJSON() throws {
        let hybrid = RBMTrainingConfiguration(discriminativeWeight: 0.5)
        let decoded = try JSONDecoder().decode(RBMTrainingConfiguration.self, from: JSONEncoder().encode(hybrid))
        #expect(decoded == hybrid)
        let plain = String(decoding: try JSONEncoder().encode(RBMTrainingConfiguration()), as: UTF8.self)
        #expect(!plain.contains("discriminative"))
    }
}

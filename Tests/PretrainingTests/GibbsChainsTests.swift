import Foundation
import Linalg
import Testing
@testable import Pretraining

@Suite("The Gibbs chain runner: sampling, dreaming and label settling", .serialized)
struct GibbsChainsTests {
    @Test("dream and sample give the same bits with 1 and 2 threads (chains beyond one gemm chunk)")
    func threadIndependent() {
        let model = smallGenerativeDBN(sizes: [6, 5], topHidden: 7, labels: 3, seed: 61, untied: true)
        var g = Xoshiro256StarStar(seed: 62)
        let images = Matrix.uniform(rows: 300, columns: 6, using: &g)
        func run(threads: Int) -> (Matrix, Matrix, [Matrix]) {
            Lanes.setThreads(threads)
            defer { Lanes.setThreads(2) }
            let dream = model.dream(label: 2, count: 300, steps: 9, seed: 5, annealing: 4, frames: [3, 9])
            return (model.stack.sample(layer: 0, from: images, steps: 9, seed: 5), dream.images, dream.frames)
        }
        let one = run(threads: 1), two = run(threads: 2)
        #expect(one.0.elements.map(\.bitPattern) == two.0.elements.map(\.bitPattern))
        #expect(one.1.elements.map(\.bitPattern) == two.1.elements.map(\.bitPattern))
        #expect(one.2 == two.2)
    }

    @Test("the observer sees every step; settled label probabilities sum to one")
    func clamps() {
        let model = smallGenerativeDBN(sizes: [6, 5], topHidden: 7, labels: 3, seed: 63, untied: false)
        let top = model.top
        var g = Xoshiro256StarStar(seed: 64)
        var start = Matrix.uniform(rows: 4, columns: top.visibleCount, using: &g)
        start.elements = start.elements.map { $0 < 0.5 ? 0 : 1 }
        let seen = Box()
        _ = GibbsChains(rbm: top, clamp: .label(1), seed: 3, layer: 1).run(from: start, steps: 5) { s, means in
            #expect(means.rows == 4 && means.columns == top.visibleCount)
            seen.steps.append(s)
        }
        #expect(seen.steps == Array(0...5))
        // Label settling: with the features clamped, the label means are a distribution.
        let p = model.settledLabelProbabilities(Matrix.uniform(rows: 4, columns: 6, using: &g), steps: 3, seed: 1)
        for r in 0..<4 { #expect(abs(p[(r * 3)..<(r * 3 + 3)].reduce(0, +) - 1) < 1e-5) }
    }

    final class Box: @unchecked Sendable { var steps: [Int] = [] }

    @Test("up-down epoch reports: every layer's wake error, the top RBM's reconstruction error, the test error")
    func upDownReports() throws {
        let (data, labels) = GenerativeDBNTests.toyData(rows: 40, seed: 81)
        var g = Xoshiro256StarStar(seed: 82)
        let stack = DeepBeliefNetwork(layerSizes: [16, 12, 10], labelCount: 4, generator: &g)
        var model = GenerativeDeepBeliefNetwork(stack: stack)
        let configuration = UpDownConfiguration(epochs: 3, batchSize: 10, cdSchedule: [1])
        var reports: [UpDownEpochReport] = []
        try model.upDown(on: data, labels: labels, configuration: configuration, generator: &g,
                         test: (data, labels), testEvery: 2, onEpoch: { reports.append($0) })
        #expect(reports.count == 3)
        for report in reports {
            #expect(report.wakeErrors?.count == 1 && report.wakeErrors?[0] == report.pixelError)
            #expect((report.topReconstructionError ?? 0) > 0)
        }
        // Measured after epoch 2 and the last.
        #expect(reports.map { $0.testError != nil } == [false, true, true])
        let wrong = zip(model.classify(data), labels).filter { $0 != $1 }.count
        #expect(reports[2].testError == Double(wrong) / 40)
    }

    @Test("labels left to settle reach softmax(-F): the chain's label distribution given x, by enumeration")
    func settlingMatchesFreeEnergy() {
        var model = smallGenerativeDBN(sizes: [6, 4], topHidden: 5, labels: 3, seed: 71, untied: false)
        // Label weights strong enough that the labels differ, weak enough to mix.
        for k in 0..<3 { for j in 0..<5 { model.stack.layers[1].weight[4 + k, j] = Float((k * 5 + j) % 4) * 0.6 - 0.9 } }
        var g = Xoshiro256StarStar(seed: 72)
        let image = Matrix.uniform(rows: 1, columns: 6, using: &g)
        // One image repeated: 4000 independent chains.
        let n = 4000
        let images = Matrix(rows: n, columns: 6, elements: (0..<n).flatMap { _ in image.elements })
        let x = model.upPass(image)
        let top = model.top
        let energies = (0..<3).map { k in
            bruteForceFreeEnergy(top, (0..<4).map { Double(x[0, $0]) } + (0..<3).map { $0 == k ? 1.0 : 0 })
        }
        let z = energies.map { exp(-$0) }.reduce(0, +)
        let exact = energies.map { exp(-$0) / z }
        #expect(exact.max()! - exact.min()! > 0.1, "\(exact): the labels should differ")
        // The sampled labels at step 20 (chi-square, 2 degrees of freedom) ...
        var counts = [0, 0, 0]
        let chains = GibbsChains(rbm: top, clamp: .features, seed: 9, layer: 1)
        var start = Matrix(rows: n, columns: 7, repeating: 1.0 / 3)
        for r in 0..<n { for i in 0..<4 { start[r, i] = x[0, i] } }
        let stream = RandomStream(seed: 99, purpose: .other(1, 2))
        _ = chains.run(from: start, steps: 20) { s, means in
            guard s == 20 else { return }
            for r in 0..<n {
                let u = Double(stream.uniform(row: r, unit: 0))
                let p0 = Double(means[r, 4]), p1 = Double(means[r, 5])
                counts[u < p0 ? 0 : u < p0 + p1 ? 1 : 2] += 1
            }
        }
        let chiSquare = (0..<3).reduce(0.0) { sum, k in
            let e = exact[k] * Double(n)
            return sum + (Double(counts[k]) - e) * (Double(counts[k]) - e) / e
        }
        #expect(chiSquare < 13.8, "chi-square \(chiSquare) (p < 0.001), counts \(counts), exact \(exact)")
        // ... and the estimate averaged over steps and chains.
        let settled = model.settledLabelProbabilities(images, steps: 20, seed: 4)
        for k in 0..<3 {
            let mean = (0..<n).reduce(0.0) { $0 + settled[$1 * 3 + k] } / Double(n)
            #expect(abs(mean - exact[k]) < 0.02, "label \(k): \(mean) vs \(exact[k])")
        }
    }

    @Test("scaled(by: beta) multiplies every energy by beta")
    func scaledEnergy() {
        var g = Xoshiro256StarStar(seed: 81)
        let rbm = RBM(weight: .normal(rows: 5, columns: 3, mean: 0, standardDeviation: 1, using: &g),
                      visibleBias: [0.3, -0.2, 0.5, 0.1, -1], hiddenBias: [0.2, -0.4, 0.7], labelCount: 2)
        let hot = rbm.scaled(by: 0.25)
        for v in allBinaryStates(5) {
            for h in allBinaryStates(3) {
                #expect(abs(naiveEnergy(hot, visible: v, hidden: h) - 0.25 * naiveEnergy(rbm, visible: v, hidden: h)) < 1e-5)
            }
        }
        #expect(rbm.scaled(by: 1) == rbm)
    }

    /// A top RBM with two deep modes (units below the labels all on, or all off; about equal
    /// masses given label 0) that plain Gibbs sampling crosses about once in thousands of steps.
    @Test("annealed dream chains leave the mode they start in; plain chains stay; the mode masses approach the exact ones")
    func annealingCrossesModes() {
        // 4 units below the labels, 2 labels, 2 hidden units: hidden 0 switches the "on" mode.
        var weight = Matrix(rows: 6, columns: 2)
        for i in 0..<4 { weight[i, 0] = 10; weight[i, 1] = Float(i % 2) * 0.4 - 0.2 }
        weight[4, 0] = 1; weight[5, 0] = -1           // label 0 pulls hidden 0 on
        let top = RBM(weight: weight, visibleBias: [-5, -5, -5, -5, 0, 0], hiddenBias: [-21, 0.1], labelCount: 2)
        // Exact p(x | label 0) by enumeration: the mass of the "on" mode (3 or 4 units on).
        let states = allBinaryStates(4)
        let weights = states.map { exp(-bruteForceFreeEnergy(top, $0 + [1, 0])) }
        let total = weights.reduce(0, +)
        let exactOn = zip(states, weights).filter { $0.0.reduce(0, +) >= 3 }.map(\.1).reduce(0, +) / total
        #expect(exactOn > 0.3 && exactOn < 0.9, "exact on-mode mass \(exactOn)")
        // 2000 chains from "all off" with label 0 clamped: 60 steps, plain or annealed over 40.
        let n = 2000
        let start = Matrix(rows: n, columns: 6)
        func onFraction(annealing: Int) -> Double {
            let chains = GibbsChains(rbm: top, clamp: .label(0), seed: 3, layer: 1)
            let means = chains.run(from: start, steps: 60, annealing: annealing)
            let stream = RandomStream(seed: 7, purpose: .other(3, 1))
            var on = 0
            for r in 0..<n {
                let units = (0..<4).filter { stream.uniform(row: r, unit: $0) < means[r, $0] }.count
                if units >= 3 { on += 1 }
            }
            return Double(on) / Double(n)
        }
        let plain = onFraction(annealing: 0), annealed = onFraction(annealing: 40)
        #expect(plain < 0.05, "plain chains left the start's mode: \(plain)")
        #expect(abs(annealed - exactOn) < 0.1, "annealed \(annealed), exact \(exactOn)")
    }
}

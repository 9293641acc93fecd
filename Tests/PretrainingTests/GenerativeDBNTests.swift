import Foundation
import Linalg
import Testing
@testable import Pretraining

@Suite("The generative DBN: classification and generation")
struct GenerativeDBNTests {
    @Test("classification by free energy equals brute-force enumeration of the top RBM's joint states")
    func freeEnergyClassification() {
        var model = smallGenerativeDBN(sizes: [6, 5, 4], topHidden: 5, labels: 4, seed: 31, untied: true)
        // Strong weights and no label biases, so that different rows get different labels.
        for i in 0..<3 { model.stack.layers[i].weight.elements = model.stack.layers[i].weight.elements.map { 6 * $0 } }
        for k in 0..<4 {
            model.stack.layers[2].visibleBias[4 + k] = 0
            for j in 0..<5 { model.stack.layers[2].weight[4 + k, j] = j == k ? 3 : -3 }
        }
        var g = Xoshiro256StarStar(seed: 32)
        var v = Matrix.uniform(rows: 12, columns: 6, using: &g)
        v.elements = v.elements.map { $0 < 0.5 ? 0 : 1 }
        let energies = model.labelFreeEnergies(v)
        let predicted = model.classify(v)
        // The up pass by hand, then -log sum_h exp(-E([x, e_k], h)) over the 2^5 hidden states.
        var x = v
        for rbm in model.stack.layers.dropLast() {
            x = Matrix(rows: x.rows, columns: rbm.hiddenCount, elements: (0..<x.rows).flatMap { r in
                (0..<rbm.hiddenCount).map { j in
                    var s = Double(rbm.hiddenBias[j])
                    for i in 0..<rbm.visibleCount { s += Double(x[r, i]) * Double(rbm.weight[i, j]) }
                    return Float(1 / (1 + exp(-s)))
                }
            })
        }
        let top = model.top
        var agreements = 0
        for r in 0..<v.rows {
            var best = 0, bestLogP = -Double.infinity
            for k in 0..<4 {
                let visible = (0..<4).map { Double(x[r, $0]) } + (0..<4).map { $0 == k ? 1.0 : 0 }
                let logP = -bruteForceFreeEnergy(top, visible)
                #expect(abs(energies[r * 4 + k] + logP) < 1e-4, "row \(r), label \(k)")
                if logP > bestLogP { best = k; bestLogP = logP }
            }
            if predicted[r] == best { agreements += 1 }
        }
        #expect(agreements == v.rows)
        // The labels are not all the same (the test would be weak otherwise).
        #expect(Set(predicted).count > 1, "\(predicted) \(energies.prefix(8))")
    }

    /// Four classes of 16-pixel images: class c lights pixels 4c ..< 4c + 4 (each on with
    /// probability 0.9) and one random other pixel in ten images; the rest stay off.
    static func toyData(rows: Int, seed: UInt64) -> (Matrix, [Int]) {
        var g = Xoshiro256StarStar(seed: seed)
        var data = Matrix(rows: rows, columns: 16)
        var labels: [Int] = []
        for r in 0..<rows {
            let c = r % 4
            labels.append(c)
            for p in (4 * c)..<(4 * c + 4) where Float(g.next() >> 40) * 0x1p-24 < 0.9 { data[r, p] = 1 }
            if r % 10 == 0 { data[r, Int(g.next() % 16)] = 1 }
        }
        return (data, labels)
    }

    /// The class whose block of pixels is brightest.
    static func nearestClass(_ image: [Float]) -> Int {
        (0..<4).max { a, b in image[(4 * a)..<(4 * a + 4)].reduce(0, +) < image[(4 * b)..<(4 * b + 4)].reduce(0, +) }!
    }

    @Test("a small generative DBN trained on a toy set dreams images of the clamped class and classifies it")
    func dreamsTheClampedClass() throws {
        let (data, labels) = Self.toyData(rows: 400, seed: 41)
        var g = Xoshiro256StarStar(seed: 42)
        var stack = DeepBeliefNetwork(layerSizes: [16, 12, 20], labelCount: 4, generator: &g)
        try stack.pretrain(on: data, configuration: RBMTrainingConfiguration(epochs: 30, batchSize: 20), labels: labels,
                           generator: &g)
        var model = GenerativeDeepBeliefNetwork(stack: stack)
        let greedyError = zip(model.classify(data), labels).filter { $0 != $1 }.count
        #expect(greedyError < 40, "greedy: \(greedyError) of 400 misclassified")
        try model.upDown(on: data, labels: labels, configuration: UpDownConfiguration(epochs: 5, batchSize: 20,
                                                                                         cdSchedule: [3, 6]),
                         generator: &g)
        #expect(model.isUntied)
        var agree = 0
        for label in 0..<4 {
            let (images, frames) = model.dream(label: label, count: 25, steps: 50, seed: 43, frames: [1, 50])
            #expect(images.rows == 25 && images.columns == 16 && frames.count == 2)
            #expect(frames[1] == images)
            for r in 0..<25 where Self.nearestClass(images.row(r)) == label { agree += 1 }
        }
        // Chance is 25 of 100.
        #expect(agree >= 80, "\(agree) of 100 dreamt images show the clamped class")
    }

    @Test("dreaming is a pure function of the seed, chain by chain")
    func dreamIsKeyed() {
        let model = smallGenerativeDBN(sizes: [6, 5], topHidden: 4, labels: 3, seed: 51, untied: true)
        let five = model.dream(label: 1, count: 5, steps: 7, seed: 9).images
        let two = model.dream(label: 1, count: 2, steps: 7, seed: 9).images
        #expect(five.rows(in: 0..<2) == two)
        #expect(model.dream(label: 1, count: 5, steps: 7, seed: 10).images != five)
    }
}

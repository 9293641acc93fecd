import Linalg
import Testing
@testable import Pretraining

@Suite("Sampling and reconstruction of a stack")
struct SamplingTests {
    static func stack() -> DeepBeliefNetwork {
        var g = Xoshiro256StarStar(seed: 11)
        return DeepBeliefNetwork(layerSizes: [12, 8, 5], generator: &g)
    }

    @Test("Gibbs chains in the top RBM: seeded, shaped like the images, probabilities in [0, 1]")
    func sampleTop() {
        let stack = Self.stack()
        var g = Xoshiro256StarStar(seed: 1)
        let images = Matrix(rows: 4, columns: 12, elements: (0..<48).map { _ in g.nextFloat() })
        let x = stack.sample(layer: 1, from: images, steps: 5, seed: 2)
        #expect(x.rows == 4 && x.columns == 12)
        #expect(x.elements.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(stack.sample(layer: 1, from: images, steps: 5, seed: 2) == x)
        #expect(stack.sample(layer: 1, from: images, steps: 5, seed: 3) != x)

        // No steps in RBM 0: one hidden sample keyed by (seed, layer 0, step 0, row, unit), then
        // its visible probabilities.
        let rbm = stack.layers[0]
        let stream = RandomStream(seed: 4, purpose: .gibbsChain(layer: 0, step: 0, hidden: true))
        let p = rbm.hiddenProbabilities(images)
        var h = p
        for r in 0..<h.rows { for j in 0..<h.columns { h[r, j] = stream.uniform(row: r, unit: j) < p[r, j] ? 1 : 0 } }
        #expect(stack.sample(layer: 0, from: images, steps: 0, seed: 4) == rbm.visibleProbabilities(h))
    }

    @Test("reconstruction: up with hidden probabilities, down with visible probabilities")
    func reconstruct() {
        let stack = Self.stack()
        let images = Matrix(rows: 3, columns: 12, repeating: 0.25)
        let up = stack.layers[1].hiddenProbabilities(stack.layers[0].hiddenProbabilities(images))
        let down = stack.layers[0].visibleProbabilities(stack.layers[1].visibleProbabilities(up))
        #expect(stack.reconstruct(images) == down)
    }
}

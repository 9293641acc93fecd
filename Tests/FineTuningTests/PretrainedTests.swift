import Foundation
import Testing
import Linalg
@testable import FineTuning

@Suite struct PretrainedTests {
    /// Random RBM-like layers (visible x hidden weights, hidden biases).
    func stack(_ sizes: [Int], seed: UInt64) -> [DenseParameters] {
        var g = Xoshiro256StarStar(seed: seed)
        return (0..<(sizes.count - 1)).map { l in
            var bias = [Float](repeating: 0, count: sizes[l + 1])
            g.fillNormal(&bias, standardDeviation: 0.5)
            return DenseParameters(weight: Matrix.normal(rows: sizes[l], columns: sizes[l + 1], standardDeviation: 0.3, using: &g),
                                   bias: bias)
        }
    }

    @Test func hiddenOutputsAreTheUpPassProbabilities() throws {
        let layers = stack([6, 5, 4], seed: 1)
        var g = Xoshiro256StarStar(seed: 2)
        let network = try Network(pretrained: layers, outputCount: 3, generator: &g)
        #expect(network.sizes == [6, 5, 4, 3])
        #expect(Array(network.layers.prefix(2)) == layers)
        let v = Matrix.uniform(rows: 9, columns: 6, using: &g)
        let hidden = network.hiddenOutputs(v)
        #expect(hidden.count == 2)
        for r in 0..<v.rows {
            // sigmoid(v W1 + c1), then sigmoid(h1 W2 + c2), with naive loops.
            var h = v.row(r).map(Double.init)
            for (l, layer) in layers.enumerated() {
                h = naiveAffine(h, DoubleLayer(layer)).map { 1 / (1 + exp(-$0)) }
                for c in h.indices { #expect(abs(Double(hidden[l][r, c]) - h[c]) < 1e-6) }
            }
        }
    }

    @Test func outputLayerComesFromItsOwnInitializer() throws {
        let layers = stack([6, 5], seed: 1)
        var g = Xoshiro256StarStar(seed: 2)
        let zeroTop = try Network(sizes: [6, 5, 3], initializer: .pretrained(layers, outputLayer: .zeros), generator: &g)
        #expect(zeroTop.layers[1].weight.elements.allSatisfy { $0 == 0 })
        let xavierTop = try Network(sizes: [6, 5, 3], initializer: .pretrained(layers), generator: &g)
        #expect(xavierTop.layers[1].weight.elements.allSatisfy { abs($0) <= (6.0 / 8).squareRoot() })
        #expect(xavierTop.layers[0] == layers[0])
    }

    @Test func mismatchedLayersAreTypedErrors() {
        let layers = stack([6, 5, 4], seed: 1)
        var g = Xoshiro256StarStar(seed: 2)
        #expect(throws: FineTuningError.self) { try Network(sizes: [6, 5, 7, 3], initializer: .pretrained(layers), generator: &g) }
        #expect(throws: FineTuningError.self) { try Network(sizes: [6, 5, 3], initializer: .pretrained(layers), generator: &g) }
        #expect(throws: FineTuningError.missingPretrainedLayers) {
            try Network(sizes: [6, 5, 3], initializer: try WeightInitializer(parsing: "dbn"), generator: &g)
        }
        #expect(throws: FineTuningError.invalidArchitecture("every layer size must be positive, got [6, 0, 3]")) {
            try Network(sizes: [6, 0, 3], initializer: .zeros, generator: &g)
        }
    }
}

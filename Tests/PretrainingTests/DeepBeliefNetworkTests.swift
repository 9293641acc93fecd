import Foundation
import Linalg
import Testing
@testable import Pretraining

@Suite("Greedy stacking")
struct DeepBeliefNetworkTests {
    @Test("a 3-layer stack trains each layer on the previous layer's hidden probabilities")
    func threeLayers() throws {
        let data = prototypeData(prototypes: tenBitPrototypes, rows: 300, noise: 0.05, seed: 60)
        var g = Xoshiro256StarStar(seed: 61)
        var dbn = DeepBeliefNetwork(layerSizes: [10, 8, 6, 4], generator: &g)
        #expect(dbn.layerSizes == [10, 8, 6, 4])
        #expect(dbn.layers.map(\.visibleCount) == [10, 8, 6] && dbn.layers.map(\.hiddenCount) == [8, 6, 4])
        var seen: [(Int, RBMEpochReport)] = []
        // With the exact-likelihood monitor on all rows, each layer's report holds the mean
        // log-likelihood of that layer's training input under the trained layer.
        try dbn.pretrain(on: data, configuration: RBMTrainingConfiguration(epochs: 3, batchSize: 10),
                         monitors: MonitorOptions(sampleCount: 1000, exactLogLikelihood: true),
                         generator: &g) { seen.append(($0, $1)) }
        #expect(seen.map(\.0) == [0, 0, 0, 1, 1, 1, 2, 2, 2])
        #expect(seen.map(\.1.epoch) == [0, 1, 2, 0, 1, 2, 0, 1, 2])
        let up = dbn.upPass(data)
        #expect(up.map(\.columns) == [8, 6, 4] && up.allSatisfy { $0.rows == 300 })
        let inputs = [data, up[0], up[1]]
        for layer in 0..<3 {
            let reported = try #require(seen[3 * layer + 2].1.trainingLogLikelihood)
            let recomputed = try dbn.layers[layer].exactAverageLogLikelihood(inputs[layer])
            #expect(abs(reported - recomputed) < 1e-9, "layer \(layer)")
        }
        // upPass is the chain of hiddenProbabilities.
        #expect(up[2] == dbn.layers[2].hiddenProbabilities(dbn.layers[1].hiddenProbabilities(dbn.layers[0].hiddenProbabilities(data))))
    }

    @Test("with epochs 0 each layer's visible biases are the log-odds of its input, sampled input is binary")
    func visibleBiasFromInput() throws {
        let data = prototypeData(prototypes: tenBitPrototypes, rows: 200, noise: 0.1, seed: 62)
        var g = Xoshiro256StarStar(seed: 63)
        var dbn = DeepBeliefNetwork(layerSizes: [10, 8, 5], generator: &g)
        try dbn.pretrain(on: data, configuration: RBMTrainingConfiguration(epochs: 0), generator: &g)
        var expected = dbn.layers[1]
        expected.initializeVisibleBias(from: dbn.layers[0].hiddenProbabilities(data))
        #expect(dbn.layers[1].visibleBias == expected.visibleBias)

        var sampled = DeepBeliefNetwork(layerSizes: [10, 8, 5], generator: &g)
        var configuration = RBMTrainingConfiguration(epochs: 1, batchSize: 20)
        configuration.nextLayerInput = .samples
        try sampled.pretrain(on: data, configurations: [configuration, RBMTrainingConfiguration(epochs: 0)], generator: &g)
        // Layer 2's visible biases came from binary samples: their means are multiples of 1/200.
        for b in sampled.layers[1].visibleBias {
            let p = 1 / (1 + Foundation.exp(-Double(b)))
            let count = p * 200
            #expect(abs(count - count.rounded()) < 1e-2 || p < 2e-3 || p > 1 - 2e-3)
        }
    }

    @Test("pretrain reports the diverging layer and rejects mismatched inputs")
    func errors() {
        var g = Xoshiro256StarStar(seed: 64)
        var dbn = DeepBeliefNetwork(layerSizes: [6, 4, 3], generator: &g)
        #expect(throws: PretrainingError.shapeMismatch(what: "training data", expected: 6, found: 5)) {
            try dbn.pretrain(on: Matrix(rows: 4, columns: 5), configuration: .init(epochs: 1), generator: &g)
        }
        #expect(throws: PretrainingError.invalidConfiguration("1 training configurations for 2 layers")) {
            try dbn.pretrain(on: Matrix(rows: 4, columns: 6), configurations: [.init()], generator: &g)
        }
        let configurations = [RBMTrainingConfiguration(epochs: 1, batchSize: 4),
                              RBMTrainingConfiguration(epochs: 2, batchSize: 4, learningRate: 1e38)]
        var data = Matrix(rows: 8, columns: 6)
        for k in data.elements.indices { data.elements[k] = Float(k % 2) }
        #expect(throws: PretrainingError.diverged(layer: 1, epoch: 0)) {
            try dbn.pretrain(on: data, configurations: configurations, generator: &g)
        }
    }
}

import Foundation
import Testing
import Linalg
@testable import FineTuning

/// The observers TensorBoard reads from: per-step gradient norms and the probe batch.
@Suite struct TrainingObserverTests {
    let sizes = [2] + Array(repeating: 12, count: 10) + [2]

    func deepSigmoid() throws -> Network {
        var g = Xoshiro256StarStar(seed: 7)
        return try Network(sizes: sizes, hiddenActivation: .sigmoid, initializer: .normal(0.01), generator: &g)
    }

    /// Per-step gradient norms leave the run bit-identical; each measured step's norms are
    /// the norms of the gradient of the minibatch's mean loss at the weights before the step
    /// (checked against `lossGradients` of the network as it was, rebuilt by running the
    /// same training one step shorter); the other steps carry none.
    @Test func perStepGradientNormsObserveOnly() throws {
        let data = xorData()
        let c = TrainingConfiguration(epochs: 6, batchSize: 4, learningRate: 0.5, momentum: 0.9, seed: 3)
        var g1 = Xoshiro256StarStar(seed: 11), g2 = Xoshiro256StarStar(seed: 11)
        let start = try deepSigmoid()
        let plain = try Trainer(configuration: c).train(start, data: data, generator: &g1)
        var steps: [MinibatchProgress] = []
        let observed = try Trainer(configuration: c).train(start, data: data, generator: &g2,
                                                          onMinibatch: { steps.append($0) }, gradientNormsEvery: 2)
        #expect(observed.network == plain.network)
        #expect(steps.map(\.step) == Array(1...6))
        #expect(steps.map { $0.gradientNorms != nil } == [false, true, false, true, false, true])
        #expect(steps.allSatisfy { $0.learningRate == 0.5 })
        // Step 4 (epoch 4: one minibatch of all four XOR rows): the weights after 3 epochs.
        var shorter = c
        shorter.epochs = 3
        var g3 = Xoshiro256StarStar(seed: 11)
        let before = try Trainer(configuration: shorter).train(start, data: data, generator: &g3).network
        let reference = before.lossGradients(on: data).gradients.map { norm($0.weight.elements) }
        let measured = try #require(steps[3].gradientNorms)
        #expect(measured.count == sizes.count - 1)
        for (m, r) in zip(measured, reference) {
            #expect(abs(m - Double(r)) <= 1e-5 * Double(r), "\(m) vs \(r)")
        }
    }

    /// The probe: pre-activations are X W + b of each layer (naive products), and the picture
    /// of vanishing gradients: in a deep sigmoid network from N(0, 0.01^2) the first layer's
    /// weight gradient is many orders of magnitude below the last one's.
    @Test func probeShowsPreActivationsAndVanishingGradients() throws {
        let network = try deepSigmoid()
        let data = xorData()
        let probe = ProbeBatch(data, count: 3)
        #expect(probe.data.count == 3)
        let observed = ProbeBatch(data).observe(network)
        #expect(observed.count == network.layers.count)
        // Naive forward pass.
        var x = (0..<data.count).map { data.inputs.row($0).map(Double.init) }
        for (l, layer) in network.layers.enumerated() {
            let w = layer.weight
            let z = x.map { row in (0..<w.columns).map { j in
                Double(layer.bias[j]) + (0..<w.rows).reduce(0.0) { $0 + row[$1] * Double(w[$1, j]) }
            } }
            let flat = z.flatMap { $0 }
            #expect(observed[l].preActivations.count == flat.count)
            let difference = zip(observed[l].preActivations, flat).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(difference < 1e-5, "layer \(l + 1): \(difference)")
            x = z.map { $0.map { 1 / (1 + exp(-$0)) } }
        }
        let norms = observed.map { Double(norm($0.weightGradient)) }
        #expect(norms.last! > 0 && norms.first! < norms.last! * 1e-12, "\(norms)")
        // Falls layer after layer on the way down.
        #expect(zip(norms, norms.dropFirst()).allSatisfy { $0 < $1 }, "\(norms)")
    }
}

import Linalg
import Testing
@testable import FineTuning

/// The training step applies each block's optimiser step right after computing that block's
/// gradient (no separate update stage). Data-parallel training needs the separate form (the
/// gradients are summed over processes between backward and update): both must give the same
/// bits, for every update rule, and leave the gradient buffers at zero for the next step.
@Suite struct FusedUpdateTests {
    @Test("a fused step equals backward, then a separate update stage, bit for bit",
          arguments: [0, 1, 2])
    func fusedStepEqualsSeparateStages(index: Int) throws {
        let configuration = [
            TrainingConfiguration(batchSize: 40, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3, hiddenDropout: 0.3),
            TrainingConfiguration(batchSize: 40, optimizer: .adam(), learningRate: 0.003, weightDecay: 1e-4),
            TrainingConfiguration(batchSize: 40, learningRate: 0.05, momentum: 0.8, nesterov: true),
        ][index]
        var g = Xoshiro256StarStar(seed: 61)
        // 200 x 170 is split into 4 blocks, 170 x 10 into one.
        let network = try Network(sizes: [200, 170, 10], hiddenActivation: .relu, initializer: .heNormal, generator: &g)
        let data = try LabeledData(inputs: randomInputs(rows: 40, columns: 200, seed: 62),
                                   labels: randomLabels(count: 40, classes: 10, seed: 63), classCount: 10)
        let fused = BackpropEngine(network: network, capacity: 40, configuration: configuration)
        let separate = BackpropEngine(network: network, capacity: 40, configuration: configuration)
        BLASThreads.singleThreaded {
            for engine in [fused, separate] {
                data.inputs.elements.withUnsafeBufferPointer { x in
                    data.targets.elements.withUnsafeBufferPointer { t in
                        Array(0..<40).withUnsafeBufferPointer {
                            engine.loadRows($0, inputs: x.baseAddress!, targets: t.baseAddress!)
                        }
                    }
                }
            }
            for minibatch in 0..<3 {
                let key = StepKey(seed: 5, epoch: 0, minibatch: minibatch)
                _ = fused.step(rows: 40, learningRate: 0.05, trainHidden: true, key: key)
                separate.forward(rows: 40, key: key)
                _ = separate.loss(rows: 40)
                separate.backward(rows: 40, downTo: 0)
                for l in 0..<2 { separate.update(layer: l, learningRate: 0.05) }
            }
        }
        for l in 0..<2 {
            #expect(fused.weights[l].array.map(\.bitPattern) == separate.weights[l].array.map(\.bitPattern), "layer \(l)")
            #expect(fused.biases[l].array.map(\.bitPattern) == separate.biases[l].array.map(\.bitPattern), "layer \(l)")
            #expect(fused.weightMoments[l].array.map(\.bitPattern) == separate.weightMoments[l].array.map(\.bitPattern))
            #expect(fused.weightGradients[l].array.allSatisfy { $0 == 0 }, "fused: gradient cleared")
            #expect(separate.weightGradients[l].array.allSatisfy { $0 == 0 }, "separate: gradient cleared")
        }
        #expect(fused.weights[0].array != network.layers[0].weight.elements, "the steps changed the weights")
    }
}

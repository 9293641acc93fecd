import FineTuning
import Linalg
import Pretraining

extension DeepBeliefNetwork {
    /// The stack's layers as dense layers for fine-tuning: each RBM's weights (visible x
    /// hidden) and hidden biases; the visible biases are not used by the up-pass.
    public var denseParameters: [DenseParameters] {
        layers.map { DenseParameters(weight: $0.weight, bias: $0.hiddenBias) }
    }
}

extension Network {
    /// The stack unrolled into a feed-forward network with a fresh output layer of
    /// `outputCount` units: with sigmoid activation its hidden outputs are exactly the RBMs'
    /// up-pass probabilities.
    public init(pretrained stack: DeepBeliefNetwork, outputCount: Int, hiddenActivation: Activation = .sigmoid,
                output: OutputKind = .softmax, outputInitializer: WeightInitializer = .xavierUniform,
                generator: inout Xoshiro256StarStar) throws {
        guard stack.labelCount == 0 else {
            throw FineTuningError.pretrainedMismatch(
                "the stack's top RBM has \(stack.labelCount) label units (a generative DBN): it cannot be unrolled into a network")
        }
        try self.init(pretrained: stack.denseParameters, outputCount: outputCount, hiddenActivation: hiddenActivation,
                      output: output, outputInitializer: outputInitializer, generator: &generator)
    }
}

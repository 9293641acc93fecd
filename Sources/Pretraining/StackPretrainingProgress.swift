import Linalg

/// Everything needed to continue a greedy stack pre-training after an epoch of one of its
/// layers, bit for bit.
///
/// `DeepBeliefNetwork.pretrain(...)` hands one to `onProgress` after every epoch of every
/// layer; passing it back as `resumeFrom` continues the run. Nothing else is needed: the inputs
/// of layer `layer` are recomputed from `data` through the trained layers below it (hidden
/// probabilities; a `.samples` input is drawn from a generator seeded from the parameters of
/// the layer below, see `DeepBeliefNetwork.pretrain`), held-out monitor data likewise, and the
/// visible biases of layer `layer` are NOT set from its input again (they are in
/// `layerProgress.rbm`).
public struct StackPretrainingProgress: Sendable, Equatable {
    /// The layer being trained (0-based).
    public var layer: Int
    /// The stack: layers below `layer` trained; layer `layer` as in `layerProgress.rbm` (which
    /// is what a resumed run uses); the layers above as initialised.
    public var stack: DeepBeliefNetwork
    /// The training state of layer `layer`.
    public var layerProgress: RBMTrainingProgress
    /// The stack's generator after the split for `layer` (the layers above split theirs off it).

    public init(layer: Int, stack: DeepBeliefNetwork, layerProgress: RBMTrainingProgress) {
        self.layer = layer
        self.stack = stack
        self.layerProgress = layerProgress
    }

    /// Checks that this progress belongs to a pre-training of `network` (same layer sizes and
    /// unit types); throws `PretrainingError.invalidConfiguration` otherwise. The layer's own
    /// state is checked when its training resumes.
    func check(fits network: DeepBeliefNetwork) throws {
        func fail(_ message: String) throws -> Never {
            throw PretrainingError.invalidConfiguration("the checkpoint \(message)")
        }
        func units(_ n: DeepBeliefNetwork) -> [String] {
            n.layers.map { "\($0.visibleUnits.rawValue)->\($0.hiddenUnits.rawValue)" }
        }
        if stack.layerSizes != network.layerSizes {
            try fail("is for a stack of layer sizes \(stack.layerSizes), this run has \(network.layerSizes)")
        }
        if units(stack) != units(network) {
            try fail("is for a stack of units \(units(stack)), this run has \(units(network))")
        }
        if layer < 0 || layer >= network.layers.count {
            try fail("is for layer \(layer + 1), the stack has \(network.layers.count) layers")
        }
        let rbm = layerProgress.rbm, expected = network.layers[layer]
        if rbm.visibleCount != expected.visibleCount || rbm.hiddenCount != expected.hiddenCount
            || rbm.visibleUnits != expected.visibleUnits || rbm.hiddenUnits != expected.hiddenUnits {
            try fail("holds an RBM of \(rbm) for layer \(layer + 1), the stack's is \(expected)")
        }
    }
}

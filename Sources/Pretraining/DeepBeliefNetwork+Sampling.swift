import Linalg

extension DeepBeliefNetwork {
    /// Up the stack with hidden probabilities, then down with visible probabilities:
    /// v (n x V) -> h1 -> ... -> hL -> ... -> v' (n x V).
    public func reconstruct(_ images: Matrix) -> Matrix {
        var x = upPass(images).last!
        for rbm in layers.reversed() { x = rbm.visibleProbabilities(x) }
        return x
    }

    /// What the stack generates: alternating Gibbs sampling in RBM `layer` (`GibbsChains`),
    /// started from `images` (n x pixels) passed up to its visible layer as hidden
    /// probabilities of each RBM below; after `steps` steps (h ~ p(h|v), v ~ p(v|h)) the last
    /// hidden state's visible probabilities are passed down to the pixels as visible
    /// probabilities of each RBM below. Shape (n x pixels); one independent chain per image,
    /// its draws keyed by `seed`, the step and the row (the same with any number of threads).
    ///
    /// Precondition: `layer` is an index of `layers`, `images` has `layerSizes[0]` columns.
    public func sample(layer: Int, from images: Matrix, steps: Int, seed: UInt64) -> Matrix {
        precondition(layers.indices.contains(layer), "sample: layer \(layer) of a stack of \(layers.count) RBMs")
        precondition(images.columns == layerSizes[0], "sample: \(images.columns) pixels for \(layerSizes[0]) inputs")
        var v = images
        for below in layers[0..<layer] { v = below.hiddenProbabilities(v) }
        var x = GibbsChains(rbm: layers[layer], seed: seed, layer: layer).run(from: v, steps: steps)
        for below in layers[0..<layer].reversed() { x = below.visibleProbabilities(x) }
        return x
    }
}

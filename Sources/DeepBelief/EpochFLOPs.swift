/// The matrix-product FLOPs of one epoch (as scripts/bench/flops.py counts them: `2 m n k` per
/// product, full minibatches only), for reporting GFLOP/s in `dbn bench` and the products-alone
/// floor in Benchmarks/ProductFloor.
public enum EpochFLOPs {
    /// Greedy CD-1 over the RBMs of `sizes` (one RBM for two sizes): 5 products of
    /// batch x visible x hidden per minibatch and RBM.
    public static func contrastiveDivergence(sizes: [Int], images: Int) -> Double {
        10 * Double(images) * products(sizes).reduce(0, +)
    }

    /// Backprop through a network of layer `sizes`: forward, deltas (not the first layer's)
    /// and weight gradients.
    public static func fineTuning(sizes: [Int], images: Int) -> Double {
        let p = products(sizes)
        return 2 * Double(images) * (3 * p.reduce(0, +) - p[0])
    }

    private static func products(_ sizes: [Int]) -> [Double] {
        zip(sizes, sizes.dropFirst()).map { Double($0 * $1) }
    }
}

/// Work split into a FIXED number of blocks that run side by side on the lane threads, each
/// block calling single-threaded BLAS on its own columns (or rows). On products of minibatch
/// size (100 x 784 x 500 and the like) blocks of single-threaded products finish sooner than
/// one product on OpenBLAS's threads, and the elementwise passes that follow each product run
/// in the blocks too.
///
/// Results never depend on the number of threads: how a product is split into blocks is a
/// function of its shape alone (`blockCount`), every block is one single-threaded `sgemm` (whose
/// bits do depend on the split: OpenBLAS's edge kernels accumulate in other orders, see
/// `GemmSplitTests`), random draws are keyed by what they are for (`RandomStream`), and sums
/// across blocks are taken in block order. The threads (`Lanes.threads`, default: the cores)
/// only decide which thread runs which block.
public enum Lanes {
    /// The number of blocks a product of `productSize` multiply-adds (per row) is split into:
    /// 1 below 32,768 (too small to gain), else 4 (two per core on two cores; measured on
    /// 100 x 784 x 500: 4 single-threaded blocks cost the same as 2).
    public static func blockCount(productSize: Int) -> Int {
        productSize < 32_768 ? 1 : 4
    }

    /// The number of threads that run blocks side by side (at least 1).
    public static var threads: Int { LanePool.shared.threads }

    /// Sets the number of threads that run blocks (`--threads`); results do not change with it.
    public static func setThreads(_ count: Int) { LanePool.shared.setThreads(count) }

    /// `count` contiguous blocks covering 0..<n, as equal as possible, with inner boundaries on
    /// multiples of 8 (whole SIMD vectors) when `aligned` and every block can keep at least 8
    /// elements.
    public static func blocks(of n: Int, count: Int, aligned: Bool = true) -> [Range<Int>] {
        precondition(count >= 1, "Lanes.blocks: \(count) blocks")
        let aligned = aligned && n >= 8 * count
        let bounds = (0...count).map { block -> Int in
            let exact = n * block / count
            guard aligned, block > 0, block < count else { return exact }
            return min(n, (exact + 4) / 8 * 8)
        }
        return (0..<count).map { bounds[$0]..<max(bounds[$0], bounds[$0 + 1]) }
    }

    /// Runs `body(block)` for blocks 0..<count, side by side when count > 1, and returns when
    /// all are done (the barrier between phases). The blocks must write disjoint memory.
    /// One small allocation per run, for the closure (the hot loops use `run(_:task:)`).
    public static func run(_ count: Int, _ body: (Int) -> Void) {
        if count == 1 { body(0); return }
        LanePool.shared.run(count, body)
    }

    /// Runs `task.runBlock(block)` for blocks 0..<count, side by side when count > 1, and
    /// returns when all are done; allocates nothing (the task object holds the phase and its
    /// parameters).
    public static func run(_ count: Int, task: some LaneTask) {
        if count == 1 { task.runBlock(0); return }
        LanePool.shared.run(count, task: task)
    }

    /// Runs `body` with OpenBLAS single-threaded (`BLASThreads.singleThreaded`): training steps call BLAS from the block threads, one block per
    /// call, so that the bits never depend on OpenBLAS's own split.
    public static func withSingleThreadedBLAS<T>(_ body: () throws -> T) rethrows -> T {
        try BLASThreads.singleThreaded(body)
    }
}

/// An object whose work is split into blocks: `runBlock(block)` does block `block`'s share of
/// the current phase (the object holds which phase and its parameters). Blocks of one run must
/// write disjoint memory.
public protocol LaneTask: AnyObject {
    func runBlock(_ block: Int)
}

/// Work split into lanes that run side by side, each calling single-threaded BLAS on its own
/// block of columns (or rows). On products of minibatch size (100 x 784 x 500 and the like) two
/// half-width single-threaded products finish sooner than one product on OpenBLAS's two
/// threads, and the elementwise passes that follow each product run in the lanes too.
///
/// Callers set `BLASThreads` to 1 while lanes run (OpenBLAS's own threads would otherwise
/// compete with the lanes).
public enum Lanes {
    /// The number of lanes for work of this many multiply-adds per product: the BLAS thread
    /// count, or 1 when the products are too small to gain from splitting.
    public static func defaultCount(productSize: Int) -> Int {
        productSize < 32_768 ? 1 : max(1, BLASThreads.count)
    }

    /// `count` contiguous blocks covering 0..<n, as equal as possible, with inner boundaries on
    /// multiples of 8 (whole SIMD vectors) when `aligned` and every block can keep at least 8
    /// elements. (CD-k uses unaligned blocks: its lanes' random streams, and so its results,
    /// depend on where the blocks start.)
    public static func blocks(of n: Int, count: Int, aligned: Bool = true) -> [Range<Int>] {
        precondition(count >= 1, "Lanes.blocks: \(count) lanes")
        let aligned = aligned && n >= 8 * count
        let bounds = (0...count).map { lane -> Int in
            let exact = n * lane / count
            guard aligned, lane > 0, lane < count else { return exact }
            return min(n, (exact + 4) / 8 * 8)
        }
        return (0..<count).map { bounds[$0]..<max(bounds[$0], bounds[$0 + 1]) }
    }

    /// Runs `body(lane)` for lanes 0..<count, side by side when count > 1, and returns when
    /// all are done (the barrier between phases). The lanes must write disjoint memory.
    /// Runs on `LanePool`'s threads (one small allocation per run, for the closure).
    public static func run(_ count: Int, _ body: (Int) -> Void) {
        if count == 1 { body(0); return }
        LanePool.shared.run(count, body)
    }

    /// Runs `task.runLane(lane)` for lanes 0..<count, side by side when count > 1, and returns
    /// when all are done; allocates nothing (the hot loops' form: the task object holds the
    /// phase and its parameters).
    public static func run(_ count: Int, task: some LaneTask) {
        if count == 1 { task.runLane(0); return }
        LanePool.shared.run(count, task: task)
    }

    /// Runs `body` with OpenBLAS single-threaded when `lanes > 1` (restoring the thread count
    /// afterwards, also when `body` throws); otherwise, or when OpenBLAS is single-threaded
    /// already, runs it as is.
    public static func withSingleThreadedBLAS<T>(lanes: Int, _ body: () throws -> T) rethrows -> T {
        guard lanes > 1 else { return try body() }
        let saved = BLASThreads.count
        guard saved != 1 else { return try body() }
        BLASThreads.set(1)
        defer { BLASThreads.set(saved) }
        return try body()
    }
}

/// An object whose work is split into lanes: `runLane(lane)` does lane `lane`'s share of the
/// current phase (the object holds which phase and its parameters). Lanes of one run must
/// write disjoint memory.
public protocol LaneTask: AnyObject {
    func runLane(_ lane: Int)
}

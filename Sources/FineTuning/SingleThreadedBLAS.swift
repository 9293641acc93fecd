import Linalg
import Synchronization

/// Runs blocks of work with OpenBLAS single-threaded, counting its callers across threads:
/// the first caller to enter saves OpenBLAS's thread count and sets 1, the last to leave
/// restores it. `Lanes.withSingleThreadedBLAS` saves and restores per call, so when two
/// threads train in one process (parallel tests, two runs side by side), the one that leaves
/// first restores several BLAS threads while the other's products still run, which changes
/// their bits. A stopgap: the counting belongs in `Lanes.withSingleThreadedBLAS` (Linalg), and
/// this type goes once it is there. Allocates nothing.
enum SingleThreadedBLAS {
    private static let state = Mutex<(depth: Int, saved: Int)>((0, 1))

    static func run<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { s in
            if s.depth == 0 {
                s.saved = BLASThreads.count
                BLASThreads.set(1)
            }
            s.depth += 1
        }
        defer {
            state.withLock { s in
                s.depth -= 1
                if s.depth == 0 { BLASThreads.set(s.saved) }
            }
        }
        return try body()
    }
}

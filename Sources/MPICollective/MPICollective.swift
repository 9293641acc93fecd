// Compiled only with the MPI trait: `swift build` builds every target, and the default build
// must not need Open MPI.
#if MPI
import CMPI
import Linalg
#if canImport(Glibc)
import Glibc
#endif

/// `Collective` over MPI (Open MPI): the ranks of `MPI_COMM_WORLD`. The only code that imports
/// CMPI; built only with the package's `MPI` trait. `MPI_Init` runs in `init`, `MPI_Finalize`
/// in `finish()`; every operation is the blocking MPI call on the whole world (the sum is
/// `MPI_Allreduce(MPI_IN_PLACE, ..., MPI_SUM)`: the same order of additions on every rank, so
/// all ranks hold the same bits).
public final class MPICollective: Collective, @unchecked Sendable {
    // @unchecked Sendable: rank and size are fixed after MPI_Init; MPI is called from one
    // thread (the training loop's), which MPI_THREAD_FUNNELED allows.
    public let rank: Int
    public let size: Int
    /// Where this rank prints its error line (its standard error, kept when ranks > 0 have
    /// theirs silenced).
    public var errorDescriptor: Int32 = 2
    /// The number of all-reduce (and ordered-sum) calls and the seconds spent in them (waiting for the slowest
    /// rank included): the figures behind `DBN_MPI_TIMING=1`.
    public private(set) var reduceCalls = 0, reduceSeconds = 0.0

    /// Initialises MPI (`MPI_Init_thread`, funneled: the lane threads never call MPI).
    public init() {
        var provided: Int32 = 0
        MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
        var r: Int32 = 0, s: Int32 = 1
        MPI_Comm_rank(MPI_COMM_WORLD, &r)
        MPI_Comm_size(MPI_COMM_WORLD, &s)
        rank = Int(r)
        size = Int(s)
    }

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        let start = Self.now()
        defer { reduceCalls += 1; reduceSeconds += Self.now() - start }
        var done = 0
        while done < count {  // MPI counts are Int32
            let n = min(count - done, Int(Int32.max))
            check(MPI_Allreduce(MPI_IN_PLACE, buffer + done, Int32(n), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce")
            done += n
        }
    }

    /// A chain: rank r receives the sum of the parts of ranks 0..<r from rank r - 1, adds its own
    /// parts in order, and passes it on; the last rank's sum is broadcast. Each rank moves the
    /// sum about twice (in, out) plus the broadcast, as the all-reduce does, but the P - 1 hops
    /// run one after the other.
    public func orderedSum(_ parts: UnsafePointer<Float>, partCount: Int, count: Int,
                           into result: UnsafeMutablePointer<Float>) {
        let start = Self.now()
        defer { reduceCalls += 1; reduceSeconds += Self.now() - start }
        func chunks(_ body: (Int, Int32) -> Void) {
            var done = 0
            while done < count {
                let n = min(count - done, Int(Int32.max))
                body(done, Int32(n))
                done += n
            }
        }
        if rank > 0 {
            chunks { check(MPI_Recv(result + $0, $1, MPI_FLOAT, Int32(rank - 1), 17, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv") }
        }
        Collectives.addInOrder(parts, partCount: partCount, count: count, into: result, continuing: rank > 0)
        if rank < size - 1 {
            chunks { check(MPI_Send(result + $0, $1, MPI_FLOAT, Int32(rank + 1), 17, MPI_COMM_WORLD), "MPI_Send") }
        }
        broadcast(UnsafeMutableRawPointer(result), byteCount: count * MemoryLayout<Float>.size, from: size - 1)
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, byteCount: Int, from root: Int) {
        var done = 0
        while done < byteCount {
            let n = min(byteCount - done, Int(Int32.max))
            check(MPI_Bcast(buffer + done, Int32(n), MPI_BYTE, Int32(root), MPI_COMM_WORLD), "MPI_Bcast")
            done += n
        }
    }

    public func barrier() { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier") }

    public func abort(_ message: String, code: Int32) -> Never {
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { write(errorDescriptor, $0.baseAddress, $0.count) }
        MPI_Abort(MPI_COMM_WORLD, code == 0 ? 1 : code)
        exit(code)
    }

    /// A monotonic clock in seconds.
    public static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// Ends MPI (every rank must call it once, after its last collective operation).
    public func finish() { MPI_Finalize() }

    /// Open MPI's default error handler aborts the job on an error; this only covers a handler
    /// that returns.
    private func check(_ status: Int32, _ call: String) {
        if status != MPI_SUCCESS { abort("Error: rank \(rank): \(call) failed (MPI error \(status))", code: 1) }
    }
}
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The operations data-parallel training needs from the processes that share a run (the ranks
/// of an MPI job): sum a buffer over all of them in place, copy one rank's bytes to all, wait
/// for all, and stop all. Every rank calls the same operations in the same order (they are
/// collective: a call returns once every rank has made it).
///
/// `SingleProcess` is the default (one rank; every operation returns at once and touches
/// nothing). The MPI implementation lives in the `MPICollective` target, built only with the
/// package's `MPI` trait, so that the default build never needs MPI. The engines read the
/// collective of the current task (`Collectives.current`) when they are made.
public protocol Collective: AnyObject, Sendable {
    /// This process's index, 0 ..< `size`; rank 0 alone writes files and prints.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// buffer[i] = the sum over ranks of buffer[i], for i in 0..<count, on every rank (the
    /// summation order is the implementation's, the same on every rank).
    func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int)
    /// Copies `byteCount` bytes at `buffer` on rank `root` into `buffer` on every other rank.
    func broadcast(_ buffer: UnsafeMutableRawPointer, byteCount: Int, from root: Int)
    /// The sum p_0 + p_1 + ... + p_{N-1}, added left to right in Float (`Collectives.addInOrder`),
    /// into `result` (`count` floats) on every rank, where p_0 ... p_{N-1} are the parts of all
    /// ranks in rank order: each rank holds `partCount` (at least 1) consecutive parts of `count`
    /// floats at `parts`. Unlike `allReduceSum`, the order of the additions is fixed by the
    /// parts alone, so the bits do not depend on the number of ranks (the reproducible mode).
    func orderedSum(_ parts: UnsafePointer<Float>, partCount: Int, count: Int, into result: UnsafeMutablePointer<Float>)
    /// Returns once every rank has called it.
    func barrier()
    /// Prints `message` (one line, on this rank's error stream) and stops every rank of the
    /// job with exit status `code`.
    func abort(_ message: String, code: Int32) -> Never
}

/// One process: rank 0 of 1. Every collective operation is a no-op.
public final class SingleProcess: Collective {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) {}
    public func broadcast(_ buffer: UnsafeMutableRawPointer, byteCount: Int, from root: Int) {}
    public func orderedSum(_ parts: UnsafePointer<Float>, partCount: Int, count: Int,
                           into result: UnsafeMutablePointer<Float>) {
        Collectives.addInOrder(parts, partCount: partCount, count: count, into: result, continuing: false)
    }
    public func barrier() {}
    public func abort(_ message: String, code: Int32) -> Never {
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        exit(code)
    }
}

/// The collective of the running task.
public enum Collectives {
    /// The processes the current task trains with: `SingleProcess` unless a launcher (the MPI
    /// build of `dbn`) runs the work inside `Collectives.$current.withValue(...)`. Engines read
    /// it once, when they are made.
    @TaskLocal public static var current: any Collective = SingleProcess()

    /// The reproducible mode (`dbn --reproducible G`): nil (the default) or G, the number of
    /// fixed row groups each minibatch is cut into (`RowGroups`). With G, the engines compute
    /// every group's statistics on its own (products of the group's rows only) and add the
    /// groups' sums in group order (`Collective.orderedSum`), so that the bits depend on neither
    /// the threads nor the number of processes (up to G), at the cost of smaller products and
    /// G partial gradients. Engines read it once, when they are made.
    @TaskLocal public static var rowGroups: Int? = nil

    /// Throws `error(line)` unless `groups` row groups fit minibatches of `batchSize` rows on
    /// `processes` processes (1 <= groups <= batchSize, processes <= groups).
    public static func checkRowGroups(_ groups: Int, batchSize: Int, processes: Int,
                                      _ error: (String) -> any Error) throws {
        guard groups >= 1 && groups <= batchSize else {
            throw error("the reproducible mode's \(groups) row groups need 1 to \(batchSize) (the batch size) groups")
        }
        guard processes <= groups else {
            throw error("the reproducible mode's \(groups) row groups allow at most \(groups) processes, not \(processes)")
        }
    }

    /// `result` = parts[0] + parts[1] + ... (each `count` floats), added left to right; with
    /// `continuing`, `result` already holds the sum of earlier parts and the parts are added to it.
    public static func addInOrder(_ parts: UnsafePointer<Float>, partCount: Int, count: Int,
                                  into result: UnsafeMutablePointer<Float>, continuing: Bool) {
        precondition(partCount >= 1 || continuing, "Collectives.addInOrder: no parts")
        var first = 0
        if !continuing {
            result.update(from: parts, count: count)
            first = 1
        }
        for part in first..<max(partCount, first) {
            let p = parts + part * count
            for i in 0..<count { result[i] += p[i] }
        }
    }
}

/// The fixed row groups of the reproducible mode: a minibatch of at most `capacity` rows is cut
/// into `count` groups, group g holding the minibatch rows `capacity * g / count ..< capacity *
/// (g + 1) / count` (cut to the minibatch's rows, so a short minibatch may leave groups empty).
/// Rank r of P owns the groups `count * r / P ..< count * (r + 1) / P` (at least one each when
/// P <= count). Nothing here depends on P except which rank owns which group.
public struct RowGroups: Sendable, Equatable {
    public let count: Int, capacity: Int

    /// Groups for minibatches of at most `capacity` rows; needs 1 <= count <= capacity.
    public init(count: Int, capacity: Int) {
        precondition(count >= 1 && count <= capacity, "RowGroups: \(count) groups for \(capacity) rows")
        self.count = count
        self.capacity = capacity
    }

    /// The minibatch rows of group `group` in a minibatch of `rows` rows.
    public func rows(ofGroup group: Int, batchRows rows: Int) -> Range<Int> {
        let lo = capacity * group / count, hi = capacity * (group + 1) / count
        return min(lo, rows)..<min(hi, rows)
    }

    /// The groups rank `rank` of `size` owns.
    public func groups(ofRank rank: Int, size: Int) -> Range<Int> {
        (count * rank / size)..<(count * (rank + 1) / size)
    }

    /// The minibatch rows rank `rank` of `size` owns in a minibatch of `rows` rows (its groups').
    public func share(ofRows rows: Int, rank: Int, size: Int) -> Range<Int> {
        let mine = groups(ofRank: rank, size: size)
        return self.rows(ofGroup: mine.lowerBound, batchRows: rows).lowerBound
            ..< self.rows(ofGroup: mine.upperBound - 1, batchRows: rows).upperBound
    }
}

extension Collective {
    /// Whether this is the one rank that writes files and prints.
    public var isRoot: Bool { rank == 0 }

    /// `allReduceSum` over a whole buffer (nothing when there is one rank).
    public func allReduceSum(_ buffer: FloatBuffer) {
        guard size > 1 else { return }
        allReduceSum(buffer.pointer, count: buffer.count)
    }

    /// Copies rank `root`'s `buffers` to every rank (nothing when there is one rank).
    public func broadcast(_ buffers: [FloatBuffer], from root: Int = 0) {
        guard size > 1 else { return }
        for b in buffers where b.count > 0 {
            broadcast(UnsafeMutableRawPointer(b.pointer), byteCount: b.count * MemoryLayout<Float>.size, from: root)
        }
    }

    /// The rows of a minibatch this rank trains on. A minibatch of `rows` rows (at most
    /// `capacity`, the batch size) is the global rows 0..<rows; rank r owns the global rows
    /// `capacity * r / size ..< capacity * (r + 1) / size` of every minibatch, cut to `rows` (so
    /// a short last minibatch may leave a rank none). The split depends only on the batch size,
    /// so a row's place, and PCD's chain of that place, always belongs to the same rank.
    public func share(ofRows rows: Int, capacity: Int) -> Range<Int> {
        Collectives.share(ofRows: rows, capacity: capacity, rank: rank, size: size)
    }

    /// Checks that every rank holds the same bits in `buffers` (a 64-bit hash of them, compared
    /// with rank 0's); if not, stops the job with one line naming `what`. With one rank, nothing.
    public func verifyAgreement(_ buffers: [FloatBuffer], what: @autoclosure () -> String) {
        guard size > 1 else { return }
        let hash = FloatBuffer.hash(buffers)
        var root = hash
        withUnsafeMutableBytes(of: &root) { broadcast($0.baseAddress!, byteCount: 8, from: 0) }
        // The count of ranks whose hash differs from rank 0's, summed exactly (small integers).
        var differs: Float = root == hash ? 0 : 1
        allReduceSum(&differs, count: 1)
        guard differs == 0 else {
            // Rank 0 speaks first: the others wait half a second, so that its abort (which
            // stops them) usually leaves one line.
            if !isRoot { usleep(500_000) }
            abort("Error: the ranks drifted apart: \(Int(differs)) of \(size) ranks hold other \(what()) than rank 0 "
                  + "(different flags, data or libraries on some machine?)" + (isRoot ? "" : " (rank \(rank))"), code: 70)
        }
    }
}

extension Collectives {
    /// The rows `rank` of `size` owns in a minibatch of `rows` rows of at most `capacity` (see
    /// `Collective.share(ofRows:capacity:)`).
    public static func share(ofRows rows: Int, capacity: Int, rank: Int, size: Int) -> Range<Int> {
        precondition(rows >= 0 && rows <= capacity && rank >= 0 && rank < size, "Collectives.share: bad arguments")
        let lo = capacity * rank / size, hi = capacity * (rank + 1) / size
        return min(lo, rows)..<min(hi, rows)
    }
}

extension FloatBuffer {
    /// FNV-1a over the bit patterns of the elements of `buffers`, in order.
    public static func hash(_ buffers: [FloatBuffer]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in buffers {
            for i in 0..<b.count {
                h = (h ^ UInt64(b.pointer[i].bitPattern)) &* 0x100_0000_01b3
            }
        }
        return h
    }
}

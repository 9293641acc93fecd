import Foundation
import Linalg

/// `Collective` for tests: P ranks as P threads of one process, so that data-parallel training
/// runs under `swift test` without MPI. The sum adds the ranks' buffers in rank order (every rank
/// computes the same bits). `run(ranks:_:)` starts the ranks, each inside
/// `Collectives.$current.withValue(its collective)`, and returns their results in rank order.
///
/// The engines' products must fit in one lane block (fewer than 32,768 multiply-adds per row,
/// `Lanes.blockCount`) so that the rank threads never share the lane pool.
public final class LoopbackCollective: Collective, @unchecked Sendable {
    // @unchecked Sendable: the shared state is guarded by the group's condition.
    final class Group: @unchecked Sendable {
        let size: Int
        let condition = NSCondition()
        var arrived = 0, generation = 0
        var slots: [UnsafeMutableRawPointer?]
        var partCounts: [Int]
        init(size: Int) {
            self.size = size
            slots = Array(repeating: nil, count: size)
            partCounts = Array(repeating: 0, count: size)
        }

        func barrier() {
            condition.lock()
            let mine = generation
            arrived += 1
            if arrived == size {
                arrived = 0
                generation += 1
                condition.broadcast()
            } else {
                while generation == mine { condition.wait() }
            }
            condition.unlock()
        }
    }

    let group: Group
    public let rank: Int
    public var size: Int { group.size }

    init(group: Group, rank: Int) { self.group = group; self.rank = rank }

    public func allReduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) {
        group.slots[rank] = UnsafeMutableRawPointer(buffer)
        group.barrier()                 // every rank's buffer is in place
        var sum = [Float](repeating: 0, count: count)
        for r in 0..<size {
            let other = group.slots[r]!.assumingMemoryBound(to: Float.self)
            for i in 0..<count { sum[i] += other[i] }
        }
        group.barrier()                 // nobody reads any more
        for i in 0..<count { buffer[i] = sum[i] }
    }

    public func orderedSum(_ parts: UnsafePointer<Float>, partCount: Int, count: Int,
                           into result: UnsafeMutablePointer<Float>) {
        group.slots[rank] = UnsafeMutableRawPointer(mutating: parts)
        group.partCounts[rank] = partCount
        group.barrier()                 // every rank's parts are in place
        for r in 0..<size {             // every rank adds all parts in rank order: the same bits
            Collectives.addInOrder(group.slots[r]!.assumingMemoryBound(to: Float.self), partCount: group.partCounts[r],
                                   count: count, into: result, continuing: r > 0)
        }
        group.barrier()                 // nobody reads any more
    }

    public func broadcast(_ buffer: UnsafeMutableRawPointer, byteCount: Int, from root: Int) {
        if rank == root { group.slots[rank] = buffer }
        group.barrier()
        if rank != root { buffer.copyMemory(from: group.slots[root]!, byteCount: byteCount) }
        group.barrier()
    }

    public func barrier() { group.barrier() }

    public func abort(_ message: String, code: Int32) -> Never {
        fatalError("LoopbackCollective.abort: \(message)")
    }

    /// The ranks' results, written under the group's lock.
    final class ResultBox<T>: @unchecked Sendable {
        var results: [Result<T, any Error>?]
        init(_ n: Int) { results = Array(repeating: nil, count: n) }
    }

    /// Runs `body(rank)` on `ranks` threads, each with its rank's collective as
    /// `Collectives.current`; returns the results in rank order (rethrows the first error).
    public static func run<T: Sendable>(ranks: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
        let group = Group(size: ranks)
        let box = ResultBox<T>(ranks), done = DispatchGroup()
        for rank in 0..<ranks {
            done.enter()
            let thread = Thread {
                let collective = LoopbackCollective(group: group, rank: rank)
                let result = Collectives.$current.withValue(collective) { Result { try body(rank) } }
                group.condition.lock(); box.results[rank] = result; group.condition.unlock()
                done.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        done.wait()
        return try box.results.map { try $0!.get() }
    }
}

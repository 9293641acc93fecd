import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The threads behind `Lanes.run`: the caller plus `threads - 1` workers (default: one per
/// core), started on first use and kept for the life of the process. A run publishes its blocks
/// (a closure or a task) and bumps a generation counter; thread t of the run runs blocks t,
/// t + T, t + 2T, ... (T threads), and the caller waits for the workers. Workers spin briefly
/// on the counter between phases (a minibatch's phases come every few hundred microseconds) and
/// then sleep on a condition variable, so an idle pool costs nothing; workers beyond `threads`
/// never spin.
///
/// Unlike `DispatchQueue.concurrentPerform` (four heap allocations per call, measured by the
/// Benchmarks package's malloc counters), a task run allocates nothing. One run at a time: a
/// caller that finds the pool busy (another thread's run) runs the blocks one after another
/// itself, which gives the same results, since blocks write disjoint memory.
final class LanePool: @unchecked Sendable {
    // @unchecked Sendable: `job`, `task`, `blockCount` and `runThreads` are written by the one
    // caller that holds `busy` before it bumps `generation` (release) and read by workers after
    // they see the new generation (acquire); the blocks themselves write disjoint memory.

    static let shared = LanePool(threads: max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))

    /// The number of threads a run uses (the caller and `threads - 1` workers).
    var threads: Int { activeThreads.load(ordering: .relaxed) }
    private let activeThreads: Atomic<Int>
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    /// Workers started so far (worker numbers 1...startedWorkers); guarded by `busy`.
    private var startedWorkers = 0
    /// The blocks' closure of the current run (a no-op between runs). A stored property of the
    /// function type itself: passing the closure through a generic pointer would reabstract it
    /// into a heap-allocated thunk on every run.
    private var job: (Int) -> Void = LanePool.idle
    /// The blocks' task of the current run, when it was given as an object.
    private var task: (any LaneTask)?
    private static let idle: @Sendable (Int) -> Void = { _ in }
    private var blockCount = 0, runThreads = 0
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    /// Spins on the generation counter before sleeping (about 0.1-0.3 ms).
    private static let spinLimit = 100_000

    private init(threads: Int) {
        activeThreads = Atomic(threads)
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    /// Sets the number of threads of later runs (at least 1).
    func setThreads(_ count: Int) { activeThreads.store(max(1, count), ordering: .relaxed) }

    /// Runs `body(block)` for blocks 0..<count on the caller and the workers, and returns when
    /// all are done. (`withoutActuallyEscaping` costs one small allocation per run; `run(_:task:)`
    /// costs none.)
    func run(_ count: Int, _ body: (Int) -> Void) {
        guard acquire(count) else {
            for block in 0..<count { body(block) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            job = body
            dispatch(count)
            job = LanePool.idle
        }
    }

    /// Runs `task.runBlock(block)` for blocks 0..<count on the caller and the workers, and
    /// returns when all are done. Allocates nothing.
    func run(_ count: Int, task: any LaneTask) {
        guard acquire(count) else {
            for block in 0..<count { task.runBlock(block) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        self.task = task
        dispatch(count)
        self.task = nil
    }

    /// Whether this run can use workers (several blocks and threads, no other run); if so the
    /// pool is now busy and the workers it needs are started.
    private func acquire(_ count: Int) -> Bool {
        guard count > 1, threads > 1,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        startWorkers(upTo: min(threads, count) - 1)
        return true
    }

    /// Publishes a run of `count` blocks (its work already in `job` or `task`), runs the
    /// caller's blocks and waits for the workers'.
    private func dispatch(_ count: Int) {
        blockCount = count
        runThreads = min(threads, count, startedWorkers + 1, 255)
        remaining.store(runThreads - 1, ordering: .relaxed)
        // The generation carries the run's thread count in its low byte, so that a worker
        // knows whether it takes part from the one value it read.
        let next = (generation.load(ordering: .relaxed) >> 8 + 1) << 8 | runThreads
        generation.store(next, ordering: .releasing)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        runBlocks(of: 0)
        var spins = 0
        while remaining.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins > LanePool.spinLimit { sched_yield() }
        }
    }

    /// The blocks of thread `thread` (0: the caller) in the current run. Not inlined: its copy
    /// of `job` is released when it returns, before a worker reports done (the caller's
    /// `withoutActuallyEscaping` checks that no copy outlives the run).
    @inline(never)
    private func runBlocks(of thread: Int) {
        let blocks = stride(from: thread, to: blockCount, by: runThreads)
        if let task {
            for block in blocks { task.runBlock(block) }
        } else {
            let job = self.job
            for block in blocks { job(block) }
        }
    }

    private func startWorkers(upTo count: Int) {
        guard startedWorkers < count else { return }
        // New workers start from the generation before this run's bump, so none misses it.
        let initial = generation.load(ordering: .acquiring)
        for worker in (startedWorkers + 1)...count {
            let context = UnsafeMutablePointer<(LanePool, Int, Int)>.allocate(capacity: 1)
            context.initialize(to: (self, worker, initial))
            var thread = pthread_t()
            let status = pthread_create(&thread, nil, { raw in
                let context = raw!.assumingMemoryBound(to: (LanePool, Int, Int).self)
                let (pool, worker, initial) = context.move()
                context.deallocate()
                pool.work(as: worker, from: initial)
                return nil
            }, context)
            precondition(status == 0, "LanePool: pthread_create failed (\(status))")
            pthread_detach(thread)
        }
        startedWorkers = count
    }

    /// A worker's loop: wait for a new generation, run this worker's blocks if it takes part
    /// in the run, report done.
    private func work(as worker: Int, from initial: Int) {
        var seen = initial
        while true {
            var spins = worker < threads ? 0 : LanePool.spinLimit
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins > LanePool.spinLimit {
                    pthread_mutex_lock(mutex)
                    while generation.load(ordering: .acquiring) == seen { pthread_cond_wait(condition, mutex) }
                    pthread_mutex_unlock(mutex)
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if worker < current & 0xFF {
                runBlocks(of: worker)
                remaining.subtract(1, ordering: .releasing)
            }
        }
    }
}

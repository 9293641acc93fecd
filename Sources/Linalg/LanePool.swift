import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The worker threads behind `Lanes.run`: one fewer than the cores, started on first use and
/// kept for the life of the process. A run publishes the lanes' closure and bumps a generation
/// counter; the caller runs lane 0 itself, each worker runs its lanes, and the caller waits for
/// them. Workers spin briefly on the counter between phases (a minibatch's phases come every
/// few hundred microseconds) and then sleep on a condition variable, so an idle pool costs
/// nothing.
///
/// Unlike `DispatchQueue.concurrentPerform` (four heap allocations per call, measured by the
/// Benchmarks package's malloc counters), a run allocates nothing. One run at a time: a caller
/// that finds the pool busy (another thread's run) runs its lanes one after another itself,
/// which gives the same results, since lanes write disjoint memory.
final class LanePool: @unchecked Sendable {
    // @unchecked Sendable: `job` and `laneCount` are written by the one caller that holds
    // `busy` before it bumps `generation` (release) and read by workers after they see the new
    // generation (acquire); the lanes themselves write disjoint memory.

    static let shared = LanePool(workers: max(0, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) - 1))

    /// The number of worker threads (the caller is the extra thread of every run).
    let workerCount: Int
    private let generation = Atomic<Int>(0)
    private let remaining = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    /// The lanes' closure of the current run (a no-op between runs). A stored property of the
    /// function type itself: passing the closure through a generic pointer would reabstract it
    /// into a heap-allocated thunk on every run.
    private var job: (Int) -> Void = LanePool.idle
    /// The lanes' task of the current run, when it was given as an object.
    private var task: (any LaneTask)?
    private static let idle: @Sendable (Int) -> Void = { _ in }
    private var laneCount = 0
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    /// Spins on the generation counter before sleeping (about 0.1-0.3 ms).
    private static let spinLimit = 100_000

    private init(workers: Int) {
        workerCount = workers
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    /// Runs `body(lane)` for lanes 0..<count on the caller and the workers, and returns when
    /// all are done. (`withoutActuallyEscaping` costs one small allocation per run; `run(_:task:)`
    /// costs none.)
    func run(_ count: Int, _ body: (Int) -> Void) {
        guard acquire(count) else {
            for lane in 0..<count { body(lane) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        withoutActuallyEscaping(body) { body in
            job = body
            dispatch(count)
            job = LanePool.idle
        }
    }

    /// Runs `task.runLane(lane)` for lanes 0..<count on the caller and the workers, and returns
    /// when all are done. Allocates nothing.
    func run(_ count: Int, task: any LaneTask) {
        guard acquire(count) else {
            for lane in 0..<count { task.runLane(lane) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        self.task = task
        dispatch(count)
        self.task = nil
    }

    /// Whether this run can use the workers (several lanes, workers exist, no other run); if
    /// so the pool is now busy and its workers are started.
    private func acquire(_ count: Int) -> Bool {
        guard count > 1, workerCount > 0,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        startWorkers()
        return true
    }

    /// Publishes a run of `count` lanes (its work already in `job` or `task`), runs the
    /// caller's lanes and waits for the workers'.
    private func dispatch(_ count: Int) {
        laneCount = count
        remaining.store(workerCount, ordering: .relaxed)
        generation.add(1, ordering: .releasing)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        runLanes(of: 0)
        var spins = 0
        while remaining.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins > LanePool.spinLimit { sched_yield() }
        }
    }

    /// The lanes of thread `thread` (0: the caller) in the current run. Not inlined: its copy
    /// of `job` is released when it returns, before a worker reports done (the caller's
    /// `withoutActuallyEscaping` checks that no copy outlives the run).
    @inline(never)
    private func runLanes(of thread: Int) {
        let lanes = stride(from: thread, to: laneCount, by: workerCount + 1)
        if let task {
            for lane in lanes { task.runLane(lane) }
        } else {
            let job = self.job
            for lane in lanes { job(lane) }
        }
    }

    private func startWorkers() {
        guard !started.load(ordering: .acquiring) else { return }
        started.store(true, ordering: .releasing)
        // The workers start from the generation before this run's bump, so none misses it.
        let initial = generation.load(ordering: .acquiring)
        for worker in 1...workerCount {
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
    }

    /// A worker's loop: wait for a new generation, run this worker's lanes, report done.
    private func work(as worker: Int, from initial: Int) {
        var seen = initial
        while true {
            var spins = 0
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
            if worker < laneCount { runLanes(of: worker) }
            remaining.subtract(1, ordering: .releasing)
        }
    }
}

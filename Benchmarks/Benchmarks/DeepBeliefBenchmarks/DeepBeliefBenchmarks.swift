// Benchmarks of the hot paths of training: one CD-1 minibatch step, one fine-tuning step, and
// the elementwise kernels they are built on. The stepper or buffers are made in each
// benchmark's `setup` (outside the measured region); every iteration is one step, so the
// malloc counters read as allocations per step (the goal: zero).
//
// DBN_BENCH_SMOKE=1 (set by `scripts/bench/swift-benchmarks.sh --smoke`) runs a handful of
// iterations per benchmark, to check that they build and run, not to time them.
import Benchmark
import DeepBelief

let smoke = TrainingData.environment("DBN_BENCH_SMOKE") != nil

/// The metrics of every benchmark: time, rate, and the malloc interposer's counters.
let metrics: [BenchmarkMetric] = [
    .wallClock, .throughput, .mallocCountTotal, .mallocBytesCount,
]

/// A configuration of at most `iterations` iterations or `seconds` seconds (3 and 0.2 s when
/// smoke testing), after 3 warm-up iterations (1).
func configuration(iterations: Int, seconds: Int64, scaling: BenchmarkScalingFactor = .one,
                   timeUnits: BenchmarkTimeUnits = .microseconds) -> Benchmark.Configuration {
    .init(metrics: metrics, timeUnits: timeUnits, warmupIterations: smoke ? 1 : 3, scalingFactor: scaling,
          maxDuration: smoke ? .milliseconds(200) : .seconds(seconds), maxIterations: smoke ? 3 : iterations)
}

let benchmarks: @Sendable () -> Void = {
    // The floor: what the framework itself counts around an empty iteration.
    Benchmark("Empty iteration (the counters' floor)",
              configuration: configuration(iterations: 1_000, seconds: 1, timeUnits: .nanoseconds)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(0) }
    }

    // Two lanes side by side on single-threaded BLAS (the default on 2 cores): the step's 3
    // parallel phases run on LanePool's threads as a LaneTask, which allocates nothing
    // (`DispatchQueue.concurrentPerform` allocated about 4 small blocks per call).
    Benchmark("CD-1 step 784x500 batch 100, 2 lanes",
              configuration: configuration(iterations: 2_000, seconds: 5)) { benchmark, fixture in
        for _ in benchmark.scaledIterations { blackHole(fixture.step()) }
    } setup: {
        try CDFixture(lanes: 2)
    }

    // One lane on OpenBLAS's own threads: each multi-threaded sgemm (4 per CD-1 step) mallocs
    // a 512 KiB job array inside OpenBLAS (sgemm_thread_nn/nt/tn of Debian's 0.3.21).
    Benchmark("CD-1 step 784x500 batch 100, 1 lane",
              configuration: configuration(iterations: 2_000, seconds: 5)) { benchmark, fixture in
        for _ in benchmark.scaledIterations { blackHole(fixture.step()) }
    } setup: {
        try CDFixture(lanes: 1)
    }

    // Lanes on single-threaded BLAS, as the trainer runs it: 3 forward and 4 backward/update
    // phases per step, no allocation (on OpenBLAS's own threads each of the 11 sgemm calls
    // would malloc the same 512 KiB job array).
    Benchmark("Fine-tuning step 784-500-500-2000-10 batch 100, SGD momentum 0.9",
              configuration: configuration(iterations: 2_000, seconds: 5)) { benchmark, fixture in
        for _ in benchmark.scaledIterations { blackHole(fixture.step()) }
    } setup: {
        try FineTuningFixture()
    }

    Benchmark("Kernels.addBiasSigmoid 100x500",
              configuration: configuration(iterations: 100_000, seconds: 2)) { benchmark, fixture in
        for _ in benchmark.scaledIterations { fixture.addBiasSigmoid() }
    } setup: {
        KernelFixture()
    }

    Benchmark("Xoshiro256StarStar.sampleBernoulli 100x500",
              configuration: configuration(iterations: 100_000, seconds: 2)) { benchmark, fixture in
        for _ in benchmark.scaledIterations { fixture.sampleBernoulli() }
    } setup: {
        KernelFixture()
    }

    // What `ContrastiveDivergenceStepper.step` adds around each step when it has several lanes
    // and BLAS runs more than one thread: set 1 thread, then restore the count (x 1000).
    Benchmark("BLASThreads.set(1) + restore",
              configuration: configuration(iterations: 10_000, seconds: 1, scaling: .kilo, timeUnits: .nanoseconds)) {
        benchmark in
        let threads = BLASThreads.count
        for _ in benchmark.scaledIterations {
            BLASThreads.set(1)
            BLASThreads.set(threads)
        }
    }
}

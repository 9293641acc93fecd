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

    // The step's phases run in 4 column blocks on single-threaded BLAS, on 2 threads (the
    // default on 2 cores) and on 1: LanePool runs a LaneTask, which allocates nothing
    // (`DispatchQueue.concurrentPerform` allocated about 4 small blocks per call; OpenBLAS's
    // own threads malloc a 512 KiB job array per sgemm call).
    Benchmark("CD-1 step 784x500 batch 100, 2 threads",
              configuration: configuration(iterations: 2_000, seconds: 5)) { benchmark, fixture in
        for _ in benchmark.scaledIterations { blackHole(fixture.step()) }
    } setup: {
        try CDFixture(threads: 2)
    }

    Benchmark("CD-1 step 784x500 batch 100, 1 thread",
              configuration: configuration(iterations: 2_000, seconds: 5)) { benchmark, fixture in
        for _ in benchmark.scaledIterations { blackHole(fixture.step()) }
    } setup: {
        try CDFixture(threads: 1)
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

    // Batch normalisation and maxout add stages and buffers, all allocated with the engine.
    Benchmark("Fine-tuning step 784-500-500-10 batch 100, batch norm + maxout (2 pieces)",
              configuration: configuration(iterations: 2_000, seconds: 5)) { benchmark, fixture in
        for _ in benchmark.scaledIterations { blackHole(fixture.step()) }
    } setup: {
        try FineTuningFixture(batchNormMaxout: true)
    }

    Benchmark("Kernels.addBiasSigmoid 100x500",
              configuration: configuration(iterations: 100_000, seconds: 2)) { benchmark, fixture in
        for _ in benchmark.scaledIterations { fixture.addBiasSigmoid() }
    } setup: {
        KernelFixture()
    }

    Benchmark("RandomStream.sampleBernoulli 100x500 (Philox4x32-10)",
              configuration: configuration(iterations: 100_000, seconds: 2)) { benchmark, fixture in
        for _ in benchmark.scaledIterations { fixture.sampleBernoulli() }
    } setup: {
        KernelFixture()
    }

    // What every training step adds around its work: OpenBLAS to one thread and back (x 1000).
    Benchmark("BLASThreads.singleThreaded { }",
              configuration: configuration(iterations: 10_000, seconds: 1, scaling: .kilo, timeUnits: .nanoseconds)) {
        benchmark in
        for _ in benchmark.scaledIterations { BLASThreads.singleThreaded { blackHole(0) } }
    }
}

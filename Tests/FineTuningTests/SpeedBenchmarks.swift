import Foundation
import Testing
import Linalg
@testable import FineTuning

/// Opt-in benchmarks (DBN_FULL_TESTS=1, release build): they print figures and assert nothing
/// about time. Each figure is the best of 8 repetitions (the least disturbed by other
/// processes); with one BLAS thread it is the calling thread's CPU time (robust on a shared
/// machine: OpenBLAS then computes in the calling thread), with two it is wall-clock time.
///
///     DBN_FULL_TESTS=1 swift test -c release --filter FineTuningTests.SpeedBenchmarks
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DBN_FULL_TESTS"] == "1"))
struct SpeedBenchmarks {
    static let sizes = [784, 500, 500, 2000, 10]

    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// The best time of 8 repetitions of `repetitions` calls of `body`.
    static func best(threads: Int, repetitions: Int, _ body: () -> Void) -> Double {
        body()
        let clock = ContinuousClock()
        var best = Double.infinity
        for _ in 0..<8 {
            let c0 = cpuSeconds(), w0 = clock.now
            for _ in 0..<repetitions { body() }
            best = min(best, threads == 1 ? cpuSeconds() - c0 : Trainer.seconds(clock.now - w0))
        }
        return best
    }

    /// Where a minibatch's time goes (784-500-500-2000-10, sigmoid, batch 100, SGD momentum),
    /// scaled to the 600 minibatches of an MNIST epoch.
    @Test(arguments: [1, 2]) func stepBreakdown(threads: Int) throws {
        BLASThreads.set(threads)
        let sizes = Self.sizes
        var g = Xoshiro256StarStar(seed: 1)
        let network = try Network(sizes: sizes, hiddenActivation: .sigmoid, initializer: .xavierUniform, generator: &g)
        let state = BackpropEngine(network: network, capacity: 100, configuration: TrainingConfiguration(momentum: 0.9))
        let key = StepKey(seed: 1, epoch: 1, minibatch: 0)
        for i in 0..<state.input.count { state.input.pointer[i] = g.nextFloat() }
        for r in 0..<100 { state.target.pointer[r * 10 + r % 10] = 1 }
        func time(_ name: String, _ body: () -> Void) {
            let seconds = Self.best(threads: threads, repetitions: 20, body) * 600 / 20
            print("[speed \(threads) thread(s)] \(name): \(formatFixed(seconds, 2)) s per 600 minibatches")
        }
        time("full step") { _ = state.step(rows: 100, learningRate: 0.01, trainHidden: true, key: key) }
        time("forward (gemms + bias/sigmoid)") { state.forward(rows: 100, key: key) }
        time("forward gemms only") {
            for l in 0..<4 {
                sgemm(.none, .none, m: 100, n: sizes[l + 1], k: sizes[l], alpha: 1, a: state.layerInput(l), lda: sizes[l],
                      b: state.weights[l].pointer, ldb: sizes[l + 1], beta: 0, c: state.activations[l].pointer, ldc: sizes[l + 1])
            }
        }
        time("backward deltas (gemms + derivative)") { state.backward(rows: 100, downTo: 0) }
        time("weight-gradient gemms only") {
            for l in 0..<4 {
                sgemm(.transposed, .none, m: sizes[l], n: sizes[l + 1], k: 100, alpha: 0.001, a: state.layerInput(l), lda: sizes[l],
                      b: state.deltas[l].pointer, ldb: sizes[l + 1], beta: 0.9, c: state.weightMoments[l].pointer, ldc: sizes[l + 1])
            }
        }
        time("momentum updates") {
            for l in 0..<4 {
                MomentumStep(momentum: 0.9).apply(
                    ParameterBlock(values: state.weights[l].pointer, gradient: state.weightGradients[l].pointer,
                                   moment: state.weightMoments[l].pointer, secondMoment: nil, count: state.weights[l].count),
                    rate: 1e-9, decay: 0, step: 1)
            }
        }
        time("bias + sigmoid kernels") {
            for l in 0..<3 {
                FusedKernels.addBiasActivate(state.activations[l].pointer, rows: 100, columns: sizes[l + 1],
                                             bias: state.biases[l].pointer, activation: .sigmoid)
            }
        }
    }

    /// GFLOP/s of the three products of each layer at batch 100.
    @Test(arguments: [1, 2]) func gemmShapes(threads: Int) {
        BLASThreads.set(threads)
        let b = 100
        for l in 0..<4 {
            let fanIn = Self.sizes[l], fanOut = Self.sizes[l + 1]
            let x = FloatBuffer(count: b * fanIn), w = FloatBuffer(count: fanIn * fanOut)
            let y = FloatBuffer(count: b * fanOut), v = FloatBuffer(count: fanIn * fanOut)
            var g = Xoshiro256StarStar(seed: 1)
            for i in 0..<x.count { x.pointer[i] = g.nextFloat() }
            for i in 0..<w.count { w.pointer[i] = g.nextFloat() }
            for i in 0..<y.count { y.pointer[i] = g.nextFloat() }
            let flops = 2.0 * Double(b * fanIn * fanOut)
            func rate(_ body: () -> Void) -> String {
                formatFixed(flops * 20 / Self.best(threads: threads, repetitions: 20, body) / 1e9, 1)
            }
            let forward = rate {
                sgemm(.none, .none, m: b, n: fanOut, k: fanIn, alpha: 1, a: x.pointer, lda: fanIn, b: w.pointer, ldb: fanOut,
                      beta: 0, c: y.pointer, ldc: fanOut)
            }
            let delta = rate {
                sgemm(.none, .transposed, m: b, n: fanIn, k: fanOut, alpha: 1, a: y.pointer, lda: fanOut, b: w.pointer, ldb: fanOut,
                      beta: 0, c: x.pointer, ldc: fanIn)
            }
            let gradient = rate {
                sgemm(.transposed, .none, m: fanIn, n: fanOut, k: b, alpha: 0.001, a: x.pointer, lda: fanIn, b: y.pointer,
                      ldb: fanOut, beta: 0.9, c: v.pointer, ldc: fanOut)
            }
            print("[gemm \(threads) thread(s)] \(fanIn)x\(fanOut): X W \(forward), delta W^T \(delta), V = 0.9 V + a X^T delta \(gradient) GFLOP/s")
        }
    }

    /// ns per element of the elementwise kernels (one thread, CPU time).
    @Test func elementwiseKernels() {
        let rows = 100, columns = 2000, n = rows * columns
        let x = FloatBuffer(count: n), y = FloatBuffer(count: n), m = FloatBuffer(count: n), z = FloatBuffer(count: n)
        let bias = FloatBuffer(count: columns)
        var g = Xoshiro256StarStar(seed: 1)
        for i in 0..<n { x.pointer[i] = g.nextNormal(); y.pointer[i] = g.nextFloat(); m.pointer[i] = 2; z.pointer[i] = 0.1 }
        func time(_ name: String, _ body: () -> Void) {
            let ns = Self.best(threads: 1, repetitions: 20, body) / Double(20 * n) * 1e9
            print("[kernels] \(name): \(formatFixed(ns, 3)) ns/element")
        }
        time("Linalg Kernels.sigmoid (scalar fastExp)") { Kernels.sigmoid(UnsafeMutableBufferPointer(start: x.pointer, count: n)) }
        for activation in Activation.allCases {
            time("bias + \(activation.name)") {
                FusedKernels.addBiasActivate(x.pointer, rows: rows, columns: columns, bias: bias.pointer, activation: activation)
            }
        }
        time("backprop sigmoid derivative") { FusedKernels.backpropActivation(x.pointer, output: y.pointer, mask: nil, count: n, activation: .sigmoid) }
        time("backprop sigmoid derivative with mask") { FusedKernels.backpropActivation(x.pointer, output: y.pointer, mask: m.pointer, count: n, activation: .sigmoid) }
        time("bias column sums") { FusedKernels.columnSums(x.pointer, rows: rows, columns: columns, into: bias.pointer, scale: 0.1) }
        time("momentum update from the gradient") {
            MomentumStep(momentum: 0.9).apply(ParameterBlock(values: x.pointer, gradient: z.pointer, moment: y.pointer,
                                                             secondMoment: nil, count: n), rate: 1e-9, decay: 0, step: 1)
        }
        let stream = RandomStream(seed: 1, purpose: .dropout(layer: 1))
        time("dropout with mask") {
            FusedKernels.dropout(x.pointer, into: y.pointer, mask: m.pointer, rows: rows, units: 0..<columns, stride: columns,
                                 rate: 0.5, stream: stream)
        }
        time("Adam update") {
            AdamStep(beta1: 0.9, beta2: 0.999, epsilon: 1e-8).apply(
                ParameterBlock(values: x.pointer, gradient: z.pointer, moment: y.pointer, secondMoment: m.pointer, count: n),
                rate: 1e-9, decay: 0, step: 3)
        }
    }
}

import Foundation
import Linalg
@testable import FineTuning

// Naive references in double precision: loops, no BLAS, libm's exp. Independent of the
// library's gemm-based code paths.

/// A layer in double precision.
struct DoubleLayer {
    var weight: [[Double]]  // fanIn x fanOut
    var bias: [Double]

    init(_ layer: DenseParameters) {
        weight = (0..<layer.fanIn).map { r in (0..<layer.fanOut).map { Double(layer.weight[r, $0]) } }
        bias = layer.bias.map(Double.init)
    }
}

func doubleLayers(_ network: Network) -> [DoubleLayer] { network.layers.map(DoubleLayer.init) }

func naiveActivation(_ activation: Activation, _ x: Double) -> Double {
    switch activation {
    case .sigmoid: 1 / (1 + exp(-x))
    case .tanh: tanh(x)
    case .relu: max(x, 0)
    case .leakyReLU: x > 0 ? x : 0.01 * x
    case .elu: x > 0 ? x : exp(x) - 1
    case .identity, .maxout: x
    }
}

/// y = x W + b for one sample.
func naiveAffine(_ x: [Double], _ layer: DoubleLayer) -> [Double] {
    (0..<layer.bias.count).map { c in
        var sum = layer.bias[c]
        for r in 0..<x.count { sum += x[r] * layer.weight[r][c] }
        return sum
    }
}

/// Every layer's output for one sample: hidden activations, then the logits.
func naiveForward(_ x: [Double], _ layers: [DoubleLayer], activation: Activation) -> [[Double]] {
    var outputs: [[Double]] = []
    var h = x
    for (l, layer) in layers.enumerated() {
        var z = naiveAffine(h, layer)
        if l < layers.count - 1 { z = z.map { naiveActivation(activation, $0) } }
        outputs.append(z)
        h = z
    }
    return outputs
}

/// Mean loss over the rows of `inputs` (softmax cross-entropy or binary cross-entropy, from
/// the logits, with the textbook formulas).
func naiveLoss(_ layers: [DoubleLayer], activation: Activation, output: OutputKind,
               inputs: Matrix, targets: Matrix) -> Double {
    var total = 0.0
    for r in 0..<inputs.rows {
        let x = inputs.row(r).map(Double.init)
        let t = targets.row(r).map(Double.init)
        let z = naiveForward(x, layers, activation: activation).last!
        switch output {
        case .softmax:
            let m = z.max()!
            let lse = m + log(z.reduce(0) { $0 + exp($1 - m) })
            for c in z.indices { total += t[c] * (lse - z[c]) }
        case .sigmoid:
            for c in z.indices {
                let p = 1 / (1 + exp(-z[c]))
                total += -(t[c] * log(p) + (1 - t[c]) * log(1 - p))
            }
        }
    }
    return total / Double(inputs.rows)
}

/// Naive matrix product of row-major matrices.
func naiveProduct(_ a: Matrix, _ b: Matrix) -> [[Double]] {
    (0..<a.rows).map { i in
        (0..<b.columns).map { j in
            var s = 0.0
            for k in 0..<a.columns { s += Double(a[i, k]) * Double(b[k, j]) }
            return s
        }
    }
}

/// Random inputs (rows x columns) from N(0, 1).
func randomInputs(rows: Int, columns: Int, seed: UInt64) -> Matrix {
    var g = Xoshiro256StarStar(seed: seed)
    return Matrix.normal(rows: rows, columns: columns, using: &g)
}

/// Random one-hot targets.
func randomLabels(count: Int, classes: Int, seed: UInt64) -> [Int] {
    var g = Xoshiro256StarStar(seed: seed)
    return (0..<count).map { _ in Int(g.next() % UInt64(classes)) }
}

/// The four XOR points as a 2-class problem, labels 0 0 -> 0, 0 1 -> 1, 1 0 -> 1, 1 1 -> 0.
func xorData() -> LabeledData {
    try! LabeledData(inputs: Matrix([[0, 0], [0, 1], [1, 0], [1, 1]]), labels: [0, 1, 1, 0], classCount: 2)
}

/// Mean and population variance of values, in double precision.
func meanAndVariance(_ values: [Float]) -> (mean: Double, variance: Double) {
    let n = Double(values.count)
    let mean = values.reduce(0.0) { $0 + Double($1) } / n
    let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    return (mean, variance)
}

/// Every weight and bias of `network` as its bit pattern (for byte-identity checks).
func bitPatterns(_ network: Network) -> [UInt32] {
    let layers: [Float] = network.layers.flatMap { $0.weight.elements + $0.bias }
    let norms: [Float] = network.batchNorm.flatMap { $0.gamma + $0.runningMean + $0.runningVariance }
    return (layers + norms).map(\.bitPattern)
}

/// `body()` with `Lanes.threads` set to `threads`, restored afterwards.
func withThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
    let saved = Lanes.threads
    Lanes.setThreads(threads)
    defer { Lanes.setThreads(saved) }
    return try body()
}

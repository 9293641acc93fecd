import Testing
import Linalg
@testable import FineTuning

/// Backprop against central finite differences of the naive double-precision loss, for every
/// activation and both output kinds, on every weight and bias of every layer.
@Suite struct GradientCheckTests {
    static let cases: [(Activation, OutputKind)] =
        Activation.allCases.filter { $0 != .maxout }.flatMap { a in OutputKind.allCases.map { (a, $0) } }

    @Test(arguments: cases)
    func backpropMatchesFiniteDifferences(activation: Activation, output: OutputKind) throws {
        var g = Xoshiro256StarStar(seed: 7)
        // Biases start non-zero so that their gradients are exercised in general position.
        var network = try Network(sizes: [4, 6, 5, 3], hiddenActivation: activation, output: output,
                                  initializer: .xavierNormal, generator: &g)
        for l in network.layers.indices {
            g.fillNormal(&network.layers[l].bias, standardDeviation: 0.3)
        }
        let inputs = randomInputs(rows: 7, columns: 4, seed: 11)
        let data: LabeledData
        switch output {
        case .softmax: data = try LabeledData(inputs: inputs, labels: randomLabels(count: 7, classes: 3, seed: 12), classCount: 3)
        case .sigmoid:
            var t = Matrix(rows: 7, columns: 3)
            for i in 0..<t.count { t.elements[i] = g.bernoulli(0.5) }
            data = try LabeledData(inputs: inputs, targets: t)
        }

        let (loss, gradients, _) = network.lossGradients(on: data)
        let reference = doubleLayers(network)
        let referenceLoss = naiveLoss(reference, activation: activation, output: output,
                                      inputs: data.inputs, targets: data.targets)
        #expect(abs(loss - referenceLoss) < 1e-5 * max(1, abs(referenceLoss)))

        let h = 1e-6
        func numeric(_ perturb: (inout [DoubleLayer], Double) -> Void) -> Double {
            var plus = reference, minus = reference
            perturb(&plus, h)
            perturb(&minus, -h)
            let lp = naiveLoss(plus, activation: activation, output: output, inputs: data.inputs, targets: data.targets)
            let lm = naiveLoss(minus, activation: activation, output: output, inputs: data.inputs, targets: data.targets)
            return (lp - lm) / (2 * h)
        }
        for l in network.layers.indices {
            let layer = network.layers[l]
            let weightError = weightGradientError(gradients[l].weight) { r, c in numeric { $0[l].weight[r][c] += $1 } }
            #expect(weightError < 1e-3, "layer \(l) weights: relative error \(weightError)")

            let biasAnalytic = gradients[l].bias.map(Double.init)
            let biasFinite = (0..<layer.fanOut).map { c in numeric { $0[l].bias[c] += $1 } }
            let biasError = relativeError(biasAnalytic, biasFinite)
            #expect(biasError < 1e-3, "layer \(l) biases: relative error \(biasError)")
        }
    }

    /// The relative error of an analytic weight gradient against `finite(r, c)`, entry by entry.
    func weightGradientError(_ analytic: Matrix, finite: (Int, Int) -> Double) -> Double {
        var a: [Double] = [], f: [Double] = []
        for r in 0..<analytic.rows {
            for c in 0..<analytic.columns {
                a.append(Double(analytic[r, c]))
                f.append(finite(r, c))
            }
        }
        return relativeError(a, f)
    }

    /// ||a - b|| / max(||a||, ||b||), guarded for tiny gradients.
    func relativeError(_ a: [Double], _ b: [Double]) -> Double {
        var difference = 0.0, na = 0.0, nb = 0.0
        for i in a.indices {
            difference += (a[i] - b[i]) * (a[i] - b[i])
            na += a[i] * a[i]
            nb += b[i] * b[i]
        }
        return difference.squareRoot() / max(na.squareRoot(), nb.squareRoot(), 1e-7)
    }
}

@Suite struct OutputLossTests {
    @Test func softmaxLossIsStableForHugeLogits() {
        var z: [Float] = [1000, 0, -1000, 0, 1000, 0]
        let t: [Float] = [0, 1, 0, 0, 1, 0]
        let stats = z.withUnsafeMutableBufferPointer { zb in
            t.withUnsafeBufferPointer { OutputKind.softmax.outputPass(zb.baseAddress!, targets: $0.baseAddress!, rows: 2, columns: 3, write: .delta) }
        }
        // Row 1: lse = 1000, loss = 1000 - 0; row 2: lse = 1000 + log(1 + 2e-1000...), loss ~ 0.
        #expect(abs(stats.lossSum - 1000) < 1e-3)
        #expect(stats.errors == 1)
        #expect(z.allSatisfy { $0.isFinite })
        #expect(abs(z[0] - 1) < 1e-6 && abs(z[1] + 1) < 1e-6)
    }

    @Test func binaryCrossEntropyIsStableForHugeLogits() {
        var z: [Float] = [1000, -1000, 0, 30]
        let t: [Float] = [0, 0, 1, 1]
        let stats = z.withUnsafeMutableBufferPointer { zb in
            t.withUnsafeBufferPointer { OutputKind.sigmoid.outputPass(zb.baseAddress!, targets: $0.baseAddress!, rows: 1, columns: 4, write: .probabilities) }
        }
        // 1000 + ~0 + log 2 + log(1 + e^-30)
        #expect(abs(stats.lossSum - (1000 + 0.693_147_180_56 + 9.36e-14)) < 1e-6)
        #expect(stats.errors == 1)
        #expect(z[0] == 1 && z[1] < 1e-30 && z[2] == 0.5 && z[3] == 1)
    }

    @Test func evaluateCountsErrorsLikeANaiveLoop() throws {
        var g = Xoshiro256StarStar(seed: 3)
        let network = try Network(sizes: [5, 7, 4], hiddenActivation: .tanh, initializer: .heNormal, generator: &g)
        let inputs = randomInputs(rows: 2500, columns: 5, seed: 4)  // more than one evaluation chunk
        let labels = randomLabels(count: 2500, classes: 4, seed: 5)
        let data = try LabeledData(inputs: inputs, labels: labels, classCount: 4)
        let layers = doubleLayers(network)
        var errors = 0
        for r in 0..<inputs.rows {
            let z = naiveForward(inputs.row(r).map(Double.init), layers, activation: .tanh).last!
            if z.firstIndex(of: z.max()!)! != labels[r] { errors += 1 }
        }
        let evaluation = network.evaluate(data)
        #expect(evaluation.errorRate == Double(errors) / 2500)
        #expect(abs(evaluation.loss - naiveLoss(layers, activation: .tanh, output: .softmax, inputs: inputs, targets: data.targets)) < 1e-4)
        #expect(network.classify(inputs).count == 2500)
        let p = network.probabilities(inputs)
        for r in 0..<5 { #expect(abs(p.row(r).reduce(0, +) - 1) < 1e-5) }
    }
}

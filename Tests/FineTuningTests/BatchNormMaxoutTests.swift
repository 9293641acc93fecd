import Foundation
import Linalg
import Testing
import _TestSupport
@testable import FineTuning

/// The batch normalisation of a naive double-precision forward pass: per layer the scales and,
/// in evaluation mode, the running statistics (nil: training mode, the batch's statistics).
struct NaiveNorm {
    var gamma: [Double]
    var running: (mean: [Double], variance: [Double])?
}

/// The logits of every row of `inputs` (naive, double precision) through layers with
/// optional batch normalisation (`norms`, one per hidden layer, or empty) and maxout's pooling
/// over `pieces` adjacent columns.
func naiveBatchLogits(_ layers: [DoubleLayer], norms: [NaiveNorm], pieces: Int, activation: Activation,
                      inputs: Matrix) -> [[Double]] {
    var h = (0..<inputs.rows).map { inputs.row($0).map(Double.init) }
    let epsilon = Double(BatchNormalization.epsilon)
    for (l, layer) in layers.enumerated() {
        let hidden = l < layers.count - 1, columns = layer.bias.count
        var z = h.map { x in
            (0..<columns).map { c in
                var sum = 0.0
                for r in 0..<x.count { sum += x[r] * layer.weight[r][c] }
                return sum
            }
        }
        if hidden && l < norms.count {
            for c in 0..<columns {
                let values = z.map { $0[c] }
                var mean = values.reduce(0, +) / Double(values.count)
                var variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
                if let running = norms[l].running { (mean, variance) = (running.mean[c], running.variance[c]) }
                for r in z.indices {
                    z[r][c] = norms[l].gamma[c] * (z[r][c] - mean) / (variance + epsilon).squareRoot() + layer.bias[c]
                }
            }
        } else {
            for r in z.indices { for c in 0..<columns { z[r][c] += layer.bias[c] } }
        }
        if hidden {
            z = z.map { row in row.map { naiveActivation(activation, $0) } }
            if pieces > 1 {
                z = z.map { row in (0..<(columns / pieces)).map { u in row[(u * pieces)..<((u + 1) * pieces)].max()! } }
            }
        }
        h = z
    }
    return h
}

/// The mean softmax cross-entropy of naive logits.
func naiveSoftmaxLoss(_ logits: [[Double]], targets: Matrix) -> Double {
    var total = 0.0
    for (r, z) in logits.enumerated() {
        let m = z.max()!
        let lse = m + log(z.reduce(0) { $0 + exp($1 - m) })
        for c in z.indices { total += Double(targets[r, c]) * (lse - z[c]) }
    }
    return total / Double(logits.count)
}

@Suite struct BatchNormMaxoutTests {
    /// A small network with non-trivial biases and (with batch normalisation) scales.
    static func network(_ activation: Activation, pieces: Int, batchNorm: Bool, sizes: [Int] = [4, 6, 5, 3],
                        seed: UInt64 = 7) throws -> Network {
        var g = Xoshiro256StarStar(seed: seed)
        var network = try Network(sizes: sizes, hiddenActivation: activation, maxoutPieces: pieces,
                                  initializer: .xavierNormal, generator: &g)
        for l in network.layers.indices { g.fillNormal(&network.layers[l].bias, standardDeviation: 0.3) }
        if batchNorm {
            network = network.withBatchNormalization()
            for l in network.batchNorm.indices {
                network.batchNorm[l].gamma = network.batchNorm[l].gamma.map { _ in 1 + 0.5 * g.nextFloat() - 0.25 }
            }
        }
        return network
    }

    static let gradientCases: [(Activation, Int, Bool)] = [
        (.sigmoid, 1, true), (.relu, 1, true), (.tanh, 1, true),
        (.maxout, 2, false), (.maxout, 3, false), (.maxout, 2, true),
    ]

    @Test("backprop through batch normalisation and maxout matches central finite differences (all parameters, gamma included)",
          arguments: gradientCases)
    func gradientsMatchFiniteDifferences(activation: Activation, pieces: Int, batchNorm: Bool) throws {
        let network = try Self.network(activation, pieces: pieces, batchNorm: batchNorm)
        let data = try LabeledData(inputs: randomInputs(rows: 7, columns: 4, seed: 11),
                                   labels: randomLabels(count: 7, classes: 3, seed: 12), classCount: 3)
        let (loss, gradients, scaleGradients) = network.lossGradients(on: data)
        #expect(scaleGradients.count == (batchNorm ? 2 : 0))

        let layers = doubleLayers(network)
        let norms = network.batchNorm.map { NaiveNorm(gamma: $0.gamma.map(Double.init), running: nil) }
        func naive(_ layers: [DoubleLayer], _ norms: [NaiveNorm]) -> Double {
            naiveSoftmaxLoss(naiveBatchLogits(layers, norms: norms, pieces: network.maxoutPieces, activation: activation,
                                              inputs: data.inputs), targets: data.targets)
        }
        #expect(abs(loss - naive(layers, norms)) < 1e-5 * max(1, abs(loss)))

        let h = 1e-6
        func numeric(_ perturb: (inout [DoubleLayer], inout [NaiveNorm], Double) -> Void) -> Double {
            var (lp, np, lm, nm) = (layers, norms, layers, norms)
            perturb(&lp, &np, h)
            perturb(&lm, &nm, -h)
            return (naive(lp, np) - naive(lm, nm)) / (2 * h)
        }
        let check = GradientCheckTests()
        for l in network.layers.indices {
            let layer = network.layers[l]
            let weightError = check.weightGradientError(gradients[l].weight) { r, c in
                numeric { w, _, d in w[l].weight[r][c] += d }
            }
            #expect(weightError < 1e-3, "layer \(l) weights: relative error \(weightError)")
            let biasFinite = (0..<layer.fanOut).map { c in numeric { w, _, d in w[l].bias[c] += d } }
            let biasError = check.relativeError(gradients[l].bias.map(Double.init), biasFinite)
            #expect(biasError < 1e-3, "layer \(l) biases (shifts beta): relative error \(biasError)")
            if l < scaleGradients.count {
                let gammaFinite = (0..<layer.fanOut).map { c in numeric { _, n, d in n[l].gamma[c] += d } }
                let gammaError = check.relativeError(scaleGradients[l].map(Double.init), gammaFinite)
                #expect(gammaError < 1e-3, "layer \(l) gamma: relative error \(gammaError)")
            }
        }
    }

    @Test("evaluation uses the running statistics, training the minibatch's; both match the naive reference")
    func evaluationUsesRunningStatistics() throws {
        let start = try Self.network(.relu, pieces: 1, batchNorm: true, sizes: [5, 8, 6, 3])
        let data = try LabeledData(inputs: randomInputs(rows: 40, columns: 5, seed: 21),
                                   labels: randomLabels(count: 40, classes: 3, seed: 22), classCount: 3)
        let stepper = try FineTuningStepper(network: start, configuration: TrainingConfiguration(batchSize: 10, learningRate: 0.05))
        for m in 0..<4 { stepper.step(on: data, rows: Array((m * 10)..<(m * 10 + 10))[...], epoch: 1, minibatch: m) }
        let trained = stepper.network
        // The running statistics moved away from their start, and only through steps.
        #expect(trained.batchNorm[0].runningMean != start.batchNorm[0].runningMean)
        #expect(trained.batchNorm[1].runningVariance != start.batchNorm[1].runningVariance)

        let layers = doubleLayers(trained)
        let running = trained.batchNorm.map {
            NaiveNorm(gamma: $0.gamma.map(Double.init),
                      running: ($0.runningMean.map(Double.init), $0.runningVariance.map(Double.init)))
        }
        let batch = trained.batchNorm.map { NaiveNorm(gamma: $0.gamma.map(Double.init), running: nil) }
        let x = data.inputs.rows(in: 0..<20)
        let evaluation = trained.predict(x)
        let training = trained.trainingModeProbabilities(x, inputDropout: 0, hiddenDropout: 0,
                                                         key: StepKey(seed: 1, epoch: 1, minibatch: 0))
        let naiveEvaluation = naiveBatchLogits(layers, norms: running, pieces: 1, activation: .relu, inputs: x)
        let naiveTraining = naiveBatchLogits(layers, norms: batch, pieces: 1, activation: .relu, inputs: x)
        var evaluationError = 0.0, trainingError = 0.0, modeDifference = 0.0
        for r in 0..<x.rows {
            let m = naiveTraining[r].max()!
            let sum = naiveTraining[r].reduce(0) { $0 + exp($1 - m) }
            for c in 0..<3 {
                evaluationError = max(evaluationError, abs(Double(evaluation[r, c]) - naiveEvaluation[r][c]))
                trainingError = max(trainingError, abs(Double(training[r, c]) - exp(naiveTraining[r][c] - m) / sum))
                modeDifference = max(modeDifference, abs(naiveEvaluation[r][c] - naiveTraining[r][c]))
            }
        }
        #expect(evaluationError < 1e-4, "evaluation mode against the naive running-statistics reference: \(evaluationError)")
        #expect(trainingError < 1e-5, "training mode against the naive batch-statistics reference: \(trainingError)")
        #expect(modeDifference > 1e-2, "training and evaluation modes should differ after 4 steps: \(modeDifference)")
        // Evaluation does not depend on which rows are evaluated together; training mode does.
        let single = trained.predict(x.rows(in: 0..<1))
        #expect((0..<3).allSatisfy { single[0, $0] == evaluation[0, $0] })
    }

    @Test("a running variance is the unbiased minibatch variance averaged with momentum 0.9")
    func runningStatisticsFollowTheMomentum() throws {
        let start = try Self.network(.sigmoid, pieces: 1, batchNorm: true, sizes: [3, 4, 2])
        let data = try LabeledData(inputs: randomInputs(rows: 6, columns: 3, seed: 5),
                                   labels: randomLabels(count: 6, classes: 2, seed: 6), classCount: 2)
        let stepper = try FineTuningStepper(network: start, configuration: TrainingConfiguration(batchSize: 6, learningRate: 0.1))
        stepper.step(on: data, rows: Array(0..<6)[...], epoch: 1, minibatch: 0)
        let after = stepper.network.batchNorm[0]
        let z = naiveProduct(data.inputs, start.layers[0].weight)
        for c in 0..<4 {
            let column = z.map { $0[c] }
            let mean = column.reduce(0, +) / 6
            let unbiased = column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 5
            #expect(abs(Double(after.runningMean[c]) - 0.1 * mean) < 1e-5)
            #expect(abs(Double(after.runningVariance[c]) - (0.9 + 0.1 * unbiased)) < 1e-5)
        }
    }

    @Test("maxout pools the first maximum and routes the gradient to it")
    func maxoutPoolAndRoute() {
        let z: [Float] = [1, 3, 2, -1, -2, -1, 5, 5, 0]   // one row, 3 units of 3 pieces
        var y = [Float](repeating: 0, count: 3), delta = [Float](repeating: 9, count: 9)
        let g: [Float] = [10, 20, 30]
        FusedKernels.maxoutPool(z, into: &y, rows: 1, units: 0..<3, pieces: 3, inputStride: 9, outputStride: 3)
        #expect(y == [3, -1, 5])
        FusedKernels.maxoutRoute(g, pieces: z, pooled: y, into: &delta, rows: 1, units: 0..<3, pieces: 3,
                                 unitStride: 3, pieceStride: 9)
        #expect(delta == [0, 10, 0, 20, 0, 0, 30, 0, 0])
    }

    /// Every parameter and running statistic as bits.
    static func bits(_ network: Network) -> [UInt32] {
        bitPatterns(network) + network.batchNorm.flatMap {
            ($0.gamma + $0.runningMean + $0.runningVariance).map(\.bitPattern)
        }
    }

    @Test("batch normalisation and maxout: 1, 2 and 3 threads give byte-identical networks",
          arguments: [(Activation.relu, 1, true), (Activation.maxout, 2, false), (Activation.maxout, 3, true)])
    func threadCountDoesNotMatter(activation: Activation, pieces: Int, batchNorm: Bool) throws {
        let data = try LabeledData(inputs: randomInputs(rows: 300, columns: 200, seed: 31),
                                   labels: randomLabels(count: 300, classes: 10, seed: 32), classCount: 10)
        // 200 x 170 (x pieces) and 170 x 200 are split into 4 blocks, 200 x 10 is one.
        let start = try Self.network(activation, pieces: pieces, batchNorm: batchNorm, sizes: [200, 170, 200, 10], seed: 35)
        let configurations = [
            TrainingConfiguration(epochs: 2, batchSize: 48, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3,
                                  maxNorm: 2, hiddenDropout: 0.3, validationCount: 60),
            TrainingConfiguration(epochs: 2, batchSize: 64, optimizer: .adam(), learningRate: 0.003, validationCount: 60),
        ]
        for c in configurations {
            func run(_ threads: Int) throws -> Network {
                try withThreads(threads) {
                    var g = Xoshiro256StarStar(seed: 36)
                    return try Trainer(configuration: c).train(start, data: data, generator: &g).network
                }
            }
            let one = try run(1)
            #expect(one != start)
            for threads in [2, 3] {
                let other = try run(threads)
                #expect(Self.bits(other) == Self.bits(one), "\(threads) threads, \(c.optimizer.name)")
            }
        }
    }

    @Test("several processes refuse batch normalisation in one line (its statistics are not all-reduced)")
    func dataParallelBatchNormIsRefused() throws {
        let network = try Self.network(.relu, pieces: 1, batchNorm: true)
        let messages = try LoopbackCollective.run(ranks: 2) { _ -> String in
            do {
                _ = try FineTuningStepper(network: network, configuration: TrainingConfiguration(batchSize: 4))
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        for message in messages {
            #expect(message.contains("batch normalisation with 2 processes") && !message.contains("\n"), "\(message)")
        }
        // Maxout is plain data-parallel work: accepted.
        let maxout = try Self.network(.maxout, pieces: 2, batchNorm: false)
        _ = try LoopbackCollective.run(ranks: 2) { _ in
            _ = try FineTuningStepper(network: maxout, configuration: TrainingConfiguration(batchSize: 4))
        }
    }

    @Test("gamma and the shifts train without weight decay; the weights with it")
    func weightDecayLeavesGammaAndShiftAlone() throws {
        let start = try Self.network(.relu, pieces: 1, batchNorm: true, sizes: [3, 4, 2])
        let data = try LabeledData(inputs: randomInputs(rows: 6, columns: 3, seed: 5),
                                   labels: randomLabels(count: 6, classes: 2, seed: 6), classCount: 2)
        func stepped(decay: Float) throws -> Network {
            let stepper = try FineTuningStepper(network: start, configuration: TrainingConfiguration(
                batchSize: 6, learningRate: 0.1, momentum: 0, weightDecay: decay))
            stepper.step(on: data, rows: Array(0..<6)[...], epoch: 1, minibatch: 0)
            return stepper.network
        }
        let plain = try stepped(decay: 0), decayed = try stepped(decay: 0.5)
        #expect(plain.batchNorm == decayed.batchNorm)
        #expect(plain.layers.map(\.bias) == decayed.layers.map(\.bias))
        #expect(plain.layers[0].weight != decayed.layers[0].weight)
        #expect(plain.batchNorm[0].gamma != start.batchNorm[0].gamma)
    }
}

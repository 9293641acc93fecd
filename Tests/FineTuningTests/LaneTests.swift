import Linalg
import Testing
@testable import FineTuning

/// The blocks of a step are fixed by the layers' shapes, so the number of threads that run
/// them must not change a single bit: the same parameters, losses and gradient norms on 1, 2
/// and 3 threads, for every update rule, with dropout, max-norm and frozen hidden layers.
@Suite(.serialized) struct LaneTests {
    static let configurations: [(String, TrainingConfiguration)] = [
        ("momentum + decay", TrainingConfiguration(learningRate: 0.2, momentum: 0.9, weightDecay: 0.001)),
        ("plain SGD + decay", TrainingConfiguration(learningRate: 0.2, momentum: 0, weightDecay: 0.01)),
        ("Nesterov", TrainingConfiguration(learningRate: 0.1, momentum: 0.9, nesterov: true)),
        ("Adam", TrainingConfiguration(optimizer: .adam(), learningRate: 0.01)),
        ("dropout", TrainingConfiguration(learningRate: 0.2, inputDropout: 0.2, hiddenDropout: 0.5)),
        ("dropout + max-norm", TrainingConfiguration(learningRate: 0.2, maxNorm: 0.8, hiddenDropout: 0.5)),
    ]

    /// Five steps (the first observed by the gradient-norm observer, the third with hidden
    /// layers frozen) on `threads` threads: the stepper's network, the losses and the norms.
    func trained(threads: Int, configuration: TrainingConfiguration, activation: Activation) throws
        -> (network: Network, losses: [Double], norms: [Double]) {
        var g = Xoshiro256StarStar(seed: 21)
        // 200 x 170 and 170 x 200 are split into 4 blocks, 200 x 10 is one.
        let network = try Network(sizes: [200, 170, 200, 10], hiddenActivation: activation, initializer: .xavierNormal,
                                  generator: &g)
        let x = randomInputs(rows: 60, columns: 200, seed: 22)
        let data = try LabeledData(inputs: x, labels: randomLabels(count: 60, classes: 10, seed: 23), classCount: 10)
        return try withThreads(threads) {
            let stepper = try FineTuningStepper(network: network, configuration: configuration, batchSize: 12, seed: 24)
            #expect(stepper.engine.outputBlocks.map(\.count) == [4, 4, 1])
            let norms = stepper.gradientNorms(on: data, rows: Array(0..<12)[...], epoch: 1, minibatch: 0)
            var losses: [Double] = []
            for step in 0..<5 {
                let stats = stepper.step(on: data, rows: Array((step * 12)..<(step * 12 + 12))[...],
                                         trainHidden: step != 2, epoch: 1, minibatch: step)
                losses.append(stats.lossSum)
            }
            return (stepper.network, losses, norms)
        }
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5], [Activation.sigmoid, .relu])
    func threadsComputeWhatOneThreadComputes(configurationIndex: Int, activation: Activation) throws {
        let (name, configuration) = LaneTests.configurations[configurationIndex]
        let one = try trained(threads: 1, configuration: configuration, activation: activation)
        #expect(one.norms.allSatisfy { $0 > 0 })
        for threads in [2, 3] {
            let split = try trained(threads: threads, configuration: configuration, activation: activation)
            #expect(split.losses == one.losses, "\(name), \(threads) threads: losses")
            #expect(split.norms == one.norms, "\(name), \(threads) threads: gradient norms")
            #expect(bitPatterns(split.network) == bitPatterns(one.network), "\(name), \(threads) threads: parameters")
        }
    }

    @Test func blocksCoverTheRangeOnWholeVectors() {
        #expect(Lanes.blocks(of: 500, count: 2) == [0..<248, 248..<500])
        #expect(Lanes.blocks(of: 10, count: 2) == [0..<5, 5..<10])
        #expect(Lanes.blocks(of: 2000, count: 3) == [0..<664, 664..<1336, 1336..<2000])
        #expect(Lanes.blocks(of: 1, count: 2) == [0..<0, 0..<1])
        for n in [0, 1, 7, 16, 17, 784, 1000] {
            for count in 1...4 {
                let blocks = Lanes.blocks(of: n, count: count)
                #expect(blocks.count == count)
                #expect(blocks.first?.lowerBound == 0 && blocks.last?.upperBound == n)
                for (a, b) in zip(blocks, blocks.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
            }
        }
    }
}

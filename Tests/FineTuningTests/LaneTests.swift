import Linalg
import Testing
@testable import FineTuning

/// Splitting a minibatch into lanes (blocks of columns and rows run side by side) must not
/// change what a step computes: the same parameters, losses and gradient norms as one lane, for
/// every update rule, with dropout, with frozen hidden layers and with the gradient-norm record.
@Suite struct LaneTests {
    static let configurations: [(String, TrainingConfiguration)] = [
        ("momentum + decay", TrainingConfiguration(learningRate: 0.2, momentum: 0.9, weightDecay: 0.001)),
        ("plain SGD + decay", TrainingConfiguration(learningRate: 0.2, momentum: 0, weightDecay: 0.01)),
        ("Nesterov", TrainingConfiguration(learningRate: 0.1, momentum: 0.9, nesterov: true)),
        ("Adam", TrainingConfiguration(optimizer: .adam(), learningRate: 0.01)),
        ("dropout", TrainingConfiguration(learningRate: 0.2, inputDropout: 0.2, hiddenDropout: 0.5)),
        ("dropout + max-norm", TrainingConfiguration(learningRate: 0.2, maxNorm: 0.8, hiddenDropout: 0.5)),
    ]

    /// Runs five steps (the first records gradient norms, the third leaves hidden layers
    /// frozen) with `lanes` lanes and returns the state.
    func trained(lanes: Int, configuration: TrainingConfiguration, activation: Activation) throws
        -> (state: TrainingState, losses: [Double]) {
        var g = Xoshiro256StarStar(seed: 21)
        let network = try Network(sizes: [40, 37, 33, 10], hiddenActivation: activation, initializer: .xavierNormal,
                                  generator: &g)
        let state = TrainingState(network: network, capacity: 12, configuration: configuration, lanes: lanes)
        #expect(state.lanes == lanes)
        let x = randomInputs(rows: 60, columns: 40, seed: 22)
        let data = try LabeledData(inputs: x, labels: randomLabels(count: 60, classes: 10, seed: 23), classCount: 10)
        var losses: [Double] = []
        for step in 0..<5 {
            x.elements.withUnsafeBufferPointer { xb in
                data.targets.elements.withUnsafeBufferPointer { tb in
                    state.loadRows(Array((step * 12)..<(step * 12 + 12))[...], inputs: xb.baseAddress!,
                                   targets: tb.baseAddress!)
                }
            }
            let stats = Lanes.withSingleThreadedBLAS {
                state.step(rows: 12, learningRate: configuration.learningRate, trainHidden: step != 2,
                           recordGradientNorms: step == 0, generator: &g)
            }
            losses.append(stats.lossSum)
        }
        return (state, losses)
    }

    @Test(arguments: [0, 1, 2, 3, 4, 5], [Activation.sigmoid, .relu])
    func lanesComputeWhatOneLaneComputes(configurationIndex: Int, activation: Activation) throws {
        let (name, configuration) = LaneTests.configurations[configurationIndex]
        let one = try trained(lanes: 1, configuration: configuration, activation: activation)
        for lanes in [2, 3] {
            let split = try trained(lanes: lanes, configuration: configuration, activation: activation)
            for (a, b) in zip(one.losses, split.losses) {
                #expect(abs(a - b) <= 1e-4 * max(1, abs(a)), "\(name), \(lanes) lanes: loss \(b) vs \(a)")
            }
            for (a, b) in zip(one.state.gradientNorms, split.state.gradientNorms) {
                #expect(a > 0 && abs(a - b) <= 1e-5 * a, "\(name), \(lanes) lanes: gradient norm \(b) vs \(a)")
            }
            for l in 0..<3 {
                let wa = one.state.weights[l].array, wb = split.state.weights[l].array
                let worst = zip(wa, wb).map { abs($0 - $1) }.max() ?? 0
                #expect(worst < 1e-5, "\(name), \(lanes) lanes: layer \(l) weights differ by \(worst)")
                let ba = one.state.biases[l].array, bb = split.state.biases[l].array
                let worstBias = zip(ba, bb).map { abs($0 - $1) }.max() ?? 0
                #expect(worstBias < 1e-5, "\(name), \(lanes) lanes: layer \(l) biases differ by \(worstBias)")
            }
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

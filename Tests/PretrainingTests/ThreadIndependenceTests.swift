import Linalg
import Testing
@testable import Pretraining

/// One seed, one result: pre-training on 1, 2 or 3 threads gives bit-identical parameters,
/// for CD-k, PCD, sparsity, resampled binary data and every unit type. The RBM is large enough
/// (200 x 180 = 36,000 weights) for its products to be split into 4 blocks.
@Suite(.serialized) struct ThreadIndependenceTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var configuration: RBMTrainingConfiguration
        var visible: VisibleUnits = .bernoulli, hidden: HiddenUnits = .bernoulli
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        let base = RBMTrainingConfiguration(epochs: 2, batchSize: 16, learningRate: 0.05, momentumSwitchEpoch: 1)
        var cd3 = base; cd3.cdSteps = 3
        var pcd = base; pcd.persistent = true; pcd.cdSteps = 2
        var sparse = base; sparse.sparsityTarget = 0.1
        var resampled = base; resampled.resampleBinaryData = true
        var growing = base; growing.cdSteps = 3; growing.growCDSteps = true
        var sampledVisible = base; sampledVisible.cdSteps = 3; sampledVisible.negativeVisible = .sample
        var meanHidden = base; meanHidden.cdSteps = 2; meanHidden.gibbsHidden = .mean
        var tempered = pcd; tempered.temperatures = 3
        var centered = base; centered.centered = true
        var centeredPCD = pcd; centeredPCD.centered = true
        var centeredPT = tempered; centeredPT.centered = true
        return [Case(name: "CD-1", configuration: base), Case(name: "CD-3", configuration: cd3),
                Case(name: "PCD-2", configuration: pcd), Case(name: "sparsity", configuration: sparse),
                Case(name: "resampled binary data", configuration: resampled),
                Case(name: "k growing", configuration: growing),
                Case(name: "CD-3, sampled reconstructions", configuration: sampledVisible),
                Case(name: "CD-2, mean-field hidden", configuration: meanHidden),
                Case(name: "parallel tempering, 3 chains", configuration: tempered),
                Case(name: "centered CD-1", configuration: centered),
                Case(name: "centered PCD-2", configuration: centeredPCD),
                Case(name: "centered parallel tempering", configuration: centeredPT),
                Case(name: "Gaussian visible", configuration: base, visible: .gaussian),
                Case(name: "rectified hidden, PCD", configuration: pcd, hidden: .rectified)]
    }()

    @Test(arguments: cases)
    func sameParametersOnAnyNumberOfThreads(_ c: Case) throws {
        var g = Xoshiro256StarStar(seed: 5)
        let data = Matrix.uniform(rows: 50, columns: 200, using: &g)
        let start = RBM(visibleCount: 200, hiddenCount: 180, visibleUnits: c.visible, hiddenUnits: c.hidden,
                        generator: &g)
        func trained(threads: Int) throws -> [UInt32] {
            Lanes.setThreads(threads)
            BLASThreads.set(threads)  // as `--threads` sets both
            defer { Lanes.setThreads(2); BLASThreads.set(2) }
            var rbm = start
            var generator = Xoshiro256StarStar(seed: 6)
            try rbm.train(on: data, configuration: c.configuration, generator: &generator)
            return (rbm.weight.elements + rbm.visibleBias + rbm.hiddenBias).map(\.bitPattern)
        }
        let one = try trained(threads: 1)
        #expect(one != (start.weight.elements + start.visibleBias + start.hiddenBias).map(\.bitPattern))
        #expect(try trained(threads: 2) == one)
        #expect(try trained(threads: 3) == one)
    }

    @Test func stackPretrainingIsTheSameOnAnyNumberOfThreads() throws {
        var g = Xoshiro256StarStar(seed: 7)
        let data = Matrix.uniform(rows: 40, columns: 200, using: &g)
        let start = DeepBeliefNetwork(layerSizes: [200, 180, 190], generator: &g)
        var configuration = RBMTrainingConfiguration(epochs: 1, batchSize: 10)
        configuration.nextLayerInput = .samples
        func trained(threads: Int) throws -> [UInt32] {
            Lanes.setThreads(threads)
            BLASThreads.set(threads)  // as `--threads` sets both
            defer { Lanes.setThreads(2); BLASThreads.set(2) }
            var stack = start
            var generator = Xoshiro256StarStar(seed: 8)
            try stack.pretrain(on: data, configuration: configuration, generator: &generator)
            return stack.layers.flatMap { $0.weight.elements + $0.visibleBias + $0.hiddenBias }.map(\.bitPattern)
        }
        let one = try trained(threads: 1)
        #expect(try trained(threads: 2) == one)
        #expect(try trained(threads: 3) == one)
    }
}

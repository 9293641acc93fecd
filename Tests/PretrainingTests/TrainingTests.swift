import Foundation
import Linalg
import Testing
@testable import Pretraining

@Suite("Training")
struct TrainingTests {
    let data = prototypeData(prototypes: tenBitPrototypes, rows: 600, noise: 0.05, seed: 40)

    func trainedLikelihood(_ configuration: RBMTrainingConfiguration, seed: UInt64) throws -> (before: Double, after: Double) {
        var g = Xoshiro256StarStar(seed: seed)
        var rbm = RBM(visibleCount: 10, hiddenCount: 6, data: data, generator: &g)
        let before = try rbm.exactAverageLogLikelihood(data)
        try rbm.train(on: data, configuration: configuration, generator: &g)
        return (before, try rbm.exactAverageLogLikelihood(data))
    }

    @Test("CD-1 raises the exact log-likelihood of a prototype distribution")
    func cd1RaisesLikelihood() throws {
        let configuration = RBMTrainingConfiguration(epochs: 30, batchSize: 10, learningRate: 0.1)
        let (before, after) = try trainedLikelihood(configuration, seed: 41)
        // The data: 3 prototypes, 5% bit noise; its entropy is log 3 + 10 H(0.05) = 3.0 nats.
        #expect(after > before + 1.5, "before \(before), after \(after)")
        #expect(after > -4.5, "after \(after)")
    }

    @Test("PCD and CD-3 raise the exact log-likelihood too")
    func pcdAndCDkRaiseLikelihood() throws {
        // PCD with few chains oscillates with momentum 0.9 on this peaked distribution (the
        // chains lag behind the model); momentum 0.5 and a lower rate learn steadily.
        let pcd = RBMTrainingConfiguration(epochs: 30, batchSize: 10, learningRate: 0.01, finalMomentum: 0.5,
                                           persistent: true)
        let (before, after) = try trainedLikelihood(pcd, seed: 42)
        #expect(after > before + 1.5, "PCD: before \(before), after \(after)")
        let cd3 = RBMTrainingConfiguration(epochs: 30, batchSize: 10, learningRate: 0.1, cdSteps: 3)
        let (before3, after3) = try trainedLikelihood(cd3, seed: 43)
        #expect(after3 > before3 + 1.5, "CD-3: before \(before3), after \(after3)")
    }

    @Test("training on 2 threads raises the likelihood too")
    func lanes() throws {
        Lanes.setThreads(2)
        var g = Xoshiro256StarStar(seed: 39)
        var rbm = RBM(visibleCount: 10, hiddenCount: 6, data: data, generator: &g)
        let before = try rbm.exactAverageLogLikelihood(data)
        try rbm.train(on: data, configuration: RBMTrainingConfiguration(epochs: 30, batchSize: 10), generator: &g) { _ in }
        let after = try rbm.exactAverageLogLikelihood(data)
        #expect(after > before + 1.5, "before \(before), after \(after)")
    }

    @Test("training never modifies the input data and is reproducible from the seed")
    func inputUntouchedAndDeterministic() throws {
        let copy = data
        let configuration = RBMTrainingConfiguration(epochs: 2, batchSize: 7, persistent: true)
        var results: [RBM] = []
        for _ in 0..<2 {
            var g = configuration.makeGenerator()
            var rbm = RBM(visibleCount: 10, hiddenCount: 6, data: data, generator: &g)
            try rbm.train(on: data, configuration: configuration, generator: &g)
            results.append(rbm)
        }
        #expect(data == copy)
        #expect(results[0] == results[1])
    }

    @Test("no NaN or infinity from extreme inputs (1e30 visible values, weights 1e3)")
    func extremeInputs() throws {
        for visibleUnits in VisibleUnits.allCases {
            var g = Xoshiro256StarStar(seed: 44)
            var w = Matrix(rows: 6, columns: 4)
            for k in w.elements.indices { w.elements[k] = k % 3 == 0 ? -1e3 : 1e3 }
            var rbm = RBM(weight: w, visibleBias: [Float](repeating: 1e3, count: 6),
                          hiddenBias: [Float](repeating: -1e3, count: 4), visibleUnits: visibleUnits)
            var v = Matrix(rows: 4, columns: 6, repeating: 1e30)
            v[1, 2] = -1e30
            v[3, 0] = 0
            let h = rbm.hiddenProbabilities(v)
            #expect(h.isFinite && h.elements.allSatisfy { $0 >= 0 && $0 <= 1 })
            let pv = rbm.visibleProbabilities(Matrix(rows: 3, columns: 4, repeating: 1))
            #expect(pv.isFinite)
            #expect(rbm.freeEnergy(v).allSatisfy { $0.isFinite })
            #expect(rbm.sampleHidden(given: v, using: &g).isFinite)
            var reports: [RBMEpochReport] = []
            try rbm.train(on: v, configuration: RBMTrainingConfiguration(epochs: 1, batchSize: 4),
                          generator: &g) { reports.append($0) }
            #expect(rbm.weight.isFinite && rbm.visibleBias.allSatisfy { $0.isFinite } && rbm.hiddenBias.allSatisfy { $0.isFinite })
            #expect(reports.count == 1 && reports[0].summedReconstructionError.isFinite)
        }
    }

    @Test("divergence stops training with a typed error")
    func divergence() {
        var g = Xoshiro256StarStar(seed: 45)
        var rbm = RBM(visibleCount: 6, hiddenCount: 4, generator: &g)
        let v = Matrix(rows: 8, columns: 6, repeating: 1e30)
        let configuration = RBMTrainingConfiguration(epochs: 3, batchSize: 4, learningRate: 1e12)
        #expect(throws: PretrainingError.diverged(layer: 0, epoch: 0)) {
            try rbm.train(on: v, configuration: configuration, generator: &g)
        }
        #expect(String(describing: PretrainingError.diverged(layer: 0, epoch: 0)).contains("learning rate"))
    }

    @Test("bad data and configurations give typed errors")
    func badInput() {
        var g = Xoshiro256StarStar(seed: 46)
        var rbm = RBM(visibleCount: 6, hiddenCount: 4, generator: &g)
        let good = RBMTrainingConfiguration(epochs: 1)
        #expect(throws: PretrainingError.shapeMismatch(what: "training data", expected: 6, found: 5)) {
            try rbm.train(on: Matrix(rows: 3, columns: 5), configuration: good, generator: &g)
        }
        #expect(throws: PretrainingError.emptyData(what: "training data")) {
            try rbm.train(on: Matrix(rows: 0, columns: 6), configuration: good, generator: &g)
        }
        var nan = Matrix(rows: 3, columns: 6)
        nan[2, 1] = .nan
        #expect(throws: PretrainingError.nonFiniteData(what: "training data", row: 2, column: 1)) {
            try rbm.train(on: nan, configuration: good, generator: &g)
        }
        for bad in [RBMTrainingConfiguration(cdSteps: 0), RBMTrainingConfiguration(batchSize: 0),
                    RBMTrainingConfiguration(learningRate: -1), RBMTrainingConfiguration(finalMomentum: 1),
                    RBMTrainingConfiguration(sparsityTarget: 2)] {
            #expect(throws: PretrainingError.self) { try bad.validate() }
        }
        var gaussian = rbm
        gaussian.visibleUnits = .gaussian
        #expect(throws: PretrainingError.self) {
            try gaussian.train(on: Matrix(rows: 3, columns: 6), configuration: good,
                               monitors: MonitorOptions(pseudoLogLikelihood: true), generator: &g)
        }
    }

    @Test("the configuration round-trips through JSON and follows the momentum schedule")
    func configurationCodable() throws {
        let configuration = RBMTrainingConfiguration(epochs: 7, cdSteps: 3, persistent: true, sparsityTarget: 0.1,
                                                     nextLayerInput: .samples, seed: 9)
        let decoded = try JSONDecoder().decode(RBMTrainingConfiguration.self,
                                               from: JSONEncoder().encode(configuration))
        #expect(decoded == configuration)
        #expect((0..<7).map { configuration.momentum(forEpoch: $0) } == [0.5, 0.5, 0.5, 0.5, 0.5, 0.9, 0.9])
    }

    @Test("epoch reports carry the reconstruction error and the requested monitors")
    func monitors() throws {
        var g = Xoshiro256StarStar(seed: 47)
        let training = data.rows(in: 0..<500), heldOut = data.rows(in: 500..<600)
        var rbm = RBM(visibleCount: 10, hiddenCount: 6, data: training, generator: &g)
        var reports: [RBMEpochReport] = []
        let options = MonitorOptions(heldOut: heldOut, sampleCount: 200, pseudoLogLikelihood: true,
                                     annealedImportanceSampling: AISConfiguration(runs: 50, temperatureCount: 500),
                                     exactLogLikelihood: true, interval: 2)
        try rbm.train(on: training, configuration: RBMTrainingConfiguration(epochs: 5, batchSize: 10),
                      monitors: options, generator: &g) { reports.append($0) }
        #expect(reports.map(\.epoch) == [0, 1, 2, 3, 4])
        #expect(reports.map { $0.freeEnergyGap != nil } == [false, true, false, true, true])
        #expect(reports[4].reconstructionError < reports[0].reconstructionError)
        #expect(abs(reports[0].reconstructionError * 500 - reports[0].summedReconstructionError) < 1e-6)
        let last = try #require(reports.last)
        let gap = try #require(last.freeEnergyGap)
        #expect(abs(gap.heldOut - rbm.freeEnergy(heldOut).reduce(0, +) / 100) < 1e-9)
        #expect(try #require(last.pseudoLogLikelihood) < 0)
        let exact = try rbm.exactLogPartition()
        #expect(last.logPartition == exact)
        #expect(abs(try #require(last.heldOutLogLikelihood) - (try rbm.exactAverageLogLikelihood(heldOut))) < 1e-9)
        let ais = try #require(last.annealedImportanceSampling)
        #expect(abs(ais.logZ - exact) < 0.1)
        #expect(!last.summary.isEmpty)
    }

    @Test("a sparsity target lowers the mean hidden activation", arguments: [1, 2])
    func sparsity(threads: Int) throws {
        Lanes.setThreads(threads)
        func meanActivation(_ target: Float?) throws -> Float {
            var g = Xoshiro256StarStar(seed: 48)
            var rbm = RBM(visibleCount: 10, hiddenCount: 6, data: data, generator: &g)
            let configuration = RBMTrainingConfiguration(epochs: 10, batchSize: 10, sparsityTarget: target, sparsityCost: 0.5)
            try rbm.train(on: data, configuration: configuration, generator: &g) { _ in }
            let means = rbm.hiddenProbabilities(data).columnMeans()
            return means.reduce(0, +) / Float(means.count)
        }
        let plain = try meanActivation(nil), sparse = try meanActivation(0.05)
        #expect(sparse < 0.6 * plain && sparse < 0.15, "plain \(plain), sparse \(sparse)")
    }

    /// CD-1 fits a Gaussian-Bernoulli RBM's mixture weights only roughly: over 8 training seeds
    /// on this data the model mean lands 0.1-0.97 from the data mean (the earlier engine, with
    /// its own streams: 0.1-0.70). So the test trains with 4 seeds: every run must raise the
    /// likelihood, and most runs must put the mass on both clusters with the right mean.
    @Test("a Gaussian-visible RBM learns a two-cluster mixture (most of 4 training seeds)")
    func gaussianVisible() throws {
        var fits = 0
        for trainingSeed: UInt64 in 1...4 where try gaussianFit(trainingSeed: trainingSeed) { fits += 1 }
        #expect(fits >= 3, "\(fits) of 4 training seeds fit the mixture")
    }

    /// Trains a Gaussian-visible RBM on two clusters; expects a likelihood gain and returns
    /// whether the model's mixture sits on both clusters with the data's mean.
    func gaussianFit(trainingSeed: UInt64) throws -> Bool {
        // Two unit-variance Gaussian clusters at +-m, equally likely.
        let m: [Float] = [1.5, -1.5, 1.5, 1.5]
        var g = Xoshiro256StarStar(seed: 49)
        var data = Matrix(rows: 2000, columns: 4)
        var z = [Float](repeating: 0, count: 4)
        for r in 0..<2000 {
            let sign: Float = g.nextFloat() < 0.5 ? 1 : -1
            g.fillNormal(&z)
            for i in 0..<4 { data[r, i] = sign * m[i] + z[i] }
        }
        // The true average log density of the data under the mixture.
        var trueLL = 0.0
        for r in 0..<2000 {
            var plus = 0.0, minus = 0.0
            for i in 0..<4 {
                plus += pow(Double(data[r, i] - m[i]), 2)
                minus += pow(Double(data[r, i] + m[i]), 2)
            }
            trueLL += naiveLogSumExp([-plus / 2, -minus / 2]) + Foundation.log(0.5) - 2 * Foundation.log(2 * Double.pi)
        }
        trueLL /= 2000
        var trainingGenerator = Xoshiro256StarStar(seed: 1000 + trainingSeed)
        var rbm = RBM(visibleCount: 4, hiddenCount: 2, visibleUnits: .gaussian, data: data, generator: &trainingGenerator)
        let before = try rbm.exactAverageLogLikelihood(data)
        var reports: [RBMEpochReport] = []
        try rbm.train(on: data, configuration: RBMTrainingConfiguration(epochs: 30, batchSize: 20, learningRate: 0.01),
                      generator: &trainingGenerator) { reports.append($0) }
        let after = try rbm.exactAverageLogLikelihood(data)
        #expect(after > before + 1, "before \(before), after \(after), true \(trueLL)")
        #expect(after > trueLL - 0.1, "after \(after), true \(trueLL)")
        #expect(reports.last!.reconstructionError < 0.75 * reports.first!.reconstructionError)
        // The model is a mixture over hidden states h of N(b + W h, I) with weights
        // p(h) ∝ exp(h.c + b.(W h) + |W h|^2 / 2): two components should carry the mass and
        // sit at +m and -m, and the model's mean E[v] should match the data's.
        var logWeights: [Double] = [], centres: [[Double]] = []
        for h in allBinaryStates(2) {
            let wh = (0..<4).map { i in (0..<2).reduce(0.0) { $0 + Double(rbm.weight[i, $1]) * h[$1] } }
            var logP = (0..<2).reduce(0.0) { $0 + h[$1] * Double(rbm.hiddenBias[$1]) }
            for i in 0..<4 { logP += Double(rbm.visibleBias[i]) * wh[i] + wh[i] * wh[i] / 2 }
            logWeights.append(logP)
            centres.append((0..<4).map { Double(rbm.visibleBias[$0]) + wh[$0] })
        }
        let logTotal = naiveLogSumExp(logWeights)
        let weights = logWeights.map { Foundation.exp($0 - logTotal) }
        func distance(_ a: [Double], _ b: [Float], sign: Double) -> Double {
            zip(a, b).reduce(0.0) { $0 + pow($1.0 - sign * Double($1.1), 2) }.squareRoot()
        }
        var fits = true
        for sign in [1.0, -1.0] {
            let mass = zip(weights, centres).filter { distance($0.1, m, sign: sign) < 0.5 }.reduce(0.0) { $0 + $1.0 }
            fits = fits && mass > 0.3
        }
        let dataMeans = data.columnMeans()
        for i in 0..<4 {
            let modelMean = zip(weights, centres).reduce(0.0) { $0 + $1.0 * $1.1[i] }
            fits = fits && abs(modelMean - Double(dataMeans[i])) < 0.5
        }
        return fits
    }
}

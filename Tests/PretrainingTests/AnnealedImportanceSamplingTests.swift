import Foundation
import Linalg
import Testing
@testable import Pretraining

@Suite("Annealed importance sampling")
struct AnnealedImportanceSamplingTests {
    @Test("the default schedule is the paper's 14,500 temperatures")
    func paperSchedule() {
        let betas = AISConfiguration().inverseTemperatures()
        #expect(betas.count == 14_501)
        #expect(betas.first == 0 && betas.last == 1)
        #expect(abs(betas[500] - 0.5) < 1e-12 && abs(betas[4500] - 0.9) < 1e-12)
        #expect(abs(betas[1] - 1e-3) < 1e-12 && abs(betas[501] - betas[500] - 1e-4) < 1e-12)
        #expect(abs(betas[4501] - betas[4500] - 1e-5) < 1e-12)
        #expect(zip(betas, betas.dropFirst()).allSatisfy { $0 < $1 })
        let short = AISConfiguration(temperatureCount: 1000).inverseTemperatures()
        #expect(short.count == 1001 && short.last == 1)
    }

    @Test("AIS agrees with the exact log Z of a 10x8 RBM within its reported spread")
    func agreesWithExact() throws {
        let rbm = randomRBM(visible: 10, hidden: 8, weightScale: 1, biasScale: 0.5, seed: 50)
        let exact = try rbm.exactLogPartition()
        #expect(abs(exact - bruteForceLogPartition(rbm)) < 1e-6 * abs(exact))
        var g = Xoshiro256StarStar(seed: 51)
        let data = rbm.gibbsStep(Matrix.uniform(rows: 200, columns: 10, using: &g), using: &g)
        let base = RBM.baseRateVisibleBias(for: data)
        let result = try rbm.annealedImportanceSampling(baseVisibleBias: base,
                                                        configuration: AISConfiguration(runs: 100, temperatureCount: 2000),
                                                        generator: &g)
        #expect(result.logZLow <= exact && exact <= result.logZHigh,
                "exact \(exact), AIS \(result.logZ) [\(result.logZLow), \(result.logZHigh)]")
        #expect(abs(result.logZ - exact) < 0.05)
        #expect(result.standardDeviation > 0 && result.standardDeviation < 0.05)
        #expect(result.runs == 100 && result.temperatureCount == 2000 && result.logWeights.count == 100)
        // With the exact log Z, the two log-likelihood helpers agree.
        let viaAIS = rbm.averageLogLikelihood(data, logPartition: result.logZ)
        #expect(abs(viaAIS - (try rbm.exactAverageLogLikelihood(data))) < 0.05)
    }

    @Test("AIS with zero weights is exact: every importance weight is equal")
    func zeroWeightsExact() throws {
        var rbm = randomRBM(visible: 5, hidden: 3, weightScale: 0, biasScale: 1, seed: 52)
        rbm.hiddenBias = [Float](repeating: 0, count: 3)
        var g = Xoshiro256StarStar(seed: 53)
        let result = try rbm.annealedImportanceSampling(baseVisibleBias: rbm.visibleBias,
                                                        configuration: AISConfiguration(runs: 10, temperatureCount: 30),
                                                        generator: &g)
        #expect(abs(result.logZ - (try rbm.exactLogPartition())) < 1e-5)
        #expect(result.standardDeviation < 1e-6)
    }

    @Test("AIS rejects non-binary RBMs and bad settings")
    func errors() {
        var g = Xoshiro256StarStar(seed: 54)
        let gaussian = RBM(visibleCount: 4, hiddenCount: 3, visibleUnits: .gaussian, generator: &g)
        #expect(throws: PretrainingError.self) {
            try gaussian.annealedImportanceSampling(baseVisibleBias: [0, 0, 0, 0], generator: &g)
        }
        let rbm = RBM(visibleCount: 4, hiddenCount: 3, generator: &g)
        #expect(throws: PretrainingError.self) {
            try rbm.annealedImportanceSampling(baseVisibleBias: [0, 0, 0, 0],
                                               configuration: AISConfiguration(runs: 1), generator: &g)
        }
        #expect(throws: PretrainingError.shapeMismatch(what: "AIS base-rate biases", expected: 4, found: 2)) {
            try rbm.annealedImportanceSampling(baseVisibleBias: [0, 0], generator: &g)
        }
    }
}

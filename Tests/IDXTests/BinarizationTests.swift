import Testing
import Linalg
@testable import IDX

@Suite("Binarisation")
struct BinarizationTests {
    @Test("threshold: 1 exactly where the value is above it")
    func threshold() {
        let m = Matrix([[0, 0.5, 0.500_000_1, 1], [0.2, 0.7, -1, 2]])
        #expect(m.binarized(.threshold) == Matrix([[0, 0, 1, 1], [0, 1, 0, 1]]))
        var zero = m
        zero.binarize(threshold: 0)
        #expect(zero == Matrix([[0, 1, 1, 1], [1, 1, 0, 1]]))
        #expect(m.binarized(.none) == m && m.binarized(.resample, seed: 3) == m)
    }

    @Test("stochastic: the mean approaches the intensity; 0 and 1 stay fixed; seeded")
    func stochastic() {
        let intensities: [Float] = [0, 0.1, 0.3, 0.5, 0.9, 1]
        let n = 40_000
        // One column per intensity, n rows.
        let m = Matrix(rows: n, columns: intensities.count,
                       elements: (0..<n).flatMap { _ in intensities })
        let b = m.binarized(.stochastic, seed: 42)
        #expect(b.elements.allSatisfy { $0 == 0 || $0 == 1 })
        // Exact counts of ones per column (not `columnMeans`, which sums in Float).
        let means = (0..<intensities.count).map { c in
            Float((0..<n).filter { b[$0, c] == 1 }.count) / Float(n)
        }
        for (p, mean) in zip(intensities, means) {
            // 5 standard deviations of a mean of n Bernoulli(p) draws (0 for p in {0, 1}).
            let tolerance = 5 * (p * (1 - p) / Float(n)).squareRoot()
            #expect(abs(mean - p) <= tolerance, "p = \(p): mean \(mean)")
        }
        #expect(means[0] == 0 && means[5] == 1)

        #expect(m.binarized(.stochastic, seed: 42) == b)
        #expect(m.binarized(.stochastic, seed: 43) != b)
        var generator = Xoshiro256StarStar(seed: 42)
        var c = m
        c.binarize(using: &generator)
        #expect(c == b)
    }

    @Test("a data set: each set its own keyed draws; labels untouched")
    func dataSet() {
        let train = Matrix(rows: 50, columns: 4, repeating: 0.5)
        let test = Matrix(rows: 20, columns: 4, repeating: 0.5)
        var data = DataSet(trainImages: train, trainLabels: Array(repeating: 1, count: 50),
                           testImages: test, testLabels: Array(repeating: 0, count: 20), imageShape: [2, 2])
        #expect(data.classCount == 2)
        data.binarize(.stochastic, seed: 7)
        var trainGenerator = Xoshiro256StarStar(seed: 7)
        var testGenerator = Xoshiro256StarStar(seed: ImageSetKey.test.key(7))
        var expectedTrain = train, expectedTest = test
        expectedTrain.binarize(using: &trainGenerator)
        expectedTest.binarize(using: &testGenerator)
        #expect(data.trainImages == expectedTrain && data.testImages == expectedTest)
        #expect(data.trainLabels == Array(repeating: 1, count: 50))
        data.binarize(.threshold)
        #expect(data.trainImages == expectedTrain)
    }

    @Test("identical images in the training and the test set get different noise")
    func setsHaveTheirOwnDraws() {
        // The bug this guards against: each set binarised with a fresh generator of the same
        // seed, so image i of both sets got the same noise.
        let images = Matrix(rows: 30, columns: 16, repeating: 0.5)
        for seed: UInt64 in [0, 1, 7, .max] {
            let training = images.binarized(.stochastic, seed: seed, set: .training)
            let heldOut = images.binarized(.stochastic, seed: seed, set: .test)
            #expect(training != heldOut, "seed \(seed)")
            #expect(training.row(0) != heldOut.row(0), "seed \(seed): image 0 got the same noise in both sets")
            let agreement = zip(training.elements, heldOut.elements).filter { $0 == $1 }.count
            // Independent fair coins agree about half the time (480 pairs: 5 sigma is about 55).
            #expect(abs(agreement - 240) < 55, "seed \(seed): \(agreement) of 480 pixels agree")
        }
        var data = DataSet(trainImages: images, trainLabels: Array(repeating: 0, count: 30),
                           testImages: images, testLabels: Array(repeating: 0, count: 30), imageShape: [4, 4])
        data.binarize(.stochastic, seed: 1)
        #expect(data.trainImages != data.testImages)
    }
}

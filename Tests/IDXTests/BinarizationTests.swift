import Testing
import Linalg
@testable import IDX

@Suite("Binarisation")
struct BinarizationTests {
    @Test("threshold: 1 exactly where the value is above it")
    func threshold() {
        let m = Matrix([[0, 0.5, 0.500_000_1, 1], [0.2, 0.7, -1, 2]])
        #expect(m.binarized(.threshold(0.5)) == Matrix([[0, 0, 1, 1], [0, 1, 0, 1]]))
        #expect(m.binarized(.threshold(0)) == Matrix([[0, 1, 1, 1], [1, 1, 0, 1]]))
    }

    @Test("stochastic: the mean approaches the intensity; 0 and 1 stay fixed; seeded")
    func stochastic() {
        let intensities: [Float] = [0, 0.1, 0.3, 0.5, 0.9, 1]
        let n = 40_000
        // One column per intensity, n rows.
        let m = Matrix(rows: n, columns: intensities.count,
                       elements: (0..<n).flatMap { _ in intensities })
        let b = m.binarized(.stochastic(seed: 42))
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

        #expect(m.binarized(.stochastic(seed: 42)) == b)
        #expect(m.binarized(.stochastic(seed: 43)) != b)
        var generator = Xoshiro256StarStar(seed: 42)
        var c = m
        c.binarize(using: &generator)
        #expect(c == b)
    }

    @Test("a data set: one stream for training then test images; labels untouched")
    func dataSet() {
        let train = Matrix(rows: 50, columns: 4, repeating: 0.5)
        let test = Matrix(rows: 20, columns: 4, repeating: 0.5)
        var data = DataSet(trainImages: train, trainLabels: Array(repeating: 1, count: 50),
                           testImages: test, testLabels: Array(repeating: 0, count: 20), imageShape: [2, 2])
        #expect(data.classCount == 2)
        data.binarize(.stochastic(seed: 7))
        var generator = Xoshiro256StarStar(seed: 7)
        var expectedTrain = train, expectedTest = test
        expectedTrain.binarize(using: &generator)
        expectedTest.binarize(using: &generator)
        #expect(data.trainImages == expectedTrain && data.testImages == expectedTest)
        #expect(data.trainLabels == Array(repeating: 1, count: 50))
        data.binarize(.threshold(0.5))
        #expect(data.trainImages == expectedTrain)
    }
}

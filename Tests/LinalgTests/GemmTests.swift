import Linalg
import Testing
import _TestSupport

@Suite struct GemmTests {
    @Test(arguments: [(Transpose.none, Transpose.none), (.transposed, .none), (.none, .transposed), (.transposed, .transposed)])
    func matchesNaiveReferenceForEveryTransposeAtOddSizes(transA: Transpose, transB: Transpose) {
        var rng = Xoshiro256StarStar(seed: 7)
        let (m, k, n) = (13, 7, 11)
        let a = transA == .none ? Matrix.normal(rows: m, columns: k, using: &rng) : Matrix.normal(rows: k, columns: m, using: &rng)
        let b = transB == .none ? Matrix.normal(rows: k, columns: n, using: &rng) : Matrix.normal(rows: n, columns: k, using: &rng)
        let c0 = Matrix.normal(rows: m, columns: n, using: &rng)
        for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-2, 0.25)] {
            var c = c0
            gemm(a, transA, b, transB, into: &c, alpha: alpha, beta: beta)
            let expected = NaiveReference.gemm(a, transA, b, transB, c: c0, alpha: alpha, beta: beta)
            #expect(c.rows == m && c.columns == n)
            #expect(NaiveReference.maxAbsDifference(c, expected) < 1e-4, "alpha \(alpha) beta \(beta)")
        }
    }

    @Test func betaZeroIgnoresGarbageInOutputAndResizes() {
        let a = Matrix([[1, 2], [3, 4], [5, 6]])
        let b = Matrix([[1, 0, 2], [0, 1, 3]])
        var c = Matrix(rows: 1, columns: 1, repeating: .nan)
        gemm(a, b, into: &c)
        #expect(c == Matrix([[1, 2, 8], [3, 4, 18], [5, 6, 28]]))
    }

    @Test func momentumFoldsIntoBeta() {
        // velocity = 0.9 * velocity + 0.1 * x^T y, in one call.
        let x = Matrix([[1, 2], [3, 4]])
        let y = Matrix([[1], [1]])
        var velocity = Matrix([[10], [20]])
        gemm(x, .transposed, y, .none, into: &velocity, alpha: 0.1, beta: 0.9)
        #expect(abs(velocity[0, 0] - (9 + 0.4)) < 1e-5)
        #expect(abs(velocity[1, 0] - (18 + 0.6)) < 1e-5)
    }

    @Test func largeProductMatchesReference() {
        var rng = Xoshiro256StarStar(seed: 3)
        let a = Matrix.normal(rows: 101, columns: 67, using: &rng)
        let b = Matrix.normal(rows: 67, columns: 53, using: &rng)
        let c = a.multiplied(by: b)
        let expected = NaiveReference.gemm(a, .none, b, .none, c: nil, alpha: 1, beta: 0)
        #expect(NaiveReference.maxAbsDifference(c, expected) < 1e-3)
    }

    @Test func emptyInnerDimensionScalesByBeta() {
        let a = Matrix(rows: 2, columns: 0)
        let b = Matrix(rows: 0, columns: 3)
        var c = Matrix(rows: 2, columns: 3, repeating: 4)
        gemm(a, b, into: &c, alpha: 1, beta: 0.5)
        #expect(c == Matrix(rows: 2, columns: 3, repeating: 2))
    }

    @Test func blasLevelOne() {
        var y: [Float] = [1, 2, 3]
        axpy(2, [1, 1, 1], &y)
        #expect(y == [3, 4, 5])
        scale(&y, by: 0.5)
        #expect(y == [1.5, 2, 2.5])
        #expect(dot([1, 2, 3], [4, 5, 6]) == 32)
        #expect(abs(norm([3, 4]) - 5) < 1e-6)
    }

    @Test func orthonormalColumnsAreOrthonormal() throws {
        var rng = Xoshiro256StarStar(seed: 11)
        let g = Matrix.normal(rows: 40, columns: 25, using: &rng)
        let q = try orthonormalColumns(of: g)
        let qtq = q.multiplied(by: q, .transposed, .none)
        var worst: Float = 0
        for i in 0..<25 { for j in 0..<25 { worst = max(worst, abs(qtq[i, j] - (i == j ? 1 : 0))) } }
        #expect(worst < 1e-5)
    }

    @Test func threadCountCanBeSet() {
        let before = BLASThreads.count
        BLASThreads.set(1)
        #expect(BLASThreads.count == 1)
        BLASThreads.set(before)
        #expect(BLASThreads.count == before)
    }
}

@Suite struct MatrixTests {
    @Test func rowMajorLayoutAndTranspose() {
        let m = Matrix([[1, 2, 3], [4, 5, 6]])
        #expect(m.elements == [1, 2, 3, 4, 5, 6])
        #expect(m[1, 0] == 4)
        #expect(m.transposed() == Matrix([[1, 4], [2, 5], [3, 6]]))
        #expect(m.row(1) == [4, 5, 6])
    }

    @Test func gatherAndColumnSums() {
        let m = Matrix([[1, 2], [3, 4], [5, 6]])
        #expect(m.rows(at: [2, 0]) == Matrix([[5, 6], [1, 2]]))
        #expect(m.rows(in: 1..<3) == Matrix([[3, 4], [5, 6]]))
        #expect(m.columnSums() == [9, 12])
        #expect(m.columnMeans() == [3, 4])
        var sums: [Float] = [1, 1]
        m.accumulateColumnSums(into: &sums, scale: 2, beta: 0.5)
        #expect(sums == [18.5, 24.5])
        var b = m
        b.addRowVector([10, 20])
        #expect(b.row(2) == [15, 26])
    }

    @Test func valueSemantics() {
        let a = Matrix([[1, 2]])
        var b = a
        b[0, 0] = 9
        #expect(a[0, 0] == 1)
    }
}

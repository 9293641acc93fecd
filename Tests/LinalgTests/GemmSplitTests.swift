import Linalg
import Testing

/// The premise of lane-independent results: a product computed in column blocks (or row
/// blocks) by single-threaded BLAS gives every element the same bits as the whole product, on
/// one thread or on OpenBLAS's threads, for the shapes of CD and backprop at batch 100.
@Suite(.serialized) struct GemmSplitTests {
    struct Shape: Sendable, CustomTestStringConvertible {
        let ta: Transpose, tb: Transpose, m: Int, n: Int, k: Int
        var testDescription: String { "\(ta) \(tb) \(m)x\(n)x\(k)" }
    }

    static let shapes: [Shape] = [
        Shape(ta: .none, tb: .none, m: 100, n: 500, k: 784),        // h = v W
        Shape(ta: .none, tb: .transposed, m: 100, n: 784, k: 500),  // v = h W^T
        Shape(ta: .transposed, tb: .none, m: 784, n: 500, k: 200),  // G = [v0; v1]^T [h0; -h1]
        Shape(ta: .none, tb: .none, m: 37, n: 129, k: 1),
    ]

    @Test(arguments: shapes)
    func blocksEqualTheWholeProduct(shape s: Shape) {
        var g = Xoshiro256StarStar(seed: 5)
        let aRows = s.ta == .none ? s.m : s.k, aCols = s.ta == .none ? s.k : s.m
        let bRows = s.tb == .none ? s.k : s.n, bCols = s.tb == .none ? s.n : s.k
        let a = Matrix.normal(rows: aRows, columns: aCols, using: &g)
        let b = Matrix.normal(rows: bRows, columns: bCols, using: &g)
        func product(threads: Int, blocks: [Range<Int>], byRows: Bool) -> [Float] {
            let saved = BLASThreads.count
            BLASThreads.set(threads)
            defer { BLASThreads.set(saved) }
            var c = [Float](repeating: 0, count: s.m * s.n)
            a.elements.withUnsafeBufferPointer { pa in
                b.elements.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        for r in blocks {
                            if byRows {
                                let aOffset = s.ta == .none ? r.lowerBound * aCols : r.lowerBound
                                sgemm(s.ta, s.tb, m: r.count, n: s.n, k: s.k, alpha: 0.5, a: pa.baseAddress! + aOffset,
                                      lda: aCols, b: pb.baseAddress!, ldb: bCols, beta: 0,
                                      c: pc.baseAddress! + r.lowerBound * s.n, ldc: s.n)
                            } else {
                                let bOffset = s.tb == .none ? r.lowerBound : r.lowerBound * bCols
                                sgemm(s.ta, s.tb, m: s.m, n: r.count, k: s.k, alpha: 0.5, a: pa.baseAddress!,
                                      lda: aCols, b: pb.baseAddress! + bOffset, ldb: bCols, beta: 0,
                                      c: pc.baseAddress! + r.lowerBound, ldc: s.n)
                            }
                        }
                    }
                }
            }
            return c
        }
        let whole = product(threads: 1, blocks: [0..<s.n], byRows: false)
        func differing(_ c: [Float]) -> Int { zip(c, whole).filter { $0.0.bitPattern != $0.1.bitPattern }.count }
        #expect(differing(product(threads: 2, blocks: [0..<s.n], byRows: false)) == 0, "2 threads")
        for count in [2, 3, 5] {
            let columns = Lanes.blocks(of: s.n, count: count), rows = Lanes.blocks(of: s.m, count: count)
            #expect(differing(product(threads: 1, blocks: columns, byRows: false)) == 0, "\(columns)")
            #expect(differing(product(threads: 1, blocks: rows, byRows: true)) == 0, "rows \(rows)")
        }
    }
}

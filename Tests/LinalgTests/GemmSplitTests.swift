import Linalg
import Testing

/// Why products are split into blocks fixed by their shape: OpenBLAS's bits change with the
/// split (its edge kernels accumulate in other orders), so a product computed in 2 or 3
/// column blocks, or on OpenBLAS's 2 threads, generally differs in the last bits from the whole
/// product (measured with Debian's OpenBLAS 0.3.21: thousands of elements of 50,000); but the
/// same blocks give the same bits whichever thread runs them and however many threads run.
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
    func sameBlocksGiveTheSameBitsOnAnyNumberOfThreads(shape s: Shape) {
        var g = Xoshiro256StarStar(seed: 5)
        let aRows = s.ta == .none ? s.m : s.k, aCols = s.ta == .none ? s.k : s.m
        let bRows = s.tb == .none ? s.k : s.n, bCols = s.tb == .none ? s.n : s.k
        let a = Matrix.normal(rows: aRows, columns: aCols, using: &g)
        let b = Matrix.normal(rows: bRows, columns: bCols, using: &g)
        func product(threads: Int, blocks: [Range<Int>], byRows: Bool) -> [Float] {
            let saved = Lanes.threads
            Lanes.setThreads(threads)
            defer { Lanes.setThreads(saved) }
            var c = [Float](repeating: 0, count: s.m * s.n)
            a.elements.withUnsafeBufferPointer { pa in
                b.elements.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        nonisolated(unsafe) let (pa, pb, pc) = (pa, pb, pc)
                        Lanes.withSingleThreadedBLAS { Lanes.run(blocks.count) { block in
                            let r = blocks[block]
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
                        } }
                    }
                }
            }
            return c
        }
        for count in [1, 2, 3, 4] {
            let columns = Lanes.blocks(of: s.n, count: count), rows = Lanes.blocks(of: s.m, count: count)
            let byColumns = product(threads: 1, blocks: columns, byRows: false)
            let byRows = product(threads: 1, blocks: rows, byRows: true)
            for threads in [2, 3] {
                #expect(product(threads: threads, blocks: columns, byRows: false).map(\.bitPattern)
                        == byColumns.map(\.bitPattern), "\(count) column blocks on \(threads) threads")
                #expect(product(threads: threads, blocks: rows, byRows: true).map(\.bitPattern)
                        == byRows.map(\.bitPattern), "\(count) row blocks on \(threads) threads")
            }
        }
    }
}

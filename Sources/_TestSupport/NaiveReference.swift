import Linalg

/// Naive references kept beside the fast paths (llm.c's `matmul_forward_naive` habit): tests
/// compare the BLAS-backed code against these plain loops.
public enum NaiveReference {
    /// alpha * op(a) * op(b) + beta * c, in double precision, with plain loops.
    public static func gemm(_ a: Matrix, _ transA: Transpose, _ b: Matrix, _ transB: Transpose,
                            c: Matrix?, alpha: Float, beta: Float) -> Matrix {
        let m = transA == .none ? a.rows : a.columns
        let k = transA == .none ? a.columns : a.rows
        let n = transB == .none ? b.columns : b.rows
        var result = Matrix(rows: m, columns: n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for p in 0..<k {
                    let x = transA == .none ? a[i, p] : a[p, i]
                    let y = transB == .none ? b[p, j] : b[j, p]
                    sum += Double(x) * Double(y)
                }
                let previous = c.map { Double($0[i, j]) } ?? 0
                result[i, j] = Float(Double(alpha) * sum + Double(beta) * previous)
            }
        }
        return result
    }

    /// The largest absolute difference between two equally shaped matrices.
    public static func maxAbsDifference(_ a: Matrix, _ b: Matrix) -> Float {
        precondition(a.rows == b.rows && a.columns == b.columns, "maxAbsDifference: shapes differ")
        var worst: Float = 0
        for i in 0..<a.count { worst = max(worst, abs(a.elements[i] - b.elements[i])) }
        return worst
    }
}

/// Sample statistics in double precision.
public func meanAndVariance(_ values: [Float]) -> (mean: Double, variance: Double) {
    let n = Double(values.count)
    let mean = values.reduce(0.0) { $0 + Double($1) } / n
    let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
    return (mean, variance)
}

import Synchronization
// The only file that imports the C module CBLAS (OpenBLAS's CBLAS and LAPACKE).
import CBLAS

/// Whether an operand of `gemm` is used as stored or transposed.
public enum Transpose: Sendable {
    case none, transposed
    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// `C = alpha * op(A) * op(B) + beta * C` on raw row-major buffers: one `cblas_sgemm` call.
///
/// `op(A)` is m x k, `op(B)` is k x n, `C` is m x n; `lda`, `ldb`, `ldc` are the row strides
/// of the stored matrices. This is the one path to BLAS level 3 in the project.
@inlinable
public func sgemm(_ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int,
                  alpha: Float, a: UnsafePointer<Float>, lda: Int,
                  b: UnsafePointer<Float>, ldb: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    _sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

@usableFromInline
func _sgemm(_ transA: Transpose, _ transB: Transpose, _ m: Int, _ n: Int, _ k: Int,
            _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
            _ b: UnsafePointer<Float>, _ ldb: Int,
            _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    guard m > 0 && n > 0 else { return }
    if k == 0 {
        // BLAS leaves C untouched when k == 0 only if beta == 1; be explicit.
        for i in 0..<(m * ldc) where i % ldc < n { c[i] *= beta }
        return
    }
    cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                beta, c, Int32(ldc))
}

/// `c = alpha * op(a) * op(b) + beta * c` for matrices: one `cblas_sgemm` call.
///
/// With `beta != 0`, `c` must already have the result's shape and its contents are folded in
/// (e.g. momentum: `velocity = momentum * velocity + rate * gradient`). With `beta == 0`, `c` is
/// resized as needed (no allocation when its element count already fits).
public func gemm(_ a: Matrix, _ transA: Transpose, _ b: Matrix, _ transB: Transpose,
                 into c: inout Matrix, alpha: Float = 1, beta: Float = 0) {
    let m = transA == .none ? a.rows : a.columns
    let k = transA == .none ? a.columns : a.rows
    let kb = transB == .none ? b.rows : b.columns
    let n = transB == .none ? b.columns : b.rows
    precondition(k == kb, "gemm: inner dimensions differ: op(A) is \(m)x\(k), op(B) is \(kb)x\(n)")
    if beta == 0 {
        c.resize(rows: m, columns: n)
    } else {
        precondition(c.rows == m && c.columns == n,
                     "gemm: C is \(c.rows)x\(c.columns), expected \(m)x\(n) with beta != 0")
    }
    let lda = a.columns, ldb = b.columns
    a.elements.withUnsafeBufferPointer { pa in
        b.elements.withUnsafeBufferPointer { pb in
            c.elements.withUnsafeMutableBufferPointer { pc in
                _sgemm(transA, transB, m, n, k, alpha, pa.baseAddress!, max(lda, 1),
                       pb.baseAddress!, max(ldb, 1), beta, pc.baseAddress!, max(n, 1))
            }
        }
    }
}

/// `c = alpha * a * op(b)` computed in fixed chunks of `chunkRows` rows of `a`, each one
/// single-threaded `sgemm`, the chunks run side by side on the lane threads (`Lanes`): the bits
/// of every row depend only on the chunking, never on the number of threads (one
/// multi-threaded `sgemm` splits the product by OpenBLAS's thread count, and the bits follow the
/// split). For the passes of a whole data set through a layer that training depends on: the
/// next layer's input, validation and test errors.
public func gemmInRowChunks(_ a: Matrix, _ b: Matrix, _ transB: Transpose, into c: inout Matrix,
                            alpha: Float = 1, chunkRows: Int = 256) {
    let m = a.rows, k = a.columns
    let kb = transB == .none ? b.rows : b.columns, n = transB == .none ? b.columns : b.rows
    precondition(k == kb, "gemmInRowChunks: inner dimensions differ: A is \(m)x\(k), op(B) is \(kb)x\(n)")
    precondition(chunkRows >= 1, "gemmInRowChunks: chunkRows \(chunkRows)")
    c.resize(rows: m, columns: n)
    guard m > 0, n > 0 else { return }
    let chunks = (m + chunkRows - 1) / chunkRows, ldb = max(b.columns, 1)
    a.elements.withUnsafeBufferPointer { pa in
        b.elements.withUnsafeBufferPointer { pb in
            c.elements.withUnsafeMutableBufferPointer { pc in
                nonisolated(unsafe) let (pa, pb, pc) = (pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
                BLASThreads.singleThreaded {
                    Lanes.run(chunks) { chunk in
                        let first = chunk * chunkRows, rows = min(chunkRows, m - first)
                        _sgemm(.none, transB, rows, n, k, alpha, pa + first * k, max(k, 1), pb, ldb, 0,
                               pc + first * n, n)
                    }
                }
            }
        }
    }
}

/// `c = alpha * a * b + beta * c` (no transposes): one `cblas_sgemm` call.
public func gemm(_ a: Matrix, _ b: Matrix, into c: inout Matrix, alpha: Float = 1, beta: Float = 0) {
    gemm(a, .none, b, .none, into: &c, alpha: alpha, beta: beta)
}

extension Matrix {
    /// The product `op(self) * op(other)` as a new matrix.
    public func multiplied(by other: Matrix, _ transSelf: Transpose = .none,
                           _ transOther: Transpose = .none) -> Matrix {
        var result = Matrix(rows: 0, columns: 0)
        gemm(self, transSelf, other, transOther, into: &result)
        return result
    }
}

// MARK: - BLAS level 1

/// `y += alpha * x` (saxpy).
public func axpy(_ alpha: Float, _ x: [Float], _ y: inout [Float]) {
    precondition(x.count == y.count, "axpy: lengths \(x.count) and \(y.count) differ")
    x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
            cblas_saxpy(Int32(px.count), alpha, px.baseAddress, 1, py.baseAddress, 1)
        }
    }
}

/// `x *= alpha` (sscal).
public func scale(_ x: inout [Float], by alpha: Float) {
    x.withUnsafeMutableBufferPointer { px in
        cblas_sscal(Int32(px.count), alpha, px.baseAddress, 1)
    }
}

/// The dot product of two vectors (sdot, accumulated in Float by BLAS).
public func dot(_ x: [Float], _ y: [Float]) -> Float {
    precondition(x.count == y.count, "dot: lengths \(x.count) and \(y.count) differ")
    return x.withUnsafeBufferPointer { px in
        y.withUnsafeBufferPointer { py in cblas_sdot(Int32(px.count), px.baseAddress, 1, py.baseAddress, 1) }
    }
}

/// The Euclidean norm of a vector (snrm2).
public func norm(_ x: [Float]) -> Float {
    x.withUnsafeBufferPointer { px in cblas_snrm2(Int32(px.count), px.baseAddress, 1) }
}

// MARK: - LAPACK

/// Errors from LAPACK routines.
public enum LinearAlgebraError: Error, Equatable, Sendable {
    /// A LAPACKE routine returned a non-zero `info`.
    case lapack(routine: String, info: Int)
}

/// The orthonormal factor Q of the QR factorisation of `a` (rows >= columns), with the signs of
/// R's diagonal folded in so that Q is uniformly distributed when `a` is Gaussian
/// (Mezzadri 2007). Uses LAPACKE `sgeqrf` and `sorgqr`.
public func orthonormalColumns(of a: Matrix) throws -> Matrix {
    precondition(a.rows >= a.columns, "orthonormalColumns: needs rows >= columns, got \(a.rows)x\(a.columns)")
    let m = a.rows, n = a.columns
    var q = a
    var tau = [Float](repeating: 0, count: n)
    let info1 = q.elements.withUnsafeMutableBufferPointer { pq in
        tau.withUnsafeMutableBufferPointer { pt in
            LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), pq.baseAddress, Int32(n), pt.baseAddress)
        }
    }
    guard info1 == 0 else { throw LinearAlgebraError.lapack(routine: "sgeqrf", info: Int(info1)) }
    let signs = (0..<n).map { q[$0, $0] < 0 ? Float(-1) : Float(1) }
    let info2 = q.elements.withUnsafeMutableBufferPointer { pq in
        tau.withUnsafeMutableBufferPointer { pt in
            LAPACKE_sorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(n), pq.baseAddress, Int32(n), pt.baseAddress)
        }
    }
    guard info2 == 0 else { throw LinearAlgebraError.lapack(routine: "sorgqr", info: Int(info2)) }
    for r in 0..<m { for c in 0..<n { q[r, c] *= signs[c] } }
    return q
}

// MARK: - Threads

/// The number of threads OpenBLAS uses for each call.
/// OpenBLAS's thread count, shared by the whole process. Training steps need OpenBLAS on one
/// thread (their blocks call it side by side, and its own threads would change the bits), also
/// when other threads of the process set a count meanwhile: while any `singleThreaded` section
/// runs, OpenBLAS stays on one thread and a `set` only records the count to restore after it.
public enum BLASThreads {
    private struct State {
        var requested: Int
        var sections = 0
    }
    private static let state = Mutex(State(requested: Int(openblas_get_num_threads())))

    /// The thread count asked for (OpenBLAS runs on it outside single-threaded sections).
    public static var count: Int { state.withLock { $0.requested } }

    /// Sets the OpenBLAS thread count (at least 1); inside a single-threaded section it takes
    /// effect when the last section ends.
    public static func set(_ count: Int) {
        state.withLock { s in
            s.requested = max(1, count)
            if s.sections == 0 { openblas_set_num_threads(Int32(s.requested)) }
        }
    }

    /// Runs `body` with OpenBLAS on one thread, restoring the requested count when the last
    /// such section of the process ends (also when `body` throws). Allocates nothing.
    public static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        state.withLock { s in
            if s.sections == 0 && s.requested != 1 { openblas_set_num_threads(1) }
            s.sections += 1
        }
        defer {
            state.withLock { s in
                s.sections -= 1
                if s.sections == 0 && s.requested != 1 { openblas_set_num_threads(Int32(s.requested)) }
            }
        }
        return try body()
    }
}

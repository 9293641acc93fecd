/// A dense row-major matrix of `Float` with value semantics.
///
/// Samples are rows: a minibatch of 100 MNIST images is a `Matrix` of shape (100, 784).
/// Element (r, c) lives at `elements[r * columns + c]`.
public struct Matrix: Sendable, Equatable {
    /// Number of rows (samples).
    public private(set) var rows: Int
    /// Number of columns (features).
    public private(set) var columns: Int
    /// The elements in row-major order; `elements.count == rows * columns`.
    public var elements: [Float]

    /// A `rows` x `columns` matrix filled with `value`.
    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && columns >= 0, "Matrix: negative shape (\(rows), \(columns))")
        self.rows = rows
        self.columns = columns
        self.elements = [Float](repeating: value, count: rows * columns)
    }

    /// A `rows` x `columns` matrix over `elements` given in row-major order.
    public init(rows: Int, columns: Int, elements: [Float]) {
        precondition(rows >= 0 && columns >= 0, "Matrix: negative shape (\(rows), \(columns))")
        precondition(elements.count == rows * columns,
                     "Matrix: \(elements.count) elements for shape (\(rows), \(columns))")
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// A matrix from nested rows, all of the same length (handy in tests).
    public init(_ nestedRows: [[Float]]) {
        let columns = nestedRows.first?.count ?? 0
        precondition(nestedRows.allSatisfy { $0.count == columns }, "Matrix: ragged rows")
        self.init(rows: nestedRows.count, columns: columns, elements: nestedRows.flatMap { $0 })
    }

    /// The shape as (rows, columns).
    @inlinable public var shape: (rows: Int, columns: Int) { (rows, columns) }

    /// Number of elements.
    @inlinable public var count: Int { rows * columns }

    @inlinable public subscript(row: Int, column: Int) -> Float {
        get { elements[row * columns + column] }
        set { elements[row * columns + column] = newValue }
    }

    /// A copy of one row.
    public func row(_ index: Int) -> [Float] {
        Array(elements[index * columns ..< (index + 1) * columns])
    }

    /// Changes the shape, reusing the storage when the element count allows; contents are
    /// unspecified afterwards. Used to keep one buffer across minibatches of varying size.
    public mutating func resize(rows: Int, columns: Int) {
        if rows * columns != elements.count {
            elements = [Float](repeating: 0, count: rows * columns)
        }
        self.rows = rows
        self.columns = columns
    }

    /// The transpose, as a new matrix.
    public func transposed() -> Matrix {
        var result = Matrix(rows: columns, columns: rows)
        elements.withUnsafeBufferPointer { src in
            result.elements.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    for c in 0..<columns { dst[c * rows + r] = src[r * columns + c] }
                }
            }
        }
        return result
    }

    /// The rows at `indices`, in that order, as a new matrix.
    public func rows(at indices: some Collection<Int>) -> Matrix {
        var result = Matrix(rows: indices.count, columns: columns)
        gatherRows(indices, into: &result)
        return result
    }

    /// The rows `range` as a new matrix.
    public func rows(in range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, columns: columns,
               elements: Array(elements[range.lowerBound * columns ..< range.upperBound * columns]))
    }

    /// The columns `range` of every row, as a new matrix.
    public func columns(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= columns, "columns: \(range) of \(columns)")
        var result = Matrix(rows: rows, columns: range.count)
        elements.withUnsafeBufferPointer { src in
            result.elements.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    (dst.baseAddress! + r * range.count).update(from: src.baseAddress! + r * columns + range.lowerBound,
                                                                count: range.count)
                }
            }
        }
        return result
    }

    /// Copies the rows at `indices` into `destination`, resizing it to (indices.count, columns).
    /// Does not allocate when `destination` already has that many elements.
    public func gatherRows(_ indices: some Collection<Int>, into destination: inout Matrix) {
        destination.resize(rows: indices.count, columns: columns)
        let columns = self.columns
        elements.withUnsafeBufferPointer { src in
            destination.elements.withUnsafeMutableBufferPointer { dst in
                var out = 0
                for index in indices {
                    precondition(index >= 0 && index < rows, "gatherRows: row \(index) out of range")
                    let from = src.baseAddress! + index * columns
                    (dst.baseAddress! + out * columns).update(from: from, count: columns)
                    out += 1
                }
            }
        }
    }

    /// The sum of each column, as a vector of length `columns`.
    public func columnSums() -> [Float] {
        var sums = [Float](repeating: 0, count: columns)
        accumulateColumnSums(into: &sums, scale: 1)
        return sums
    }

    /// `sums[c] = beta * sums[c] + scale * (sum over rows of self[r, c])`: the bias gradient
    /// of a minibatch, folded into a running update.
    public func accumulateColumnSums(into sums: inout [Float], scale: Float, beta: Float = 1) {
        precondition(sums.count == columns, "accumulateColumnSums: \(sums.count) sums for \(columns) columns")
        let rows = self.rows, columns = self.columns
        elements.withUnsafeBufferPointer { src in
            sums.withUnsafeMutableBufferPointer { dst in
                if beta != 1 { for c in 0..<columns { dst[c] *= beta } }
                for r in 0..<rows {
                    let base = r * columns
                    for c in 0..<columns { dst[c] += scale * src[base + c] }
                }
            }
        }
    }

    /// The mean of each column.
    public func columnMeans() -> [Float] {
        guard rows > 0 else { return [Float](repeating: 0, count: columns) }
        var sums = [Float](repeating: 0, count: columns)
        accumulateColumnSums(into: &sums, scale: 1)
        let inverse = 1 / Float(rows)
        return sums.map { $0 * inverse }
    }

    /// Adds `vector` to every row (a bias add).
    public mutating func addRowVector(_ vector: [Float]) {
        precondition(vector.count == columns, "addRowVector: \(vector.count) values for \(columns) columns")
        let rows = self.rows, columns = self.columns
        vector.withUnsafeBufferPointer { v in
            elements.withUnsafeMutableBufferPointer { e in
                for r in 0..<rows {
                    let base = r * columns
                    for c in 0..<columns { e[base + c] += v[c] }
                }
            }
        }
    }

    /// Whether every element is finite (no NaN, no infinity).
    public var isFinite: Bool {
        elements.withUnsafeBufferPointer { e in
            var bad = false
            for x in e where !x.isFinite { bad = true; break }
            return !bad
        }
    }

    /// The sum of squares of all elements, in double precision.
    public var squaredNorm: Double {
        elements.withUnsafeBufferPointer { e in
            var s = 0.0
            for x in e { s += Double(x) * Double(x) }
            return s
        }
    }
}

extension Matrix: CustomStringConvertible {
    /// The shape and the top-left corner of the matrix.
    public var description: String {
        let shown = (0..<min(rows, 6)).map { r in
            (0..<min(columns, 8)).map { "\(self[r, $0])" }.joined(separator: " ")
                + (columns > 8 ? " ..." : "")
        }
        return "Matrix(\(rows)x\(columns))\n" + shown.joined(separator: "\n") + (rows > 6 ? "\n..." : "")
    }
}

extension Matrix {
    /// The matrix with `classes` columns appended: row r gets a one-hot code of `labels[r]`
    /// (a class in 0..<classes). Shape (rows, columns + classes).
    public func appendingOneHot(_ labels: [Int], classes: Int) -> Matrix {
        precondition(labels.count == rows, "appendingOneHot: \(labels.count) labels for \(rows) rows")
        var result = Matrix(rows: rows, columns: columns + classes)
        for r in 0..<rows {
            precondition((0..<classes).contains(labels[r]), "appendingOneHot: label \(labels[r]) of \(classes) classes")
            for c in 0..<columns { result[r, c] = self[r, c] }
            result[r, columns + labels[r]] = 1
        }
        return result
    }
}

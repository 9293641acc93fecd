/// A fixed-size block of `Float`s owned by a class: the raw storage of the training loop.
///
/// Allocated once (zero-filled) and never reallocated, so the hot loop works on stable
/// pointers without copy-on-write or exclusivity checks. Internal to the module.
public final class FloatBuffer: @unchecked Sendable {
    // @unchecked Sendable: the engines' blocks write disjoint ranges, between barriers.
    /// The first element.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int
    /// The buffer whose memory this one views (see `slab`); nil when this one owns its memory.
    private let owner: FloatBuffer?

    /// `count` zeros.
    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer: negative count \(count)")
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        owner = nil
    }

    /// Elements `offset ..< offset + count` of `owner` (kept alive by the view).
    private init(viewing owner: FloatBuffer, offset: Int, count: Int) {
        self.count = count
        pointer = owner.pointer + offset
        self.owner = owner
    }

    /// One zero-filled buffer of `counts.reduce(0, +)` elements and its consecutive parts of
    /// `counts` elements each (views into it): buffers that one call can sum across processes.
    public static func slab(_ counts: [Int]) -> (whole: FloatBuffer, parts: [FloatBuffer]) {
        precondition(counts.allSatisfy { $0 >= 0 }, "FloatBuffer.slab: negative count")
        let whole = FloatBuffer(count: counts.reduce(0, +))
        var offset = 0
        let parts = counts.map { count in
            defer { offset += count }
            return FloatBuffer(viewing: whole, offset: offset, count: count)
        }
        return (whole, parts)
    }

    /// A copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        copy(from: values)
    }

    deinit { if owner == nil { pointer.deallocate() } }

    /// Overwrites the contents with `values` (same count).
    public func copy(from values: [Float]) {
        precondition(values.count == count, "FloatBuffer: \(values.count) values for \(count) elements")
        guard count > 0 else { return }
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// Sets every element to `value`.
    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    /// The contents as an array.
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Whether every element is finite.
    public var isFinite: Bool {
        var bad = false
        for i in 0..<count where !pointer[i].isFinite { bad = true; break }
        return !bad
    }

    /// The Euclidean norm, accumulated in double precision.
    public var norm: Double {
        var sum = 0.0
        for i in 0..<count { sum += Double(pointer[i]) * Double(pointer[i]) }
        return sum.squareRoot()
    }
}

/// The content of a safetensors file: tensors by name, plus string metadata.
///
/// Names keep the order in which they were added (for a decoded file: the order of the
/// header). The encoded bytes do not depend on that order: `encode()` lays tensors out as the
/// reference writer does, so equal contents give identical files. Equality ignores the order
/// and `source`.
///
/// ```swift
/// var file = SafeTensors(metadata: ["format_version": "1"])
/// file["layers.0.weight"] = Tensor(weights)          // Matrix 784 x 500 -> F32 [784, 500]
/// try file.write(to: "model.safetensors")
/// let back = try SafeTensors.read(from: "model.safetensors")
/// let w = try back.requireMatrix("layers.0.weight", rows: 784, columns: 500)
/// ```
public struct SafeTensors: Sendable, Equatable {
    /// Free-form string metadata (the header's `__metadata__`); empty means none written.
    public var metadata: [String: String]
    /// Where the content came from (a path, or a label); errors name it.
    public var source: String

    private var order: [String] = []
    private var storage: [String: Tensor] = [:]

    /// An empty collection with `metadata`.
    public init(metadata: [String: String] = [:], source: String = "(in memory)") {
        self.metadata = metadata
        self.source = source
    }

    /// A collection of `tensors` (names must be distinct) with `metadata`.
    public init(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:],
                source: String = "(in memory)") {
        self.init(metadata: metadata, source: source)
        for (name, tensor) in tensors {
            precondition(storage[name] == nil, "SafeTensors: duplicate tensor name '\(name)'")
            self[name] = tensor
        }
    }

    /// The tensor called `name`; setting `nil` removes it, setting a new name appends it.
    public subscript(name: String) -> Tensor? {
        get { storage[name] }
        set {
            switch (storage[name] != nil, newValue != nil) {
            case (false, true): order.append(name)
            case (true, false): order.removeAll { $0 == name }
            default: break
            }
            storage[name] = newValue
        }
    }

    /// The tensor names in insertion order.
    public var names: [String] { order }

    /// The number of tensors.
    public var count: Int { order.count }

    /// The tensors in insertion order.
    public var tensors: [(name: String, tensor: Tensor)] {
        order.compactMap { name in storage[name].map { (name, $0) } }
    }

    public static func == (lhs: SafeTensors, rhs: SafeTensors) -> Bool {
        lhs.storage == rhs.storage && lhs.metadata == rhs.metadata
    }
}

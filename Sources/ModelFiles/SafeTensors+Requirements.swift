import Linalg

/// Checks for callers that load a model: each failure is a one-line error naming the file
/// and the tensor, e.g. "model.safetensors: tensor 'layers.0.weight' has shape [784, 500],
/// expected [784, 300]".
extension SafeTensors {
    /// The tensor `name`; throws `missingTensor` if absent and `shapeMismatch` if `shape`
    /// is given and differs.
    public func requireTensor(_ name: String, shape: [Int]? = nil) throws(SafeTensorsError) -> Tensor {
        guard let tensor = self[name] else {
            throw .missingTensor(file: source, name: name, available: names)
        }
        if let shape, tensor.shape != shape {
            throw .shapeMismatch(file: source, name: name, found: tensor.shape, expected: shape)
        }
        return tensor
    }

    /// The tensor `name` of shape [rows, columns] as a `Matrix` (values converted to Float).
    public func requireMatrix(_ name: String, rows: Int, columns: Int) throws(SafeTensorsError) -> Matrix {
        let tensor = try requireTensor(name, shape: [rows, columns])
        do {
            return try tensor.matrix()
        } catch {
            throw .unreadableTensor(file: source, name: name, reason: error)
        }
    }

    /// The tensor `name` of shape [count] as `[Float]` (e.g. a bias).
    public func requireVector(_ name: String, count: Int) throws(SafeTensorsError) -> [Float] {
        let tensor = try requireTensor(name, shape: [count])
        do {
            return try tensor.vector()
        } catch {
            throw .unreadableTensor(file: source, name: name, reason: error)
        }
    }

    /// The format version stored as a decimal integer in `metadata[key]`, checked to be at
    /// most `supported` (the newest version this build reads).
    ///
    /// Throws `missingMetadata` if the key is absent, `invalidMetadataValue` if the value
    /// is not a non-negative decimal integer, and `newerFormatVersion` ("written by a newer
    /// version (3); this build reads up to 2") if it is above `supported`.
    public func requireFormatVersion(key: String = "format_version", readsUpTo supported: Int) throws(SafeTensorsError) -> Int {
        guard let text = metadata[key] else { throw .missingMetadata(file: source, key: key) }
        guard let version = Self.decimalInteger(text) else {
            throw .invalidMetadataValue(file: source, key: key, value: text, expected: "a non-negative integer")
        }
        guard version <= supported else {
            throw .newerFormatVersion(file: source, found: version, supported: supported)
        }
        return version
    }

    /// `text` as a non-negative decimal integer (ASCII digits only), or nil.
    private static func decimalInteger(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 18,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return Int(text)
    }
}

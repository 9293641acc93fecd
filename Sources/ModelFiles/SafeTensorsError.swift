/// What went wrong reading, checking or writing a safetensors file.
///
/// Every case names the file (`file`: the path, or the `source` given to `decode`); the
/// `description` is one line saying what was expected and what was found, e.g.
/// `model.safetensors: tensor 'layers.0.weight' has shape [784, 500], expected [784, 300]`.
public enum SafeTensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    // MARK: Opening the file
    /// No file at the path.
    case fileNotFound(file: String)
    /// The path is a folder or another non-regular file (`found` says which).
    case notAFile(file: String, found: String)
    /// The file exists but could not be read (permissions, I/O error).
    case unreadable(file: String, reason: String)

    // MARK: The 8-byte length prefix
    /// Fewer than 8 bytes: no room for the header length.
    case fileTooShort(file: String, size: Int)
    /// The header length is above the 100,000,000-byte limit of the reference reader.
    case headerTooLarge(file: String, length: UInt64, limit: Int)
    /// The header length runs past the end of the file.
    case headerPastEnd(file: String, length: UInt64, available: Int)

    // MARK: The JSON header
    /// The header bytes are not valid UTF-8 (`offset` is the first bad byte in the file).
    case headerNotUTF8(file: String, offset: Int)
    /// The header is not valid JSON (`offset` is counted from the start of the file).
    case invalidJSON(file: String, offset: Int, reason: String)
    /// The header is valid JSON but not an object.
    case headerNotObject(file: String, found: String)
    /// A tensor entry lacks `dtype`, `shape` or `data_offsets`.
    case missingField(file: String, tensor: String, field: String)
    /// A tensor entry (or a field of it) has the wrong JSON type.
    case wrongFieldType(file: String, tensor: String, field: String, expected: String, found: String)
    /// A field appears twice in one tensor entry.
    case duplicateField(file: String, tensor: String, field: String)
    /// The dtype is not one this reader knows (or a sub-byte type it does not support).
    case unknownDType(file: String, tensor: String, dtype: String)
    /// A shape value is negative, not an integer, or too large.
    case invalidShape(file: String, tensor: String, reason: String)
    /// The product of the shape (times the element width) overflows.
    case shapeOverflow(file: String, tensor: String, shape: [Int])
    /// `data_offsets` is not two increasing non-negative integers.
    case invalidOffsets(file: String, tensor: String, reason: String)
    /// The tensor's byte range ends past the end of the data buffer.
    case offsetsPastEnd(file: String, tensor: String, end: Int, bufferSize: Int)
    /// The byte range's size differs from dtype width x number of elements.
    case sizeMismatch(file: String, tensor: String, dtype: DType, shape: [Int], expected: Int, found: Int)
    /// Two tensors' byte ranges overlap.
    case overlappingTensors(file: String, tensor: String, other: String)
    /// Bytes of the data buffer that no tensor covers (a hole, or trailing bytes).
    case uncoveredBytes(file: String, begin: Int, end: Int)
    /// Two tensors have the same name.
    case duplicateTensorName(file: String, name: String)
    /// `__metadata__` is not an object of strings (`key` is the offending entry, if any).
    case invalidMetadata(file: String, key: String?, reason: String)

    // MARK: Callers' checks
    /// A tensor the caller needs is not in the file.
    case missingTensor(file: String, name: String, available: [String])
    /// A tensor has another shape than the caller needs.
    case shapeMismatch(file: String, name: String, found: [Int], expected: [Int])
    /// A tensor's values could not be read as asked (e.g. C64 as Float, wrong rank).
    case unreadableTensor(file: String, name: String, reason: TensorError)
    /// A metadata key the caller needs is absent.
    case missingMetadata(file: String, key: String)
    /// A metadata value is not what the caller needs (e.g. a version that is not an integer).
    case invalidMetadataValue(file: String, key: String, value: String, expected: String)
    /// The file was written by a newer format version than this build reads.
    case newerFormatVersion(file: String, found: Int, supported: Int)

    // MARK: Writing
    /// The content cannot be written as safetensors (e.g. a tensor named `__metadata__`).
    case cannotEncode(file: String, reason: String)
    /// Writing the file failed; the previous file at the path, if any, is untouched.
    case writeFailed(file: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let file):
            return "\(file): no such file"
        case .notAFile(let file, let found):
            return "\(file): expected a safetensors file, found \(found)"
        case .unreadable(let file, let reason):
            return "\(file): cannot read the file: \(reason)"
        case .fileTooShort(let file, let size):
            return "\(file): expected at least 8 bytes (the header length), found \(size) byte\(size == 1 ? "" : "s"); not a safetensors file"
        case .headerTooLarge(let file, let length, let limit):
            return "\(file): header length \(length) is above the limit of \(limit) bytes; not a safetensors file or a damaged one"
        case .headerPastEnd(let file, let length, let available):
            return "\(file): header length \(length) runs past the end of the file (\(available) bytes follow the length); the file is truncated or not a safetensors file"
        case .headerNotUTF8(let file, let offset):
            return "\(file): the JSON header is not valid UTF-8 (byte \(offset))"
        case .invalidJSON(let file, let offset, let reason):
            return "\(file): the header is not valid JSON at byte \(offset): \(reason)"
        case .headerNotObject(let file, let found):
            return "\(file): expected the header to be a JSON object, found \(found)"
        case .missingField(let file, let tensor, let field):
            return "\(file): tensor \(quoted(tensor)) has no \(quoted(field)) field"
        case .wrongFieldType(let file, let tensor, let field, let expected, let found):
            let place = field.isEmpty ? "the entry of tensor \(quoted(tensor))" : "field \(quoted(field)) of tensor \(quoted(tensor))"
            return "\(file): expected \(place) to be \(expected), found \(found)"
        case .duplicateField(let file, let tensor, let field):
            return "\(file): tensor \(quoted(tensor)) has the field \(quoted(field)) twice"
        case .unknownDType(let file, let tensor, let dtype):
            if DType.unsupportedNames.contains(dtype) {
                return "\(file): tensor \(quoted(tensor)) has dtype \(quoted(dtype)); sub-byte types are not supported by this reader"
            }
            let known = DType.allCases.map(\.rawValue).joined(separator: ", ")
            return "\(file): tensor \(quoted(tensor)) has unknown dtype \(quoted(dtype)), expected one of \(known)"
        case .invalidShape(let file, let tensor, let reason):
            return "\(file): tensor \(quoted(tensor)) has an invalid shape: \(reason)"
        case .shapeOverflow(let file, let tensor, let shape):
            return "\(file): tensor \(quoted(tensor)) has shape \(shapeText(shape)), whose size in bytes overflows"
        case .invalidOffsets(let file, let tensor, let reason):
            return "\(file): tensor \(quoted(tensor)) has invalid data_offsets: \(reason)"
        case .offsetsPastEnd(let file, let tensor, let end, let bufferSize):
            return "\(file): tensor \(quoted(tensor)) ends at byte \(end) of the data buffer, but the buffer has only \(bufferSize) bytes; the file is truncated or damaged"
        case .sizeMismatch(let file, let tensor, let dtype, let shape, let expected, let found):
            return "\(file): tensor \(quoted(tensor)) (\(dtype.rawValue), shape \(shapeText(shape))) should take \(expected) bytes, but its data_offsets span \(found)"
        case .overlappingTensors(let file, let tensor, let other):
            return "\(file): the bytes of tensor \(quoted(tensor)) overlap those of tensor \(quoted(other))"
        case .uncoveredBytes(let file, let begin, let end):
            return "\(file): bytes \(begin)..<\(end) of the data buffer belong to no tensor; expected the tensors to cover the buffer without holes"
        case .duplicateTensorName(let file, let name):
            return "\(file): the tensor name \(quoted(name)) appears twice in the header"
        case .invalidMetadata(let file, let key, let reason):
            if let key { return "\(file): metadata entry \(quoted(key)) is invalid: \(reason)" }
            return "\(file): invalid __metadata__: \(reason)"
        case .missingTensor(let file, let name, let available):
            let shown = available.prefix(8).map(quoted).joined(separator: ", ")
            let more = available.count > 8 ? ", ..." : ""
            let list = available.isEmpty ? "the file has no tensors" : "the file has \(available.count): \(shown)\(more)"
            return "\(file): no tensor \(quoted(name)) (\(list))"
        case .shapeMismatch(let file, let name, let found, let expected):
            return "\(file): tensor \(quoted(name)) has shape \(shapeText(found)), expected \(shapeText(expected))"
        case .unreadableTensor(let file, let name, let reason):
            return "\(file): tensor \(quoted(name)): \(reason)"
        case .missingMetadata(let file, let key):
            return "\(file): the metadata has no \(quoted(key)) entry"
        case .invalidMetadataValue(let file, let key, let value, let expected):
            return "\(file): metadata \(quoted(key)) is \(quoted(value)), expected \(expected)"
        case .newerFormatVersion(let file, let found, let supported):
            return "\(file): written by a newer version (\(found)); this build reads up to \(supported)"
        case .cannotEncode(let file, let reason):
            return "\(file): cannot encode as safetensors: \(reason)"
        case .writeFailed(let file, let reason):
            return "\(file): cannot write the file: \(reason)"
        }
    }
}

/// A string in single quotes for a one-line message: control characters escaped, and cut
/// after 80 characters so that a huge name from a damaged file cannot flood the output.
func quoted(_ text: String) -> String {
    var result = "'"
    var count = 0
    for scalar in text.unicodeScalars {
        if count == 80 { result += "..."; break }
        count += 1
        switch scalar {
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        case "'": result += "\\'"
        case "\\": result += "\\\\"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029 {
                result += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "'"
}

/// A shape as `[784, 500]` (at most 16 dimensions shown).
func shapeText(_ shape: [Int]) -> String {
    let shown = shape.prefix(16).map(String.init).joined(separator: ", ")
    return "[" + shown + (shape.count > 16 ? ", ... (\(shape.count) dimensions)" : "") + "]"
}

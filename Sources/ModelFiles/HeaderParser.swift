/// One tensor entry of a safetensors header, as written (not yet checked against the buffer).
struct HeaderEntry: Sendable {
    let name: String
    let dtype: DType
    let shape: [Int]
    /// Byte range in the data buffer (begin <= end, both checked non-negative).
    let begin: Int
    let end: Int
}

/// A parsed safetensors header: entries in header order, and the metadata.
struct Header: Sendable {
    var entries: [HeaderEntry] = []
    var metadata: [String: String] = [:]
}

/// A strict JSON parser for exactly what a safetensors header may hold: an object of tensor
/// entries `{"dtype": "F32", "shape": [..], "data_offsets": [b, e]}` and an optional
/// `__metadata__` object of strings (or `null`, which the reference reader also accepts).
///
/// It reads the schema directly instead of building a JSON tree, so memory stays within a
/// small multiple of the header size; unknown fields inside a tensor entry are skipped (as the
/// reference reader does). Follows RFC 8259: no comments, no trailing commas, no leading zeros,
/// strings without raw control characters, `\u` escapes with paired surrogates; nesting is
/// limited to 127 levels, the most the reference reader (serde_json's recursion limit of
/// 128) accepts. The bytes must already be valid UTF-8.
/// Every failure is a `SafeTensorsError`; nothing in here traps on any input.
struct HeaderParser {
    let bytes: [UInt8]
    var position: Int
    let end: Int
    let file: String

    static let maximumDepth = 127

    /// A parser over `bytes[range]`; error offsets are indices into `bytes`.
    init(bytes: [UInt8], range: Range<Int>, file: String) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.file = file
    }

    // MARK: - The header's structure

    /// Parses the whole header; only whitespace may follow the top-level object.
    mutating func parse() throws(SafeTensorsError) -> Header {
        skipWhitespace()
        guard let first = peek() else { throw invalid("the header is empty") }
        guard first == UInt8(ascii: "{") else {
            if let kind = valueKind(first) { throw .headerNotObject(file: file, found: kind) }
            throw unexpected("a JSON object")
        }
        var header = Header()
        var names = Set<String>()
        var sawMetadata = false
        try parseObject(depth: 1) { (parser: inout HeaderParser, key: String) throws(SafeTensorsError) in
            if key == "__metadata__" {
                if sawMetadata { throw .invalidMetadata(file: parser.file, key: nil, reason: "'__metadata__' appears twice") }
                sawMetadata = true
                header.metadata = try parser.parseMetadata()
            } else {
                if names.contains(key) { throw .duplicateTensorName(file: parser.file, name: key) }
                names.insert(key)
                header.entries.append(try parser.parseTensorEntry(name: key))
            }
        }
        skipWhitespace()
        if position < end { throw invalid("unexpected bytes after the header object") }
        return header
    }

    /// `__metadata__`: an object of string values, or `null` (no metadata).
    mutating func parseMetadata() throws(SafeTensorsError) -> [String: String] {
        try checkValueStart()
        guard let first = peek() else { throw unexpected("a value") }
        if first == UInt8(ascii: "n") {
            try parseLiteral("null")
            return [:]
        }
        guard first == UInt8(ascii: "{") else {
            throw .invalidMetadata(file: file, key: nil, reason: "expected an object of strings, found \(describeValue())")
        }
        var metadata: [String: String] = [:]
        try parseObject(depth: 2) { (parser: inout HeaderParser, key: String) throws(SafeTensorsError) in
            try parser.checkValueStart()
            guard parser.peek() == UInt8(ascii: "\"") else {
                throw .invalidMetadata(file: parser.file, key: key, reason: "expected a string value, found \(parser.describeValue())")
            }
            let value = try parser.parseString()
            if metadata[key] != nil {
                throw .invalidMetadata(file: parser.file, key: key, reason: "the key appears twice")
            }
            metadata[key] = value
        }
        return metadata
    }

    /// One tensor entry: `{"dtype": ..., "shape": [...], "data_offsets": [begin, end]}`.
    mutating func parseTensorEntry(name: String) throws(SafeTensorsError) -> HeaderEntry {
        try checkValueStart()
        guard peek() == UInt8(ascii: "{") else {
            throw .wrongFieldType(file: file, tensor: name, field: "",
                                  expected: "an object with dtype, shape and data_offsets", found: describeValue())
        }
        var dtype: DType?
        var shape: [Int]?
        var offsets: (begin: Int, end: Int)?
        try parseObject(depth: 2) { (parser: inout HeaderParser, key: String) throws(SafeTensorsError) in
            switch key {
            case "dtype":
                if dtype != nil { throw .duplicateField(file: parser.file, tensor: name, field: key) }
                dtype = try parser.parseDType(tensor: name)
            case "shape":
                if shape != nil { throw .duplicateField(file: parser.file, tensor: name, field: key) }
                shape = try parser.parseShape(tensor: name)
            case "data_offsets":
                if offsets != nil { throw .duplicateField(file: parser.file, tensor: name, field: key) }
                offsets = try parser.parseOffsets(tensor: name)
            default:
                try parser.skipValue(depth: 3)  // unknown fields are ignored, as by the reference reader
            }
        }
        guard let dtype else { throw .missingField(file: file, tensor: name, field: "dtype") }
        guard let shape else { throw .missingField(file: file, tensor: name, field: "shape") }
        guard let offsets else { throw .missingField(file: file, tensor: name, field: "data_offsets") }
        return HeaderEntry(name: name, dtype: dtype, shape: shape, begin: offsets.begin, end: offsets.end)
    }

    mutating func parseDType(tensor: String) throws(SafeTensorsError) -> DType {
        try checkValueStart()
        guard peek() == UInt8(ascii: "\"") else {
            throw .wrongFieldType(file: file, tensor: tensor, field: "dtype",
                                  expected: "a string such as \"F32\"", found: describeValue())
        }
        let text = try parseString()
        guard let dtype = DType(rawValue: text) else { throw .unknownDType(file: file, tensor: tensor, dtype: text) }
        return dtype
    }

    mutating func parseShape(tensor: String) throws(SafeTensorsError) -> [Int] {
        try checkValueStart()
        guard peek() == UInt8(ascii: "[") else {
            throw .wrongFieldType(file: file, tensor: tensor, field: "shape",
                                  expected: "an array of non-negative integers", found: describeValue())
        }
        var shape: [Int] = []
        try parseArray(depth: 3) { (parser: inout HeaderParser, index: Int) throws(SafeTensorsError) in
            try parser.checkValueStart()
            guard let first = parser.peek(), first == UInt8(ascii: "-") || isDigit(first) else {
                throw .wrongFieldType(file: parser.file, tensor: tensor, field: "shape",
                                      expected: "an array of non-negative integers",
                                      found: "\(parser.describeValue()) at index \(index)")
            }
            let number = try parser.scanNumber()
            let text = parser.text(of: number.range)
            if number.negative {
                throw .invalidShape(file: parser.file, tensor: tensor, reason: "dimension \(index) is \(text), expected a non-negative integer")
            }
            if !number.isInteger {
                throw .invalidShape(file: parser.file, tensor: tensor, reason: "dimension \(index) is \(text), expected an integer")
            }
            guard let value = parser.integerValue(number) else {
                throw .invalidShape(file: parser.file, tensor: tensor, reason: "dimension \(index) is \(text), which is too large")
            }
            shape.append(value)
        }
        return shape
    }

    mutating func parseOffsets(tensor: String) throws(SafeTensorsError) -> (begin: Int, end: Int) {
        let expectation = "expected two non-negative integers [begin, end]"
        try checkValueStart()
        guard peek() == UInt8(ascii: "[") else {
            throw .wrongFieldType(file: file, tensor: tensor, field: "data_offsets",
                                  expected: "an array of two non-negative integers", found: describeValue())
        }
        var values: [Int] = []
        try parseArray(depth: 3) { (parser: inout HeaderParser, index: Int) throws(SafeTensorsError) in
            if index >= 2 {
                throw .invalidOffsets(file: parser.file, tensor: tensor, reason: "\(expectation), found more than two values")
            }
            try parser.checkValueStart()
            guard let first = parser.peek(), first == UInt8(ascii: "-") || isDigit(first) else {
                throw .wrongFieldType(file: parser.file, tensor: tensor, field: "data_offsets",
                                      expected: "an array of two non-negative integers",
                                      found: "\(parser.describeValue()) at index \(index)")
            }
            let number = try parser.scanNumber()
            let text = parser.text(of: number.range)
            guard !number.negative, number.isInteger else {
                throw .invalidOffsets(file: parser.file, tensor: tensor, reason: "\(expectation), found \(text)")
            }
            guard let value = parser.integerValue(number) else {
                throw .invalidOffsets(file: parser.file, tensor: tensor, reason: "\(text) is too large")
            }
            values.append(value)
        }
        guard values.count == 2 else {
            throw .invalidOffsets(file: file, tensor: tensor, reason: "\(expectation), found \(values.count) value\(values.count == 1 ? "" : "s")")
        }
        guard values[0] <= values[1] else {
            throw .invalidOffsets(file: file, tensor: tensor, reason: "begin \(values[0]) is after end \(values[1])")
        }
        return (values[0], values[1])
    }
}

/// The index of the first byte in `bytes[range]` that breaks UTF-8 (overlong forms,
/// surrogates and values above U+10FFFF included), or nil if the range is valid.
func firstInvalidUTF8(_ bytes: [UInt8], in range: Range<Int>) -> Int? {
    var i = range.lowerBound
    let end = range.upperBound
    while i < end {
        let lead = bytes[i]
        if lead < 0x80 { i += 1; continue }
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF  // the allowed range of the second byte
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return i
        }
        guard end - i >= length else { return i }
        guard (low...high).contains(bytes[i + 1]) else { return i }
        for k in 2..<length where !(0x80...0xBF).contains(bytes[i + k]) { return i }
        i += length
    }
    return nil
}

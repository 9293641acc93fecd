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
    private let bytes: [UInt8]
    private var position: Int
    private let end: Int
    private let file: String

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
    private mutating func parseMetadata() throws(SafeTensorsError) -> [String: String] {
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
    private mutating func parseTensorEntry(name: String) throws(SafeTensorsError) -> HeaderEntry {
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

    private mutating func parseDType(tensor: String) throws(SafeTensorsError) -> DType {
        try checkValueStart()
        guard peek() == UInt8(ascii: "\"") else {
            throw .wrongFieldType(file: file, tensor: tensor, field: "dtype",
                                  expected: "a string such as \"F32\"", found: describeValue())
        }
        let text = try parseString()
        guard let dtype = DType(rawValue: text) else { throw .unknownDType(file: file, tensor: tensor, dtype: text) }
        return dtype
    }

    private mutating func parseShape(tensor: String) throws(SafeTensorsError) -> [Int] {
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

    private mutating func parseOffsets(tensor: String) throws(SafeTensorsError) -> (begin: Int, end: Int) {
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

    // MARK: - Generic JSON

    /// Parses `{ "key": value, ... }`; `member` must consume the value after the colon.
    private mutating func parseObject(
        depth: Int, _ member: (inout HeaderParser, String) throws(SafeTensorsError) -> Void
    ) throws(SafeTensorsError) {
        guard depth <= Self.maximumDepth else { throw invalid("nesting deeper than \(Self.maximumDepth) levels") }
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { position += 1; return }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw unexpected("a string key") }
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try member(&self, key)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): position += 1; return
            default: throw unexpected("',' or '}'")
            }
        }
    }

    /// Parses `[ value, ... ]`; `element` must consume one value (its index is given).
    private mutating func parseArray(
        depth: Int, _ element: (inout HeaderParser, Int) throws(SafeTensorsError) -> Void
    ) throws(SafeTensorsError) {
        guard depth <= Self.maximumDepth else { throw invalid("nesting deeper than \(Self.maximumDepth) levels") }
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { position += 1; return }
        var index = 0
        while true {
            skipWhitespace()
            try element(&self, index)
            index += 1
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"): position += 1; return
            default: throw unexpected("',' or ']'")
            }
        }
    }

    /// Checks and skips any JSON value (for unknown fields).
    private mutating func skipValue(depth: Int) throws(SafeTensorsError) {
        guard let first = peek() else { throw unexpected("a value") }
        switch first {
        case UInt8(ascii: "{"):
            try parseObject(depth: depth) { (parser: inout HeaderParser, _: String) throws(SafeTensorsError) in
                try parser.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            try parseArray(depth: depth) { (parser: inout HeaderParser, _: Int) throws(SafeTensorsError) in
                try parser.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "\""): _ = try parseString()
        case UInt8(ascii: "t"): try parseLiteral("true")
        case UInt8(ascii: "f"): try parseLiteral("false")
        case UInt8(ascii: "n"): try parseLiteral("null")
        default:
            guard first == UInt8(ascii: "-") || isDigit(first) else { throw unexpected("a value") }
            _ = try scanNumber()
        }
    }

    private mutating func parseLiteral(_ literal: StaticString) throws(SafeTensorsError) {
        let count = literal.utf8CodeUnitCount
        guard end - position >= count else { throw unexpected("'\(literal)'") }
        let start = literal.utf8Start
        for i in 0..<count where bytes[position + i] != start[i] {
            throw unexpected("'\(literal)'")
        }
        position += count
    }

    /// A JSON string starting at the opening quote, with its escapes resolved.
    private mutating func parseString() throws(SafeTensorsError) -> String {
        try expect(UInt8(ascii: "\""))
        var segmentStart = position
        var decoded: [UInt8] = []  // only used once an escape appears
        var escaped = false
        while true {
            guard position < end else { throw invalid("a string is not closed") }
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                let tail = bytes[segmentStart..<position]
                position += 1
                guard escaped else { return String(decoding: tail, as: UTF8.self) }
                decoded.append(contentsOf: tail)
                return String(decoding: decoded, as: UTF8.self)
            case UInt8(ascii: "\\"):
                escaped = true
                decoded.append(contentsOf: bytes[segmentStart..<position])
                try parseEscape(into: &decoded)
                segmentStart = position
            case 0..<0x20:
                throw invalid("a control character (0x\(String(byte, radix: 16))) inside a string; it must be escaped")
            default:
                position += 1
            }
        }
    }

    /// Resolves one escape sequence starting at the backslash, appending its UTF-8 bytes.
    private mutating func parseEscape(into buffer: inout [UInt8]) throws(SafeTensorsError) {
        position += 1  // the backslash
        guard let kind = peek() else { throw invalid("a string is not closed") }
        position += 1
        switch kind {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(kind)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard end - position >= 6, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                else { throw invalid("a lone surrogate \\u\(String(scalar, radix: 16)) in a string") }
                position += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw invalid("a lone surrogate \\u\(String(scalar, radix: 16)) in a string")
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw invalid("a lone surrogate \\u\(String(scalar, radix: 16)) in a string")
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw invalid("an invalid \\u escape") }
            buffer.append(contentsOf: Array(String(Character(unicode)).utf8))
        default:
            position -= 1
            throw invalid("an invalid escape sequence in a string")
        }
    }

    private mutating func parseHex4() throws(SafeTensorsError) -> UInt32 {
        guard end - position >= 4 else { throw invalid("a \\u escape needs four hex digits") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw invalid("a \\u escape needs four hex digits")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// A JSON number token: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    struct NumberToken {
        let range: Range<Int>
        let digits: Range<Int>  // the integer part without the sign
        let negative: Bool
        let isInteger: Bool  // no fraction and no exponent
    }

    private mutating func scanNumber() throws(SafeTensorsError) -> NumberToken {
        let start = position
        let negative = peek() == UInt8(ascii: "-")
        if negative { position += 1 }
        let digitsStart = position
        guard let first = peek(), isDigit(first) else { throw unexpected("a digit") }
        position += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        let digitsEnd = position
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard let d = peek(), isDigit(d) else { throw unexpected("a digit after '.'") }
            skipDigits()
            isInteger = false
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            position += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { position += 1 }
            guard let d = peek(), isDigit(d) else { throw unexpected("a digit in the exponent") }
            skipDigits()
            isInteger = false
        }
        return NumberToken(range: start..<position, digits: digitsStart..<digitsEnd, negative: negative, isInteger: isInteger)
    }

    /// The value of an integer token's digits, or nil above `Int.max`.
    private func integerValue(_ token: NumberToken) -> Int? {
        var value = 0
        for i in token.digits {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(Int(bytes[i] - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = next
        }
        return value
    }

    // MARK: - Bytes

    /// Throws invalid JSON unless a value can start at the current position (so that a
    /// truncated or garbled header is reported as such, not as a wrongly typed field).
    private func checkValueStart() throws(SafeTensorsError) {
        guard let byte = peek(), valueKind(byte) != nil else { throw unexpected("a value") }
    }

    private func peek() -> UInt8? { position < end ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while position < end {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { position += 1 }
    }

    private mutating func expect(_ byte: UInt8) throws(SafeTensorsError) {
        guard peek() == byte else { throw unexpected("'\(Character(Unicode.Scalar(byte)))'") }
        position += 1
    }

    /// The text of a token, cut after 40 characters (for messages).
    private func text(of range: Range<Int>) -> String {
        let cut = range.lowerBound..<min(range.upperBound, range.lowerBound + 40)
        return String(decoding: bytes[cut], as: UTF8.self) + (cut.count < range.count ? "..." : "")
    }

    /// What the value at the current position looks like, for messages ("a string", "-3", ...).
    private func describeValue() -> String {
        guard let first = peek() else { return "the end of the header" }
        if first == UInt8(ascii: "-") || isDigit(first) {
            var scan = self
            if let token = try? scan.scanNumber() { return "the number \(text(of: token.range))" }
        }
        return valueKind(first) ?? "invalid JSON"
    }

    /// The kind of JSON value that starts with `byte`, or nil if none does.
    private func valueKind(_ byte: UInt8) -> String? {
        switch byte {
        case UInt8(ascii: "{"): "an object"
        case UInt8(ascii: "["): "an array"
        case UInt8(ascii: "\""): "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): "a boolean"
        case UInt8(ascii: "n"): "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): "a number"
        default: nil
        }
    }

    private func invalid(_ reason: String) -> SafeTensorsError {
        .invalidJSON(file: file, offset: position, reason: reason)
    }

    /// "expected X, found Y" at the current position.
    private func unexpected(_ expectation: String) -> SafeTensorsError {
        guard let byte = peek() else { return invalid("expected \(expectation), found the end of the header") }
        let shown = (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        return invalid("expected \(expectation), found \(shown)")
    }
}

@inline(__always) private func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
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

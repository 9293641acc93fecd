// The generic JSON layer of `HeaderParser` (objects, arrays, strings, numbers, bytes); the
// header schema itself is in HeaderParser.swift.

extension HeaderParser {
    // MARK: - Generic JSON

    /// Parses `{ "key": value, ... }`; `member` must consume the value after the colon.
    mutating func parseObject(
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
    mutating func parseArray(
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
    mutating func skipValue(depth: Int) throws(SafeTensorsError) {
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

    mutating func parseLiteral(_ literal: StaticString) throws(SafeTensorsError) {
        let count = literal.utf8CodeUnitCount
        guard end - position >= count else { throw unexpected("'\(literal)'") }
        let start = literal.utf8Start
        for i in 0..<count where bytes[position + i] != start[i] {
            throw unexpected("'\(literal)'")
        }
        position += count
    }

    /// A JSON string starting at the opening quote, with its escapes resolved.
    mutating func parseString() throws(SafeTensorsError) -> String {
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
    mutating func parseEscape(into buffer: inout [UInt8]) throws(SafeTensorsError) {
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

    mutating func parseHex4() throws(SafeTensorsError) -> UInt32 {
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

    mutating func scanNumber() throws(SafeTensorsError) -> NumberToken {
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
    func integerValue(_ token: NumberToken) -> Int? {
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
    func checkValueStart() throws(SafeTensorsError) {
        guard let byte = peek(), valueKind(byte) != nil else { throw unexpected("a value") }
    }

    func peek() -> UInt8? { position < end ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while position < end {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { position += 1 }
    }

    mutating func expect(_ byte: UInt8) throws(SafeTensorsError) {
        guard peek() == byte else { throw unexpected("'\(Character(Unicode.Scalar(byte)))'") }
        position += 1
    }

    /// The text of a token, cut after 40 characters (for messages).
    func text(of range: Range<Int>) -> String {
        let cut = range.lowerBound..<min(range.upperBound, range.lowerBound + 40)
        return String(decoding: bytes[cut], as: UTF8.self) + (cut.count < range.count ? "..." : "")
    }

    /// What the value at the current position looks like, for messages ("a string", "-3", ...).
    func describeValue() -> String {
        guard let first = peek() else { return "the end of the header" }
        if first == UInt8(ascii: "-") || isDigit(first) {
            var scan = self
            if let token = try? scan.scanNumber() { return "the number \(text(of: token.range))" }
        }
        return valueKind(first) ?? "invalid JSON"
    }

    /// The kind of JSON value that starts with `byte`, or nil if none does.
    func valueKind(_ byte: UInt8) -> String? {
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

    func invalid(_ reason: String) -> SafeTensorsError {
        .invalidJSON(file: file, offset: position, reason: reason)
    }

    /// "expected X, found Y" at the current position.
    func unexpected(_ expectation: String) -> SafeTensorsError {
        guard let byte = peek() else { return invalid("expected \(expectation), found the end of the header") }
        let shown = (0x21..<0x7F).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        return invalid("expected \(expectation), found \(shown)")
    }
}

@inline(__always) func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
}

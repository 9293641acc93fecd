extension SafeTensors {
    /// The content of a safetensors file held in `bytes`; `source` names it in errors.
    ///
    /// Checks everything the reference reader checks, and more: the header length (at least
    /// 8 bytes, at most 100,000,000, inside the file); UTF-8; strict JSON; an object whose
    /// entries have a known dtype, a shape of non-negative integers and `data_offsets` of two
    /// non-decreasing integers; `__metadata__` holding only strings; no duplicate names; each
    /// byte range the exact size of its shape and inside the buffer; ranges neither
    /// overlapping nor leaving holes, and covering the whole buffer. Memory use is bounded by
    /// a small multiple of `bytes.count` whatever the header claims, and no input traps.
    ///
    /// Accepts what Python's `safetensors` (0.8) accepts, with three deliberate exceptions:
    /// a repeated tensor name or metadata key is an error here (the reference keeps the last
    /// one silently), and the sub-byte dtypes F4, F6_E2M3 and F6_E3M2 are refused. Names and
    /// keys are compared as Swift strings, by Unicode canonical equivalence: two spellings of
    /// one name ("é" as U+00E9, and as "e" + U+0301) are a repeated name here, while the
    /// reference compares bytes and keeps both.
    public static func decode(_ bytes: [UInt8], source: String = "(in memory)") throws(SafeTensorsError) -> SafeTensors {
        guard bytes.count >= 8 else { throw .fileTooShort(file: source, size: bytes.count) }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << UInt64(8 * i) }
        guard length <= UInt64(maximumHeaderLength) else {
            throw .headerTooLarge(file: source, length: length, limit: maximumHeaderLength)
        }
        guard length <= UInt64(bytes.count - 8) else {
            throw .headerPastEnd(file: source, length: length, available: bytes.count - 8)
        }
        let bufferStart = 8 + Int(length)
        if let bad = firstInvalidUTF8(bytes, in: 8..<bufferStart) {
            throw .headerNotUTF8(file: source, offset: bad)
        }
        var parser = HeaderParser(bytes: bytes, range: 8..<bufferStart, file: source)
        let header = try parser.parse()
        let bufferSize = bytes.count - bufferStart
        try checkLayout(of: header.entries, bufferSize: bufferSize, file: source)

        var result = SafeTensors(metadata: header.metadata, source: source)
        for entry in header.entries {
            let range = (bufferStart + entry.begin)..<(bufferStart + entry.end)
            result[entry.name] = Tensor(validated: entry.dtype, shape: entry.shape, bytes: Array(bytes[range]))
        }
        return result
    }

    /// Checks each entry's size against its shape, then that the ranges tile the buffer.
    private static func checkLayout(of entries: [HeaderEntry], bufferSize: Int, file: String) throws(SafeTensorsError) {
        for entry in entries {
            guard let count = Tensor.elementCount(of: entry.shape),
                  case let (size, overflow) = count.multipliedReportingOverflow(by: entry.dtype.byteWidth), !overflow
            else { throw .shapeOverflow(file: file, tensor: entry.name, shape: entry.shape) }
            guard entry.end - entry.begin == size else {
                throw .sizeMismatch(file: file, tensor: entry.name, dtype: entry.dtype, shape: entry.shape,
                                    expected: size, found: entry.end - entry.begin)
            }
            guard entry.end <= bufferSize else {
                throw .offsetsPastEnd(file: file, tensor: entry.name, end: entry.end, bufferSize: bufferSize)
            }
        }
        // In buffer order, each range must start where the previous one ended.
        let order = entries.indices.sorted { i, j in
            let a = entries[i], b = entries[j]
            if a.begin != b.begin { return a.begin < b.begin }
            if a.end != b.end { return a.end < b.end }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        var covered = 0
        var previous = ""
        for index in order {
            let entry = entries[index]
            if entry.begin < covered {
                throw .overlappingTensors(file: file, tensor: entry.name, other: previous)
            }
            if entry.begin > covered {
                throw .uncoveredBytes(file: file, begin: covered, end: entry.begin)
            }
            covered = entry.end
            previous = entry.name
        }
        if covered != bufferSize {
            throw .uncoveredBytes(file: file, begin: covered, end: bufferSize)
        }
    }
}

extension SafeTensors {
    /// The largest header the reference reader accepts (100,000,000 bytes); `decode` rejects
    /// a longer one and `encode` refuses to write it.
    public static let maximumHeaderLength = 100_000_000

    /// The file's bytes, laid out as the reference writer (huggingface/safetensors) does.
    ///
    /// - 8 bytes: the header length N, little-endian `UInt64`;
    /// - N bytes: compact JSON, `__metadata__` first (keys sorted), then the tensors in
    ///   buffer order, each `{"dtype":"F32","shape":[..],"data_offsets":[begin,end]}`, padded
    ///   with spaces so that the buffer starts at a multiple of 8;
    /// - the buffer: tensors sorted by descending alignment (U64, I64, F64, ... BOOL), then by
    ///   name (UTF-8 byte order), so that each starts at a multiple of its element width.
    ///
    /// Equal contents give identical bytes; with at most one metadata entry they are also
    /// identical to Python's `safetensors.numpy.save` of the same arrays. Throws
    /// `cannotEncode` for a tensor named `__metadata__` or a header above the limit.
    public func encode() throws(SafeTensorsError) -> [UInt8] {
        try encode(file: source)
    }

    func encode(file: String) throws(SafeTensorsError) -> [UInt8] {
        let entries = tensors.sorted { a, b in
            if a.tensor.dtype.writerRank != b.tensor.dtype.writerRank {
                return a.tensor.dtype.writerRank > b.tensor.dtype.writerRank
            }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        if entries.contains(where: { $0.name == "__metadata__" }) {
            throw .cannotEncode(file: file, reason: "a tensor is named '__metadata__', which the format reserves for metadata")
        }

        var header: [UInt8] = [UInt8(ascii: "{")]
        var needsComma = false
        if !metadata.isEmpty {
            header.append(contentsOf: Array("\"__metadata__\":{".utf8))
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (i, key) in keys.enumerated() {
                if i > 0 { header.append(UInt8(ascii: ",")) }
                appendJSONString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                appendJSONString(metadata[key] ?? "", to: &header)
            }
            header.append(UInt8(ascii: "}"))
            needsComma = true
        }
        var offset = 0
        for (name, tensor) in entries {
            if needsComma { header.append(UInt8(ascii: ",")) }
            needsComma = true
            appendJSONString(name, to: &header)
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            let end = offset + tensor.bytes.count
            let fields = ":{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}"
            header.append(contentsOf: Array(fields.utf8))
            offset = end
        }
        header.append(UInt8(ascii: "}"))
        // Pad with spaces (JSON whitespace) so that the buffer starts 8-byte aligned.
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        guard header.count <= Self.maximumHeaderLength else {
            throw .cannotEncode(file: file, reason: "the header would take \(header.count) bytes, above the limit of \(Self.maximumHeaderLength)")
        }

        var output: [UInt8] = []
        output.reserveCapacity(8 + header.count + offset)
        let length = UInt64(header.count)
        for shift in stride(from: 0, to: 64, by: 8) { output.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
        output.append(contentsOf: header)
        for (_, tensor) in entries { output.append(contentsOf: tensor.bytes) }
        return output
    }
}

/// Appends `text` as a JSON string, escaped as serde_json (the reference writer) does:
/// `"` and `\` with a backslash, \b \f \n \r \t by name, other control characters as
/// `\u00xx` (lowercase hex), everything else (non-ASCII included) as raw UTF-8.
func appendJSONString(_ text: String, to output: inout [UInt8]) {
    let hex = Array("0123456789abcdef".utf8)
    output.append(UInt8(ascii: "\""))
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
        case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
        case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0..<0x20:
            output.append(contentsOf: Array("\\u00".utf8))
            output.append(hex[Int(byte >> 4)])
            output.append(hex[Int(byte & 0x0F)])
        default: output.append(byte)
        }
    }
    output.append(UInt8(ascii: "\""))
}

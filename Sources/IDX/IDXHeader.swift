/// The header of IDX content, checked: magic number, type, rank, dimensions, and a data size
/// that does not overflow. Says nothing yet about whether the data is there.
struct IDXHeader: Sendable {
    /// The most bytes a header can take: the magic number and 255 dimensions.
    static let maximumSize = 4 + 4 * 255

    let dataType: IDXDataType
    let shape: [Int]
    /// Number of values (the product of `shape`).
    let count: Int
    /// Bytes of data the header claims: `count * dataType.byteWidth`.
    let dataBytes: Int
    /// Bytes of the header itself: `4 + 4 * rank`.
    var size: Int { 4 + 4 * shape.count }

    /// Parses the header at the start of `bytes` (more bytes may follow).
    /// - Parameter gzipped: whether `bytes` came out of gunzip (for the error messages).
    /// - Throws: `.emptyFile`, `.badMagic`, `.truncatedHeader`, `.unknownType`, `.rankZero`,
    ///   `.sizeOverflow`, naming `name`.
    static func parse(_ bytes: [UInt8], name: String, gzipped: Bool) throws(IDXError) -> IDXHeader {
        let total = bytes.count
        if total == 0 {
            throw gzipped ? .truncatedHeader(file: name, expectedBytes: 4, foundBytes: 0, gzipped: true)
                          : .emptyFile(file: name)
        }
        if bytes[0] != 0 || (total > 1 && bytes[1] != 0) {
            throw .badMagic(file: name, found: Array(bytes.prefix(4)))
        }
        if total < 4 { throw .truncatedHeader(file: name, expectedBytes: 4, foundBytes: total, gzipped: gzipped) }
        guard let dataType = IDXDataType(code: bytes[2]) else { throw .unknownType(file: name, code: bytes[2]) }
        let rank = Int(bytes[3])
        if rank == 0 { throw .rankZero(file: name) }
        let headerSize = 4 + 4 * rank
        if total < headerSize {
            throw .truncatedHeader(file: name, expectedBytes: headerSize, foundBytes: total, gzipped: gzipped)
        }

        var shape = [Int]()
        shape.reserveCapacity(rank)
        for d in 0..<rank {
            let at = 4 + 4 * d
            let size = UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16
                | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
            shape.append(Int(size))
        }
        // The claimed data size, checked for overflow before it is compared or used (a zero
        // dimension makes it zero, wherever it stands).
        guard let count = IDXArray.elementCount(of: shape),
              case let (dataBytes, overflow) = count.multipliedReportingOverflow(by: dataType.byteWidth), !overflow
        else { throw .sizeOverflow(file: name, dataType: dataType, shape: shape) }
        return IDXHeader(dataType: dataType, shape: shape, count: count, dataBytes: dataBytes)
    }
}

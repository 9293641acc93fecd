import Testing
import Zlib
#if canImport(Glibc)
import Glibc
#endif
@testable import IDX

/// Checks that `error` names `file` at the start of a one-line description.
private func expectOneLine(_ error: IDXError?, naming file: String, contains fragments: [String] = [],
                           sourceLocation: SourceLocation = #_sourceLocation) {
    guard let error else {
        Issue.record("expected an error", sourceLocation: sourceLocation)
        return
    }
    let text = error.description
    #expect(text.hasPrefix(file + ": "), "\(text)", sourceLocation: sourceLocation)
    #expect(!text.contains("\n"), sourceLocation: sourceLocation)
    #expect(error.file == file, sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(text.contains(fragment), "\(text) lacks \(fragment)", sourceLocation: sourceLocation)
    }
}

/// The error from reading `bytes` written to a temporary file called `name`.
private func readError(_ bytes: [UInt8], name: String = "bad-idx3-ubyte",
                       decompressionCap: Int = IDXFile.defaultDecompressionCap) throws -> (IDXError?, String) {
    let folder = try TemporaryFolder()
    defer { folder.remove() }
    let path = try folder.write(bytes, to: name)
    return (caught { () throws(IDXError) in try IDXFile.read(path, decompressionCap: decompressionCap) }, path)
}

@Suite("IDX errors")
struct IDXErrorTests {
    // MARK: The file system

    @Test func fileNotFound() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.file("train-images-idx3-ubyte.gz")
        let error = caught { () throws(IDXError) in try IDXFile.read(path) }
        #expect(error == .fileNotFound(path: path))
        expectOneLine(error, naming: path, contains: ["file not found"])
    }

    @Test func folderInsteadOfFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let error = caught { () throws(IDXError) in try IDXFile.read(folder.path) }
        #expect(error == .isDirectory(path: folder.path))
        expectOneLine(error, naming: folder.path, contains: ["found a folder"])
    }

    @Test("a file that cannot be opened (a socket, which even root cannot open)")
    func unreadableSocket() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.file("socket-idx3-ubyte")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in path.utf8.enumerated() { buffer[i] = byte }
            buffer[path.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0)
        let error = caught { () throws(IDXError) in try IDXFile.read(path) }
        guard case .unreadable(let p, _) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(p == path)
        expectOneLine(error, naming: path, contains: ["cannot read the file"])
    }

    @Test("a file without read permission", .enabled(if: geteuid() != 0, "root reads any file"))
    func unreadablePermissions() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = try folder.write(idxU8(shape: [1], values: [0]), to: "locked-idx1-ubyte")
        chmod(path, 0)
        let error = caught { () throws(IDXError) in try IDXFile.read(path) }
        #expect(error == .unreadable(path: path, reason: "Permission denied"))
        expectOneLine(error, naming: path, contains: ["Permission denied"])
    }

    // MARK: Headers

    @Test func emptyFile() throws {
        let (error, path) = try readError([])
        #expect(error == .emptyFile(file: path))
        expectOneLine(error, naming: path, contains: ["empty file"])
    }

    @Test("content ending inside the header (before the dimensions, and inside them)")
    func truncatedHeader() throws {
        let (short, path) = try readError([0, 0, 8])
        #expect(short == .truncatedHeader(file: path, expectedBytes: 4, foundBytes: 3, gzipped: false))
        expectOneLine(short, naming: path, contains: ["expected at least 4 bytes", "found 3"])

        let (inDims, path2) = try readError([0, 0, 8, 3, 0, 0, 0, 1, 0, 0])
        #expect(inDims == .truncatedHeader(file: path2, expectedBytes: 16, foundBytes: 10, gzipped: false))
        expectOneLine(inDims, naming: path2, contains: ["shorter than its header", "16", "10"])

        let (gzipped, path3) = try readError(ZlibCodec.gzip([0, 0, 8, 2, 0, 0, 0, 1]))
        #expect(gzipped == .truncatedHeader(file: path3, expectedBytes: 12, foundBytes: 8, gzipped: true))
        expectOneLine(gzipped, naming: path3, contains: ["after gunzip"])
    }

    @Test("bad magic: the brief's example, a file gzipped twice, and an HTML page")
    func badMagic() throws {
        let twice = ZlibCodec.gzip(ZlibCodec.gzip(idxU8(shape: [1], values: [0])))
        let error = caught { () throws(IDXError) in try IDXFile.decode(twice, name: "train-images-idx3-ubyte.gz") }
        #expect(error == .badMagic(file: "train-images-idx3-ubyte.gz", found: [0x1F, 0x8B, 0x08, 0x00]))
        #expect(error?.description.hasPrefix(
            "train-images-idx3-ubyte.gz: bad magic number: expected two zero bytes then a type code, found 0x1f8b0800") == true)
        expectOneLine(error, naming: "train-images-idx3-ubyte.gz", contains: ["gzipped twice"])

        let (html, path) = try readError(Array("<!DOCTYPE html>".utf8))
        #expect(html == .badMagic(file: path, found: Array("<!DO".utf8)))
        expectOneLine(html, naming: path, contains: ["found 0x3c21444f", "\"<!DO\""])

        let (oneByte, path2) = try readError([7])
        #expect(oneByte == .badMagic(file: path2, found: [7]))
        let (secondByte, path3) = try readError([0, 1, 8, 1, 0, 0, 0, 0])
        #expect(secondByte == .badMagic(file: path3, found: [0, 1, 8, 1]))
    }

    @Test func unknownTypeCode() throws {
        let (error, path) = try readError(idxHeader(type: 0x0A, shape: [1]) + [0])
        #expect(error == .unknownType(file: path, code: 0x0A))
        expectOneLine(error, naming: path, contains: ["unknown type code 0x0a", "0x08 (u8)", "0x0e (f64)"])
    }

    @Test func rankZero() throws {
        let (error, path) = try readError([0, 0, 8, 0, 42])
        #expect(error == .rankZero(file: path))
        expectOneLine(error, naming: path, contains: ["rank 0"])
    }

    @Test("dimensions whose product overflows Int (count, and count times the width)")
    func sizeOverflow() throws {
        let huge = UInt32.max
        let (error, path) = try readError(idxHeader(type: 0x08, shape: [huge, huge, huge]) + [1, 2, 3])
        #expect(error == .sizeOverflow(file: path, dataType: .uint8, shape: [Int(huge), Int(huge), Int(huge)]))
        expectOneLine(error, naming: path, contains: ["overflow"])

        // (2^32 - 1)^2 fits in Int, times 8 bytes does not.
        let (byWidth, path2) = try readError(idxHeader(type: 0x0E, shape: [huge, huge]))
        #expect(byWidth == .sizeOverflow(file: path2, dataType: .float64, shape: [Int(huge), Int(huge)]))
    }

    // MARK: Data length

    @Test("a header claiming more data than the file holds")
    func truncatedData() throws {
        let (error, path) = try readError(idxHeader(type: 0x0B, shape: [2, 5]) + [UInt8](repeating: 1, count: 19))
        #expect(error == .truncatedData(file: path, dataType: .int16, shape: [2, 5],
                                        expectedBytes: 20, foundBytes: 19, gzipped: false))
        expectOneLine(error, naming: path, contains: ["2 x 5 i16 values (20 bytes of data)", "found only 19"])

        // A header claiming 60000 x 28 x 28 over a few bytes: checked before anything is allocated.
        let (mnistLike, path2) = try readError(ZlibCodec.gzip(idxHeader(type: 0x08, shape: [60000, 28, 28]) + [0, 0, 0]))
        #expect(mnistLike == .truncatedData(file: path2, dataType: .uint8, shape: [60000, 28, 28],
                                            expectedBytes: 47_040_000, foundBytes: 3, gzipped: true))
        expectOneLine(mnistLike, naming: path2, contains: ["after gunzip"])
    }

    @Test("more data than the header claims")
    func trailingData() throws {
        let (error, path) = try readError(idxHeader(type: 0x08, shape: [3]) + [1, 2, 3, 4, 5])
        #expect(error == .trailingData(file: path, dataType: .uint8, shape: [3],
                                       expectedBytes: 3, foundBytes: 5, gzipped: false))
        expectOneLine(error, naming: path, contains: ["2 too many"])
    }

    // MARK: gzip

    @Test func truncatedGzip() throws {
        let whole = ZlibCodec.gzip(idxU8(shape: [100], values: (0..<100).map { UInt8($0) }))
        for cut in [2, 10, whole.count / 2, whole.count - 1] {
            let (error, path) = try readError(Array(whole.prefix(cut)), name: "cut-\(cut).gz")
            #expect(error == .truncatedGzip(file: path), "cut at \(cut) of \(whole.count)")
            expectOneLine(error, naming: path, contains: ["truncated gzip"])
        }
    }

    @Test("corrupt gzip: bad method, reserved block type, wrong checksum")
    func corruptGzip() throws {
        let whole = ZlibCodec.gzip(idxU8(shape: [100], values: (0..<100).map { UInt8($0) }))
        var badMethod = whole
        badMethod[2] = 7
        var badBlock = whole
        badBlock[10] = 0xFF  // first deflate block: final, type 11 (reserved)
        var badCRC = whole
        badCRC[whole.count - 8] ^= 0xFF
        for (name, bytes) in [("method", badMethod), ("block", badBlock), ("crc", badCRC)] {
            let (error, path) = try readError(bytes, name: name)
            guard case .corruptGzip(let p, let message) = error else {
                Issue.record("\(name): got \(String(describing: error))")
                continue
            }
            #expect(p == path && !message.isEmpty)
            expectOneLine(error, naming: path, contains: ["corrupt gzip stream"])
        }
    }

    @Test("a gzip bomb stops at the limit with an error naming it")
    func gzipBomb() throws {
        // 8 MiB of zeros behind a header that claims exactly that: a valid file that only the
        // limit can stop. With a 1 MiB cap it fails; with the default cap it loads.
        let size = 8 << 20
        let content = idxHeader(type: 0x08, shape: [UInt32(size)]) + [UInt8](repeating: 0, count: size)
        let compressed = ZlibCodec.gzip(content, level: 9)
        #expect(compressed.count < 20_000)

        let cap = 1 << 20
        let (error, path) = try readError(compressed, name: "bomb.gz", decompressionCap: cap)
        #expect(error == .gzipTooLarge(file: path, limit: cap, compressedBytes: compressed.count))
        expectOneLine(error, naming: path, contains: ["limit of 1048576 bytes"])

        let loaded = try IDXFile.decode(compressed, name: "bomb.gz")
        #expect(loaded.shape == [size])
    }

    @Test("the decompression limit: min(cap, 1032 x compressed + 1 MiB), and it admits real deflate")
    func decompressionLimit() {
        #expect(IDXFile.decompressionLimit(compressedSize: 1000) == 1032 * 1000 + (1 << 20))
        #expect(IDXFile.decompressionLimit(compressedSize: 10_000_000) == IDXFile.defaultDecompressionCap)
        #expect(IDXFile.decompressionLimit(compressedSize: 1000, cap: 5) == 5)
        #expect(IDXFile.decompressionLimit(compressedSize: Int.max / 2) == IDXFile.defaultDecompressionCap)
        #expect(IDXFile.decompressionLimit(compressedSize: Int.max / 1032, cap: .max) == .max)
        // The most compressible input at the highest level stays within the ratio bound.
        let zeros = [UInt8](repeating: 0, count: 4 << 20)
        let compressed = ZlibCodec.gzip(zeros, level: 9)
        #expect(IDXFile.decompressionLimit(compressedSize: compressed.count, cap: .max) - (1 << 20) > zeros.count)
    }
}

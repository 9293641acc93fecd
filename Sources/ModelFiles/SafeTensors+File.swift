import Files
#if canImport(Glibc)
import Glibc
#endif

extension SafeTensors {
    /// Reads and checks the safetensors file at `path` (see `decode` for the checks); errors
    /// name `path`, and so does the result's `source`.
    ///
    /// A regular file is sized first: when it is longer than its header says (its data buffer
    /// ends at the largest tensor end), it is refused before it is read, so that a huge or
    /// sparse file with a small valid header costs a few reads, not its size in memory.
    public static func read(from path: String) throws(SafeTensorsError) -> SafeTensors {
        try decode(readChecked(path), source: path)
    }

    /// `read(from:)` that also measures what it read: the file's size and the SHA-256 of its
    /// bytes (for provenance and checkpoint fingerprints, without reading the file again).
    public static func readMeasured(from path: String) throws(SafeTensorsError)
        -> (file: SafeTensors, bytes: Int, sha256: String) {
        let bytes = try readChecked(path)
        return (try decode(bytes, source: path), bytes.count, SHA256.hex(bytes))
    }

    /// The bytes of the file at `path`, refused early when longer than its header says.
    private static func readChecked(_ path: String) throws(SafeTensorsError) -> [UInt8] {
        try refuseBytesPastTheHeader(path)
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(path)
        } catch {
            switch error {
            case .notFound: throw .fileNotFound(file: path)
            case .folder: throw .notAFile(file: path, found: "a folder")
            case .unopenable: throw .notAFile(file: path, found: "a socket or a device that is not there (not a regular file)")
            case .device, .special, .emptyPipe: throw .notAFile(file: path, found: "a special file (not a regular file)")
            case .failed(let reason): throw .unreadable(file: path, reason: reason)
            }
        }
        return bytes
    }

    /// Writes the encoded content (see `encode`) to `path` atomically: a temporary file in
    /// the same folder, flushed to disk, then renamed over `path`. If encoding or writing
    /// fails, the previous file at `path` is untouched and no temporary file remains.
    public func write(to path: String) throws(SafeTensorsError) {
        let bytes = try encode(file: path)
        do {
            try FileIO.writeAtomically(bytes, to: path)
        } catch {
            throw .writeFailed(file: path, reason: error.reason)
        }
    }

    /// Throws `.uncoveredBytes` (what decoding the whole file would) when the regular file at
    /// `path` holds more bytes than its header's tensors cover; any other problem is left to
    /// `read` and `decode`, which see the whole file.
    private static func refuseBytesPastTheHeader(_ path: String) throws(SafeTensorsError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size >= 8 else { return }
        func bytes(_ count: Int, at offset: Int) -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: count)
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, count, off_t(offset)) }
            return got == count ? buffer : nil
        }
        guard let prefix = bytes(8, at: 0) else { return }
        let length = prefix.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
        guard length <= UInt64(maximumHeaderLength), 8 + Int(length) <= Int(info.st_size),
              let header = bytes(Int(length), at: 8) else { return }
        var parser = HeaderParser(bytes: prefix + header, range: 8..<(8 + Int(length)), file: path)
        guard let parsed = try? parser.parse() else { return }
        let covered = parsed.entries.map(\.end).max() ?? 0
        let bufferSize = Int(info.st_size) - 8 - Int(length)
        if bufferSize > covered { throw .uncoveredBytes(file: path, begin: covered, end: bufferSize) }
    }
}

// Reading a whole file, and replacing a file atomically, through POSIX calls.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a file failed; whatever was at the path before is untouched and no temporary
/// file is left behind.
public struct FileWriteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path that was to be written.
    public let path: String
    /// What failed, e.g. "cannot create a temporary file in out: Permission denied".
    public let reason: String

    public var description: String { "\(path): cannot write the file: \(reason)" }
}

/// Why reading a file failed.
enum FileReadFailure: Error {
    case notFound
    case notRegularFile(String)
    case failed(String)
}

enum FileIO {
    /// The whole content of the regular file at `path`.
    ///
    /// Opens first and checks the opened file (no race between check and read); refuses
    /// folders and special files such as FIFOs or devices (which could block or never end).
    static func readFile(_ path: String) throws(FileReadFailure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            if code == ENOENT { throw .notFound }
            if code == EISDIR { throw .notRegularFile("a folder") }
            if code == ENXIO { throw .notRegularFile("a socket or a device that is not there (not a regular file)") }
            throw .failed(message(code))
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .failed(message(errno)) }
        switch status.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw .notRegularFile("a folder")
        default: throw .notRegularFile("a special file (not a regular file)")
        }
        let size = Int(status.st_size)
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var done = 0
            guard let base = buffer.baseAddress else { initialized = 0; return }
            while done < size {
                let n = read(fd, base + done, min(size - done, 1 << 30))
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if n == 0 { break }  // the file shrank while reading: keep what is there
                done += n
            }
            initialized = done
        }
        if failure != 0 { throw .failed(message(failure)) }
        return bytes
    }

    /// Replaces the file at `path` with `bytes` atomically: writes a temporary file in the
    /// same folder, flushes it to disk (fsync), then renames it over `path`. Readers see the
    /// old file or the new one, never a partial one. On failure the temporary file is
    /// removed and the old file is untouched. The new file gets mode 0644 (less the umask).
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(FileWriteError) {
        let (folder, name) = split(path)
        guard !name.isEmpty else { throw FileWriteError(path: path, reason: "the path names a folder") }

        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<16 {
            temporary = folder + "/." + name + ".tmp-" + String(UInt64.random(in: 0 ... .max), radix: 16)
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        if fd < 0 {
            throw FileWriteError(path: path, reason: "cannot create a temporary file in \(folder): \(message(errno))")
        }

        if let reason = writeAll(bytes, to: fd) {
            close(fd)
            unlink(temporary)
            throw FileWriteError(path: path, reason: reason)
        }
        if fsync(fd) != 0 {
            let reason = "flushing to disk failed: \(message(errno))"
            close(fd)
            unlink(temporary)
            throw FileWriteError(path: path, reason: reason)
        }
        if close(fd) != 0 {
            let reason = "closing the file failed: \(message(errno))"
            unlink(temporary)
            throw FileWriteError(path: path, reason: reason)
        }
        if rename(temporary, path) != 0 {
            let reason = "cannot replace the file: \(message(errno))"
            unlink(temporary)
            throw FileWriteError(path: path, reason: reason)
        }
        // Make the rename itself durable (best effort: some file systems refuse).
        let folderFD = open(folder, O_RDONLY | O_CLOEXEC)
        if folderFD >= 0 {
            _ = fsync(folderFD)
            close(folderFD)
        }
    }

    /// Writes all of `bytes` to `fd`; the failure reason, or nil on success.
    private static func writeAll(_ bytes: [UInt8], to fd: Int32) -> String? {
        bytes.withUnsafeBytes { raw -> String? in
            guard let base = raw.baseAddress else { return nil }
            var done = 0
            while done < raw.count {
                let n = write(fd, base + done, min(raw.count - done, 1 << 30))
                if n < 0 {
                    if errno == EINTR { continue }
                    return "writing failed: \(message(errno))"
                }
                done += n
            }
            return nil
        }
    }

    /// The folder and the file name of `path` ("." for a bare name).
    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    private static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

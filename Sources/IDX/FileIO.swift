#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic writes through the POSIX calls, with errors as `IDXError`.
enum FileIO {
    /// What is at a path.
    enum Kind { case missing, file, directory }

    /// Whether `path` names nothing, a folder, or something else (a file).
    static func kind(of path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        return (info.st_mode & S_IFMT) == S_IFDIR ? .directory : .file
    }

    /// The whole content of the file at `path`: one `read` into a buffer of the file's size
    /// (for a regular file; a pipe is read in growing chunks until its end).
    ///
    /// Opened without blocking, so that a FIFO nobody writes to fails (a pipe that gave no
    /// data) instead of hanging; devices are refused (`/dev/zero` never ends).
    static func readAll(_ path: String) throws(IDXError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw openError(path, errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path: path, reason: systemMessage(errno)) }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: throw .isDirectory(path: path)
        case S_IFCHR, S_IFBLK: throw .unreadable(path: path, reason: "a device, not a regular file or a pipe")
        default: break
        }
        // Blocking reads from here on: a pipe with a writer is read until the writer closes it.
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 else {
            throw .unreadable(path: path, reason: systemMessage(errno))
        }

        // A regular file: one read of its size. Anything else (a pipe): read until the end.
        let isRegular = (info.st_mode & S_IFMT) == S_IFREG
        var bytes = [UInt8](repeating: 0, count: isRegular ? Int(info.st_size) : 1 << 16)
        var filled = 0
        while filled < bytes.count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if got < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EISDIR { throw .isDirectory(path: path) }
                throw .unreadable(path: path, reason: systemMessage(code))
            }
            if got == 0 { break }
            filled += got
            if !isRegular && filled == bytes.count {
                bytes.append(contentsOf: repeatElement(0, count: bytes.count))
            }
        }
        if !isRegular && filled == 0 {
            throw .unreadable(path: path, reason: "a pipe that gave no data (nothing writing to it, or an empty stream)")
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Writes `bytes` to `path` atomically: into a new temporary file in the same folder, flushed
    /// to disk, then renamed over `path`. On failure the temporary file is removed and `path` is
    /// left as it was.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws(IDXError) {
        let (folder, name) = split(path)
        var temporary = ""
        var fd: Int32 = -1
        var timestamp = timespec()
        clock_gettime(CLOCK_REALTIME, &timestamp)
        for attempt in 0..<100 {
            temporary = "\(folder)/.\(name).tmp-\(getpid())-\(timestamp.tv_nsec)-\(attempt)"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw .writeFailed(path: path, reason: systemMessage(errno)) }

        var failure: Int32 = 0
        bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let count = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                written += count
            }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(temporary, path) != 0 { failure = errno }
        if failure != 0 {
            unlink(temporary)
            throw .writeFailed(path: path, reason: systemMessage(failure))
        }
    }

    /// The folder ("." when none) and the last component of `path`.
    static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    /// `folder` and `name` joined by one slash.
    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    private static func openError(_ path: String, _ code: Int32) -> IDXError {
        switch code {
        case ENOENT, ENOTDIR: .fileNotFound(path: path)
        case EISDIR: .isDirectory(path: path)
        case ENXIO: .unreadable(path: path, reason: "not a regular file (a socket, or a device that is not there)")
        default: .unreadable(path: path, reason: systemMessage(code))
        }
    }

    private static func systemMessage(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

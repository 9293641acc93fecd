// The one file layer: whole-file reads and atomic replacement through POSIX calls. IDX files,
// safetensors, PNGs, checkpoints and reports all go through here, so every write is durable in
// the same way (temporary file, fsync, rename, fsync of the folder).
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why reading a file failed; the caller's error type names the path and adds its wording.
public enum FileReadError: Error, Equatable, Sendable {
    /// Nothing at the path (or a path component is not a folder).
    case notFound
    /// The path names a folder.
    case folder
    /// A character or block device (`/dev/zero` never ends).
    case device
    /// `open` said ENXIO: a socket, or a device that is not there.
    case unopenable
    /// A FIFO, or another special file, where only regular files are read.
    case special
    /// A pipe that gave no data (nothing writing to it, or an empty stream).
    case emptyPipe
    /// Any other failure, with the system's message.
    case failed(String)
}

/// Writing a file failed; whatever was at the path before is untouched and no temporary
/// file is left behind.
public struct FileWriteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The path that was to be written.
    public let path: String
    /// What failed, e.g. "cannot create a temporary file in out: Permission denied".
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): cannot write the file: \(reason)" }
}

/// Whole-file reads, atomic writes and path helpers.
public enum FileIO {
    /// What is at a path.
    public enum Kind: Sendable { case missing, file, directory }

    /// Whether `path` names nothing, a folder, or something else (a file).
    public static func kind(of path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        return (info.st_mode & S_IFMT) == S_IFDIR ? .directory : .file
    }

    /// The whole content of the file at `path`: one read of the file's size for a regular
    /// file; with `allowingPipes`, a FIFO is read in growing chunks until its writer closes it.
    ///
    /// Opens first and checks the opened file (no race between check and read). Opened without
    /// blocking, so that a FIFO nobody writes to fails instead of hanging; devices and other
    /// special files are refused.
    public static func readAll(_ path: String, allowingPipes: Bool = false) throws(FileReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            let code = errno
            switch code {
            case ENOENT, ENOTDIR: throw .notFound
            case EISDIR: throw .folder
            case ENXIO: throw .unopenable
            default: throw .failed(message(code))
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .failed(message(errno)) }
        let type = info.st_mode & S_IFMT
        switch type {
        case S_IFREG: break
        case S_IFDIR: throw .folder
        case S_IFCHR, S_IFBLK: throw .device
        case S_IFIFO where allowingPipes: break
        default: throw .special
        }
        // Blocking reads from here on: a pipe with a writer is read until the writer closes it.
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0 else { throw .failed(message(errno)) }

        let isRegular = type == S_IFREG
        var bytes = [UInt8](repeating: 0, count: isRegular ? Int(info.st_size) : 1 << 16)
        var filled = 0
        while filled < bytes.count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress! + filled, min(buffer.count - filled, 1 << 30))
            }
            if got < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EISDIR { throw .folder }
                throw .failed(message(code))
            }
            if got == 0 { break }  // the end of a pipe, or a file that shrank while reading
            filled += got
            if !isRegular && filled == bytes.count {
                bytes.append(contentsOf: repeatElement(0, count: bytes.count))
            }
        }
        if !isRegular && filled == 0 { throw .emptyPipe }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// Replaces the file at `path` with `bytes` atomically: writes a temporary file
    /// `.NAME.tmp-PID-RANDOM` (PID: the writer's) in the same folder, flushes it to disk (fsync), renames it over
    /// `path`, then flushes the folder so that the rename itself survives a crash. Readers see
    /// the old file or the new one, never a partial one. On failure the temporary file is
    /// removed and the old file is untouched. The new file gets mode 0644 (less the umask).
    /// Does nothing when `writesFiles` is false.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(FileWriteError) {
        guard writesFiles else { return }
        let (folder, name) = split(path)
        guard !name.isEmpty else { throw FileWriteError(path: path, reason: "the path names a folder") }

        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<16 {
            temporary = folder + "/" + temporaryPrefix(for: name) + "\(getpid())-" + String(UInt64.random(in: 0 ... .max), radix: 16)
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        if fd < 0 {
            throw FileWriteError(path: path, reason: "cannot create a temporary file in \(folder): \(message(errno))")
        }
        // A signal that ends the process meanwhile removes the temporary file (PendingFiles).
        let pending = PendingFiles.register(temporary)
        defer { PendingFiles.release(pending) }
        func fail(_ reason: String, closing: Bool) -> FileWriteError {
            if closing { close(fd) }
            unlink(temporary)
            return FileWriteError(path: path, reason: reason)
        }
        if let reason = writeAll(bytes, to: fd) { throw fail(reason, closing: true) }
        if fsync(fd) != 0 { throw fail("flushing to disk failed: \(message(errno))", closing: true) }
        if close(fd) != 0 { throw fail("closing the file failed: \(message(errno))", closing: false) }
        if rename(temporary, path) != 0 { throw fail("cannot replace the file: \(message(errno))", closing: false) }
        // Make the rename itself durable (best effort: some file systems refuse).
        let folderFD = open(folder, O_RDONLY | O_CLOEXEC)
        if folderFD >= 0 {
            _ = fsync(folderFD)
            close(folderFD)
        }
    }

    /// Writes `text` as UTF-8 (see `writeAtomically(_:to:)`).
    public static func writeAtomically(_ text: String, to path: String) throws(FileWriteError) {
        try writeAtomically(Array(text.utf8), to: path)
    }

    /// Whether this process writes files. False in the processes other than rank 0 of a
    /// data-parallel (MPI) run, which run the same code on the same values as rank 0: their
    /// `writeAtomically` calls, checkpoints, logs and TensorBoard events are skipped (rank 0
    /// writes the same bytes). Set with `FileIO.$writesFiles.withValue(false) { ... }`.
    @TaskLocal public static var writesFiles = true

    /// The start of the name of the temporary files `writeAtomically` makes for a file `name`
    /// (a killed run may leave one behind; the file itself is intact).
    public static func temporaryPrefix(for name: String) -> String { "." + name + ".tmp-" }

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

    /// The folder ("." for a bare name, "/" at the root) and the last component of `path`.
    public static func split(_ path: String) -> (folder: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }

    /// `folder` and `name` joined by one slash.
    public static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }

    private static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

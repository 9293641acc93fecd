import Files

extension SafeTensors {
    /// Reads and checks the safetensors file at `path` (see `decode` for the checks); errors
    /// name `path`, and so does the result's `source`.
    public static func read(from path: String) throws(SafeTensorsError) -> SafeTensors {
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
        return try decode(bytes, source: path)
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
}

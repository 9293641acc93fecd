#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Files

/// Writes a TensorBoard event file (`events.out.tfevents.<unix seconds>.<hostname>`) in a
/// folder: scalars, histograms and PNG images, each tagged and stepped, readable by
/// TensorBoard (`tensorboard --logdir FOLDER`) and its Python event reader.
///
/// The file is a sequence of TFRecords, each `uint64 length`, `uint32 masked CRC-32C of the
/// length`, the data, `uint32 masked CRC-32C of the data` (little-endian); the data of each is
/// one `Event` protocol buffer (tensorboard/compat/proto/event.proto: wall_time 1, step 2,
/// file_version 3, summary 5), the first holding only `file_version = "brain.Event:2"`.
/// Records are written as they come; `flush()` also makes them durable (fsync).
///
/// ```swift
/// let board = try TensorBoardWriter(folder: "runs/pretrain")
/// try board.scalar(tag: "loss", value: 0.25, step: 1)
/// try board.histogram(tag: "layer1/weights", values: weights, step: 1)
/// ```
public final class TensorBoardWriter {
    /// The event file's path.
    public let path: String
    private var descriptor: Int32

    /// Creates `folder` (and its parents) if needed and starts a new event file in it (writes
    /// to /dev/null when `FileIO.writesFiles` is false).
    public init(folder: String) throws(FileWriteError) {
        guard FileIO.writesFiles else {
            path = "/dev/null"
            descriptor = open(path, O_WRONLY | O_CLOEXEC)
            return
        }
        try Self.createFolder(folder)
        let base = FileIO.join(folder, "events.out.tfevents.\(Int(Self.now())).\(Self.hostname())")
        var candidate = base, fd: Int32 = -1
        for attempt in 0..<100 {  // two writers in one folder within a second get distinct files
            candidate = attempt == 0 ? base : "\(base).\(attempt)"
            fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw FileWriteError(path: candidate, reason: String(cString: strerror(errno))) }
        path = candidate
        descriptor = fd
        var event = ProtobufEncoder()
        event.double(1, Self.now())
        event.string(3, "brain.Event:2")
        try append(record: event.bytes)
    }

    deinit { if descriptor >= 0 { closeDescriptor(descriptor) } }

    /// A scalar curve point (`Summary.Value.simple_value`).
    public func scalar(tag: String, value: Double, step: Int) throws(FileWriteError) {
        var summaryValue = ProtobufEncoder()
        summaryValue.string(1, tag)
        summaryValue.float(2, Float(value))
        try write(summaryValue: summaryValue.bytes, step: step)
    }

    /// A histogram of `values` (`Summary.Value.histo`) over TensorBoard's default exponential
    /// bucket limits; non-finite values are left out.
    public func histogram(tag: String, values: [Float], step: Int) throws(FileWriteError) {
        var summaryValue = ProtobufEncoder()
        summaryValue.string(1, tag)
        summaryValue.bytes(5, Histogram(values).encoded())
        try write(summaryValue: summaryValue.bytes, step: step)
    }

    /// An image (`Summary.Value.image`): `png` holds the PNG bytes of a `width` x `height`
    /// image; `colorspace` 1 grayscale, 3 RGB.
    public func image(tag: String, png: [UInt8], width: Int, height: Int, colorspace: Int = 1,
                      step: Int) throws(FileWriteError) {
        var image = ProtobufEncoder()
        image.int(1, Int64(height))
        image.int(2, Int64(width))
        image.int(3, Int64(colorspace))
        image.bytes(4, png)
        var summaryValue = ProtobufEncoder()
        summaryValue.string(1, tag)
        summaryValue.bytes(4, image.bytes)
        try write(summaryValue: summaryValue.bytes, step: step)
    }

    /// A grayscale image (see `image(tag:png:width:height:colorspace:step:)`).
    public func image(tag: String, _ picture: GrayscaleImage, step: Int) throws(FileWriteError) {
        try image(tag: tag, png: picture.pngData(), width: picture.width, height: picture.height, step: step)
    }

    /// Flushes the written events to disk.
    public func flush() throws(FileWriteError) {
        if fsync(descriptor) != 0 { throw FileWriteError(path: path, reason: "fsync: \(String(cString: strerror(errno)))") }
    }

    /// Closes the file (after a flush); later writes fail.
    public func close() throws(FileWriteError) {
        guard descriptor >= 0 else { return }
        try flush()
        closeDescriptor(descriptor)
        descriptor = -1
    }

    // MARK: Records

    /// An `Event` with a `Summary` holding one `Summary.Value` (already encoded).
    private func write(summaryValue: [UInt8], step: Int) throws(FileWriteError) {
        var summary = ProtobufEncoder()
        summary.bytes(1, summaryValue)
        var event = ProtobufEncoder()
        event.double(1, Self.now())
        event.int(2, Int64(step))
        event.bytes(5, summary.bytes)
        try append(record: event.bytes)
    }

    /// Appends one TFRecord holding `data`.
    private func append(record data: [UInt8]) throws(FileWriteError) {
        try Self.writeAll(Self.record(data), to: descriptor, path: path)
    }

    /// The TFRecord framing of `data`.
    static func record(_ data: [UInt8]) -> [UInt8] {
        var length: [UInt8] = []
        withUnsafeBytes(of: UInt64(data.count).littleEndian) { length.append(contentsOf: $0) }
        var framed = length
        withUnsafeBytes(of: CRC32C.masked(length).littleEndian) { framed.append(contentsOf: $0) }
        framed += data
        withUnsafeBytes(of: CRC32C.masked(data).littleEndian) { framed.append(contentsOf: $0) }
        return framed
    }

    private static func writeAll(_ bytes: [UInt8], to fd: Int32, path: String) throws(FileWriteError) {
        guard fd >= 0 else { throw FileWriteError(path: path, reason: "the event file is closed") }
        var failure: String?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = writeBytes(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += n
            }
        }
        if let failure { throw FileWriteError(path: path, reason: failure) }
    }

    // MARK: Environment

    private static func createFolder(_ folder: String) throws(FileWriteError) {
        var partial = folder.hasPrefix("/") ? "/" : ""
        for component in folder.split(separator: "/") {
            partial += (partial.isEmpty || partial.hasSuffix("/") ? "" : "/") + component
            if FileIO.kind(of: partial) == .directory { continue }
            if mkdir(partial, 0o755) != 0 && errno != EEXIST {
                throw FileWriteError(path: folder, reason: "cannot create the folder: \(String(cString: strerror(errno)))")
            }
        }
        guard FileIO.kind(of: folder) == .directory else {
            throw FileWriteError(path: folder, reason: "not a folder")
        }
    }

    /// Seconds since the Unix epoch.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func hostname() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return host.isEmpty ? "localhost" : host
    }
}

/// The C library's `close` and `write`, which the methods of the same names hide.
private func closeDescriptor(_ fd: Int32) { _ = close(fd) }
private func writeBytes(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }

import Files

/// What went wrong reading or writing an IDX file or a data folder.
///
/// Every case names the file (as the caller gave it: a path, or the `name:` passed to
/// `IDXFile.decode`) and its `description` is one line saying what was expected and what was
/// found, e.g. `train-images-idx3-ubyte.gz: bad magic number: expected two zero bytes then a
/// type code, found 0x1f8b0800`.
public enum IDXError: Error, Equatable, Sendable, CustomStringConvertible {
    // MARK: The file system
    /// No file at this path.
    case fileNotFound(path: String)
    /// A folder where a file was expected.
    case isDirectory(path: String)
    /// The file exists but could not be read (e.g. permissions); `reason` is the system's message.
    case unreadable(path: String, reason: String)
    /// Writing failed; `reason` is the system's message.
    case writeFailed(path: String, reason: String)

    // MARK: The content of one file
    /// The file holds no bytes at all.
    case emptyFile(file: String)
    /// The content ends inside the header (magic number and dimensions).
    case truncatedHeader(file: String, expectedBytes: Int, foundBytes: Int, gzipped: Bool)
    /// The first two bytes are not zero; `found` holds the first (up to) four bytes.
    case badMagic(file: String, found: [UInt8])
    /// The type byte is not one of 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E.
    case unknownType(file: String, code: UInt8)
    /// The rank byte is zero.
    case rankZero(file: String)
    /// The dimensions multiply (times the value width) beyond `Int.max` bytes.
    case sizeOverflow(file: String, dataType: IDXDataType, shape: [Int])
    /// The header claims more data than the file holds.
    case truncatedData(file: String, dataType: IDXDataType, shape: [Int],
                       expectedBytes: Int, foundBytes: Int, gzipped: Bool)
    /// The file holds more data than the header claims.
    case trailingData(file: String, dataType: IDXDataType, shape: [Int],
                      expectedBytes: Int, foundBytes: Int, gzipped: Bool)
    /// The gzip stream ends before its end marker.
    case truncatedGzip(file: String)
    /// The gzip stream is damaged; `message` is zlib's.
    case corruptGzip(file: String, message: String)
    /// Decompressing would pass `limit` bytes, or the header inside the stream claims more
    /// (a gzip bomb, or a limit set too low).
    case gzipTooLarge(file: String, limit: Int, compressedBytes: Int)
    /// The gzip stream holds over 1 MiB more than the header inside it claims; decompressing
    /// stopped there (a gzip bomb, or a damaged file).
    case gzipBeyondHeader(file: String, dataType: IDXDataType, shape: [Int], expectedBytes: Int)

    // MARK: Data sets
    /// The data folder does not exist.
    case folderNotFound(path: String)
    /// A file where a data folder was expected.
    case notAFolder(path: String)
    /// None of the usual names for one of the four MNIST-style files is in the folder.
    case missingDataFile(folder: String, role: DataFileRole, tried: [String])
    /// An image file needs rank >= 2 (samples, then the image dimensions) and 1...Int.max values
    /// per image.
    case badImageShape(file: String, shape: [Int])
    /// Training and test images differ in size.
    case imageShapeMismatch(trainFile: String, trainShape: [Int], testFile: String, testShape: [Int])
    /// A signed integer image file holds a negative value (intensities must be >= 0);
    /// `index` is the flat (C order) index of the first one.
    case negativeIntensity(file: String, index: Int, value: Int)
    /// A float image file holds a value that is NaN or infinite as a 32-bit float;
    /// `index` is the flat (C order) index of the first one.
    case nonFiniteValue(file: String, index: Int, value: Double)
    /// A label file of a float type.
    case labelNotInteger(file: String, dataType: IDXDataType)
    /// A label file whose rank is not 1.
    case labelRank(file: String, shape: [Int])
    /// A label outside 0..<256; `index` is the first such label.
    case labelOutOfRange(file: String, index: Int, value: Int)
    /// An image file and its label file disagree in the number of samples.
    case labelCountMismatch(imageFile: String, imageCount: Int, labelFile: String, labelCount: Int)

    /// The file (or folder) the error is about; for two-file errors, the one the description
    /// starts with (the test images, the image file).
    public var file: String {
        switch self {
        case .fileNotFound(let path), .isDirectory(let path), .unreadable(let path, _),
             .writeFailed(let path, _), .folderNotFound(let path), .notAFolder(let path):
            path
        case .emptyFile(let file), .truncatedHeader(let file, _, _, _), .badMagic(let file, _),
             .unknownType(let file, _), .rankZero(let file), .sizeOverflow(let file, _, _),
             .truncatedData(let file, _, _, _, _, _), .trailingData(let file, _, _, _, _, _),
             .truncatedGzip(let file), .corruptGzip(let file, _), .gzipTooLarge(let file, _, _),
             .gzipBeyondHeader(let file, _, _, _),
             .badImageShape(let file, _), .negativeIntensity(let file, _, _),
             .nonFiniteValue(let file, _, _), .labelNotInteger(let file, _), .labelRank(let file, _),
             .labelOutOfRange(let file, _, _):
            file
        case .missingDataFile(let folder, _, _): folder
        case .imageShapeMismatch(_, _, let testFile, _): testFile
        case .labelCountMismatch(let imageFile, _, _, _): imageFile
        }
    }

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): file not found"
        case .isDirectory(let path):
            return "\(path): expected an IDX file, found a folder"
        case .unreadable(let path, let reason):
            return "\(path): cannot read the file: \(reason)"
        case .writeFailed(let path, let reason):
            return "\(path): cannot write the file: \(reason)"
        case .emptyFile(let file):
            return "\(file): empty file: expected an IDX header (4-byte magic number, then dimensions)"
        case .truncatedHeader(let file, let expected, let found, let gzipped):
            return "\(file): file shorter than its header: expected at least \(expected) bytes, "
                + "found \(found)\(gzipped ? " after gunzip" : "")"
        case .badMagic(let file, let found):
            var text = "\(file): bad magic number: expected two zero bytes then a type code, found 0x"
                + found.map(hex2).joined()
            if found.count >= 2 && found[0] == 0x1F && found[1] == 0x8B {
                text += " (gzip magic after gunzip: the file is gzipped twice)"
            } else if found.count == 4, found.allSatisfy({ (0x20...0x7E).contains($0) }) {
                text += " (text \"\(String(decoding: found, as: UTF8.self))\": not an IDX file, maybe a failed download)"
            }
            return text
        case .unknownType(let file, let code):
            return "\(file): unknown type code 0x\(hex2(code)): expected one of "
                + IDXDataType.allCases.map { "0x\(hex2($0.code)) (\($0.name))" }.joined(separator: ", ")
        case .rankZero(let file):
            return "\(file): rank 0 in the magic number: expected at least one dimension"
        case .sizeOverflow(let file, let type, let shape):
            return "\(file): dimensions \(formatShape(shape)) of \(type.byteWidth)-byte \(type.name) values "
                + "overflow the addressable size: expected a product below \(Int.max) bytes"
        case .truncatedData(let file, let type, let shape, let expected, let found, let gzipped):
            return "\(file): header claims \(formatShape(shape)) \(type.name) values (\(expected) bytes of data), "
                + "found only \(found) bytes after the header\(gzipped ? " (after gunzip)" : "")"
        case .trailingData(let file, let type, let shape, let expected, let found, let gzipped):
            return "\(file): header claims \(formatShape(shape)) \(type.name) values (\(expected) bytes of data), "
                + "found \(found) bytes after the header\(gzipped ? " (after gunzip)" : ""), "
                + "\(found - expected) too many"
        case .truncatedGzip(let file):
            return "\(file): truncated gzip stream: expected its end marker, found the end of the file"
        case .corruptGzip(let file, let message):
            return "\(file): corrupt gzip stream: \(message)"
        case .gzipTooLarge(let file, let limit, let compressed):
            return "\(file): gzip content larger than the limit of \(limit) bytes "
                + "(\(compressed) bytes compressed): a gzip bomb, or raise the decompression limit"
        case .gzipBeyondHeader(let file, let type, let shape, let expected):
            return "\(file): header claims \(formatShape(shape)) \(type.name) values (\(expected) bytes of data), "
                + "but the gzip stream holds over 1 MiB more (decompression stopped there): a gzip bomb or a damaged file"
        case .folderNotFound(let path):
            return "\(path): data folder not found"
        case .notAFolder(let path):
            return "\(path): expected a data folder, found a file"
        case .missingDataFile(let folder, let role, let tried):
            return "\(folder): no \(role.rawValue) file: tried \(tried.joined(separator: ", "))"
        case .badImageShape(let file, let shape):
            return "\(file): image file of shape \(formatShape(shape)): expected samples x image dimensions "
                + "(rank >= 2) with at least one value per image (and fewer than 2^63)"
        case .imageShapeMismatch(let trainFile, let trainShape, let testFile, let testShape):
            return "\(testFile): test images are \(formatShape(testShape)) but the training images in "
                + "\(trainFile) are \(formatShape(trainShape)): expected the same image size"
        case .negativeIntensity(let file, let index, let value):
            return "\(file): value \(value) at index \(index): expected image intensities >= 0"
        case .nonFiniteValue(let file, let index, let value):
            return "\(file): value \(value) at index \(index) is not finite as a 32-bit float: "
                + "expected finite image values"
        case .labelNotInteger(let file, let type):
            return "\(file): label file of type \(type.name): expected an integer type (u8, i8, i16, i32)"
        case .labelRank(let file, let shape):
            return "\(file): label file of shape \(formatShape(shape)): expected rank 1 (one label per sample)"
        case .labelOutOfRange(let file, let index, let value):
            return "\(file): label \(value) at index \(index): expected labels in 0..<256"
        case .labelCountMismatch(let imageFile, let imageCount, let labelFile, let labelCount):
            return "\(imageFile): \(imageCount) images, but \(labelFile) holds \(labelCount) labels: "
                + "expected one label per image"
        }
    }
}

/// Two lowercase hex digits.
private func hex2(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}

/// A shape written as "60000 x 28 x 28".
func formatShape(_ shape: [Int]) -> String {
    shape.map(String.init).joined(separator: " x ")
}

extension IDXError {
    /// The IDX wording of a failure of the file layer to read `path`.
    init(reading path: String, _ failure: FileReadError) {
        switch failure {
        case .notFound: self = .fileNotFound(path: path)
        case .folder: self = .isDirectory(path: path)
        case .device: self = .unreadable(path: path, reason: "a device, not a regular file or a pipe")
        case .unopenable: self = .unreadable(path: path, reason: "not a regular file (a socket, or a device that is not there)")
        case .special: self = .unreadable(path: path, reason: "a special file, not a regular file or a pipe")
        case .emptyPipe: self = .unreadable(path: path, reason: "a pipe that gave no data (nothing writing to it, or an empty stream)")
        case .failed(let reason): self = .unreadable(path: path, reason: reason)
        }
    }
}

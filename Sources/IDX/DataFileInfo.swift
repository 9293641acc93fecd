import Files

/// Which of the four MNIST-style files a file is.
public enum DataFileRole: String, Sendable, CaseIterable {
    case trainImages = "training images"
    case trainLabels = "training labels"
    case testImages = "test images"
    case testLabels = "test labels"

    /// The names looked for in a data folder, in order: both spellings in use
    /// (`train-images-idx3-ubyte`, `train-images.idx3-ubyte`), each plain then gzipped.
    public var candidateNames: [String] {
        let stem: String, suffix: String
        switch self {
        case .trainImages: (stem, suffix) = ("train-images", "idx3-ubyte")
        case .trainLabels: (stem, suffix) = ("train-labels", "idx1-ubyte")
        case .testImages: (stem, suffix) = ("t10k-images", "idx3-ubyte")
        case .testLabels: (stem, suffix) = ("t10k-labels", "idx1-ubyte")
        }
        let bases = ["\(stem)-\(suffix)", "\(stem).\(suffix)"]
        return bases.flatMap { [$0, $0 + ".gz"] }
    }
}

/// What was loaded from one file, for `dbn data` to print.
public struct DataFileInfo: Sendable, Equatable, CustomStringConvertible {
    /// Which file of the data set this is.
    public var role: DataFileRole
    /// The path it was read from.
    public var path: String
    /// The element type in the file.
    public var dataType: IDXDataType
    /// The shape in the file, e.g. [60000, 28, 28].
    public var shape: [Int]
    /// Whether the content was gzipped (decided from the content, not the name).
    public var gzipped: Bool
    /// The size of the file as stored, in bytes, and the SHA-256 of those bytes (64 hex digits),
    /// measured by the loaders while reading (provenance and checkpoint fingerprints use them;
    /// a pipe cannot be read twice); 0 and "" when the info was made by hand.
    public var bytes = 0
    public var sha256 = ""

    public init(role: DataFileRole, path: String, dataType: IDXDataType, shape: [Int], gzipped: Bool) {
        self.role = role
        self.path = path
        self.dataType = dataType
        self.shape = shape
        self.gzipped = gzipped
    }

    /// Records the size and SHA-256 of `content`, the file's bytes as stored.
    mutating func measure(_ content: [UInt8]) {
        bytes = content.count
        sha256 = SHA256.hex(content)
    }

    /// One line, e.g. `training images: datasets/mnist/train-images-idx3-ubyte.gz (gzip), u8, 60000 x 28 x 28`.
    public var description: String {
        "\(role.rawValue): \(path)\(gzipped ? " (gzip)" : ""), \(dataType.name), \(formatShape(shape))"
    }
}

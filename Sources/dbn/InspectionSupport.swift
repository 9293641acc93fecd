import ArgumentParser
import DeepBelief
import Foundation

// What the commands that look at a saved model share (evaluate, loglik, filters, reconstruct,
// sample, inspect): reading a model file with clear errors, the test split, image tiles.

/// A model file read from disk, its format version and kind checked.
struct LoadedModel {
    /// The path as given on the command line (errors name it).
    let path: String
    /// The file's tensors and metadata.
    let file: SafeTensors
    /// What the file holds.
    let kind: ModelKind

    /// The file's size and SHA-256, measured while it was read (for provenance: the file is
    /// not read twice).
    let measured: (bytes: Int, sha256: String)

    /// Reads `path`; errors name the file (missing, not safetensors, unknown kind or version).
    static func read(_ path: String) throws -> LoadedModel {
        let (file, bytes, sha256) = try SafeTensors.readMeasured(from: path)
        return LoadedModel(path: path, file: file, kind: try ModelArchive.kind(of: file), measured: (bytes, sha256))
    }

    /// Whether the file carries an RBM stack (`rbm.*` tensors).
    var hasStack: Bool { file["rbm.0.weight"] != nil }

    /// The feed-forward network of a network file.
    func network() throws -> Network {
        do {
            return try ModelArchive.network(from: file)
        } catch let ModelFileError.wrongKind(file, found, expected) {
            throw CLIError("\(file): holds a \(found.rawValue), expected a \(expected.rawValue) (train or finetune one with dbn train/finetune)")
        }
    }

    /// The RBM stack of a stack file, or of a network file saved with its stack; a generative
    /// DBN's (labels in the top RBM) only with `allowingLabels`.
    func stack(allowingLabels: Bool = false) throws -> DeepBeliefNetwork {
        guard hasStack else {
            throw CLIError("\(path): holds a \(kind.rawValue) without its RBM stack (no tensor 'rbm.0.weight'); this command needs the RBMs: give a pre-trained stack, or a network saved with its stack")
        }
        let stack = try ModelArchive.stack(from: file)
        if stack.labelCount > 0 && !allowingLabels {
            throw CLIError("\(path): a generative DBN (label units in the top RBM): use dbn dream to generate and dbn evaluate to classify")
        }
        return stack
    }

    /// The shape (height, width) of one input image for `inputs` values: the metadata
    /// `input_shape` if present (a JSON list such as `[28,28]`, or `28x28`), else a square.
    func imageShape(inputs: Int) throws -> (height: Int, width: Int) {
        if let raw = file.metadata[ModelArchive.Key.inputShape], !raw.isEmpty {
            guard let dims = Self.parseShape(raw), Safeguards.product(dims) == inputs else {
                throw ModelFileError.badMetadata(file: path, key: ModelArchive.Key.inputShape, found: raw,
                                                 expected: "a list of dimensions whose product is the \(inputs) inputs, e.g. [28,28]")
            }
            if dims.count == 1 { return (1, dims[0]) }
            return (dims[0], inputs / dims[0])
        }
        let side = Int(Double(inputs).squareRoot().rounded())
        guard side * side == inputs else {
            throw CLIError("\(path): cannot show the \(inputs) inputs as an image: \(inputs) is not a square and the file has no '\(ModelArchive.Key.inputShape)' metadata")
        }
        return (side, side)
    }

    /// `[28,28]` (JSON) or `28x28` as positive dimensions, or nil.
    static func parseShape(_ raw: String) -> [Int]? {
        let dims: [Int]?
        if let data = raw.data(using: .utf8), let list = try? JSONDecoder().decode([Int].self, from: data) {
            dims = list
        } else {
            let parts = raw.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            dims = parts.contains(nil) ? nil : parts.compactMap { $0 }
        }
        guard let dims, !dims.isEmpty, dims.allSatisfy({ $0 > 0 && $0 <= 1 << 24 }) else { return nil }
        return dims
    }
}

/// Where the test split comes from, for the commands that read only it (evaluate, reconstruct,
/// sample): a folder (default: the bundled MNIST) or the two test files.
struct TestDataOptions: ParsableArguments {
    @Option(help: "Folder of IDX files; its t10k files are read (default: the bundled datasets/mnist).")
    var data: String?

    @Option(help: "Test images (IDX), instead of --data.")
    var testImages: String?
    @Option(help: "Test labels (IDX), instead of --data.")
    var testLabels: String?

    @Option(help: "Use only the first N test images (0: all).")
    var limit: Int = 0

    func validate() throws {
        if (testImages == nil) != (testLabels == nil) {
            throw ValidationError("give both --test-images and --test-labels, or neither")
        }
        if testImages != nil && data != nil { throw ValidationError("give either --data or the two test files, not both") }
        if limit < 0 { throw ValidationError("--limit must be >= 0, got \(limit)") }
    }

    /// Loads the test images and labels (the explicit files, or those of the folder) through
    /// the IDX module's loader, cut to `--limit`.
    func loadTestSplit() throws -> LabeledImages {
        var split: LabeledImages
        if let testImages, let testLabels {
            split = try DataSet.loadSplit(images: testImages, labels: testLabels, roles: (.testImages, .testLabels))
        } else {
            split = try DataSet.loadTestSplit(folder: data ?? DataOptions.bundledMNIST())
        }
        guard !split.labels.isEmpty else { throw CLIError("\(split.files[0].path): holds no test images") }
        if limit > 0 && limit < split.labels.count {
            split.images = split.images.rows(in: 0..<limit)
            split.labels = Array(split.labels[0..<limit])
        }
        return split
    }
}

/// The test images only, for the commands that read no labels (`sample`, `reconstruct`).
struct TestImageOptions: ParsableArguments {
    @Option(help: "Folder of IDX files; its t10k images are read (default: the bundled datasets/mnist).")
    var data: String?

    @Option(help: "Test images (IDX), instead of --data.")
    var testImages: String?

    @Option(help: "Use only the first N test images (0: all).")
    var limit: Int = 0

    func validate() throws {
        if testImages != nil && data != nil { throw ValidationError("give either --data or --test-images, not both") }
        if limit < 0 { throw ValidationError("--limit must be >= 0, got \(limit)") }
    }

    /// The test images (the explicit file, or the folder's), cut to `--limit`; at least one.
    func loadTestImages() throws -> ImageSet {
        var set = try DataSet.loadImages(testImages ?? DataSet.locate(.testImages, in: data ?? DataOptions.bundledMNIST()),
                                         role: .testImages)
        guard set.images.rows > 0 else { throw CLIError("\(set.file.path): holds no test images") }
        if limit > 0 && limit < set.images.rows { set.images = set.images.rows(in: 0..<limit) }
        return set
    }
}

/// Options of the commands that write a grid of images as a PNG.
struct PictureOptions: ParsableArguments {
    @Option(help: "The PNG file to write (replaced atomically).")
    var output: String

    @Option(help: "Images per row of the grid.")
    var columns: Int = 10

    @Option(help: "Each pixel becomes an N x N block.")
    var upscale: Int = 2

    func validate() throws {
        if output.isEmpty { throw ValidationError("--output must name a file") }
        if columns < 1 { throw ValidationError("--columns must be >= 1, got \(columns)") }
        if !(1...32).contains(upscale) { throw ValidationError("--upscale must be in 1...32, got \(upscale)") }
    }
}

/// The facts about a written PNG that commands report.
struct PictureSummary: Encodable {
    let output: String
    let width: Int
    let height: Int
    let tiles: Int
}

extension GrayscaleImage {
    /// Writes the PNG atomically and returns what to report.
    func save(to path: String, tiles: Int) throws -> PictureSummary {
        try write(to: path)
        return PictureSummary(output: path, width: width, height: height, tiles: tiles)
    }
}

/// Text layout for people.
enum TextLayout {
    /// An aligned list: each label padded to the longest one, then two spaces and the value.
    static func aligned(_ rows: [(String, String)], indent: String = "") -> [String] {
        let width = rows.map(\.0.count).max() ?? 0
        return rows.map { indent + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
    }

    /// A fraction as a percentage with two decimals: 0.0123 -> "1.23%".
    static func percent(_ fraction: Double) -> String { String(format: "%.2f%%", 100 * fraction) }
}

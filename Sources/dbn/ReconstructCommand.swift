import ArgumentParser
import DeepBelief
import Foundation

/// `dbn reconstruct`: test images beside their reconstructions through the whole RBM stack.
struct ReconstructCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconstruct",
        abstract: "Draw test images and their reconstructions through the RBM stack as a PNG.",
        discussion: """
            Each image goes up the stack (hidden probabilities of every RBM in turn) and back down \
            (visible probabilities, top RBM first). The PNG shows pairs of rows: a row of test \
            images, then the row of their reconstructions. Also reports the mean squared \
            reconstruction error over the whole test set.
            """)

    @Option(help: "A model file with an RBM stack (.safetensors).")
    var model: String

    @Option(help: "How many test images to draw (the first N).")
    var count = 20

    @OptionGroup var picture: PictureOptions
    @OptionGroup var dataOptions: TestImageOptions
    @OptionGroup var options: OutputOptions

    struct Report: Encodable {
        let model: String
        let layerSizes: [Int]
        /// Mean over the test images of the summed squared pixel differences.
        let squaredError: Double
        let testCount: Int
        let picture: PictureSummary
    }

    func validate() throws {
        if count < 1 { throw ValidationError("--count must be >= 1, got \(count)") }
    }

    func run() throws {
        let console = options.start()
        let loaded = try LoadedModel.read(model)
        let stack = try loaded.stack()
        let test = try dataOptions.loadTestImages()
        try ModelArchive.requireFits(file: model, inputs: stack.layerSizes[0], outputs: nil,
                                     pixels: test.images.columns, classes: nil)
        let reconstructions = stack.reconstruct(test.images)
        let squaredError = Self.meanSquaredError(test.images, reconstructions)

        let shown = min(count, test.images.rows)
        let columns = min(picture.columns, shown)
        let (height, width) = Self.tileShape(test.imageShape)
        let tiles = Self.pairedRows(top: test.images.rows(in: 0..<shown), bottom: reconstructions.rows(in: 0..<shown),
                                    columns: columns)
        let grid = ImageGrid(tileWidth: width, tileHeight: height, columns: columns, scaling: .clampedToUnit,
                             upscale: picture.upscale)
        let summary = try grid.image(tiles: tiles).save(to: picture.output, tiles: tiles.count)
        console.say("\(picture.output): \(shown) test images (odd rows) and their reconstructions through \(stack.layerSizes.map(String.init).joined(separator: "-")) (even rows), \(summary.width)x\(summary.height) pixels")
        console.say("mean squared reconstruction error: \(String(format: "%.4f", squaredError)) per image (sum over \(test.images.columns) pixels, mean over \(test.images.rows) test images)")
        try console.emitJSON(Report(model: model, layerSizes: stack.layerSizes, squaredError: squaredError,
                                    testCount: test.images.rows, picture: summary))
    }

    /// The mean over rows of the sum of squared differences.
    static func meanSquaredError(_ a: Matrix, _ b: Matrix) -> Double {
        var total = 0.0
        for i in a.elements.indices {
            let d = Double(a.elements[i]) - Double(b.elements[i])
            total += d * d
        }
        return total / Double(max(a.rows, 1))
    }

    /// (height, width) of a data image shape: [h, w] (further dimensions folded into the width),
    /// or a single row for one-dimensional samples.
    static func tileShape(_ imageShape: [Int]) -> (height: Int, width: Int) {
        guard imageShape.count >= 2 else { return (1, imageShape.first ?? 1) }
        return (imageShape[0], imageShape.dropFirst().reduce(1, *))
    }

    /// Pairs of grid rows: `columns` images of `top`, then the matching images of `bottom`, and
    /// so on; a short last group is padded with mid-gray tiles. One image per matrix row.
    static func pairedRows(top: Matrix, bottom: Matrix, columns: Int) -> [[Float]] {
        precondition(top.rows == bottom.rows && top.columns == bottom.columns, "pairedRows: shapes differ")
        let blank = [Float](repeating: 128.0 / 255.0, count: top.columns)
        var tiles: [[Float]] = []
        for start in stride(from: 0, to: top.rows, by: columns) {
            let indices = start..<min(start + columns, top.rows)
            let padding = Array(repeating: blank, count: columns - indices.count)
            tiles += indices.map { top.row($0) } + padding
            tiles += indices.map { bottom.row($0) } + padding
        }
        return tiles
    }
}

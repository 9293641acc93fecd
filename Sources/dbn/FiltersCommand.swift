import ArgumentParser
import DeepBelief
import Foundation

/// `dbn filters`: the first layer's weights as a grid of images.
struct FiltersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filters",
        abstract: "Draw the first layer's weights (one image per hidden unit) as a PNG grid.",
        discussion: """
            Takes the columns of rbm.0.weight (or of layers.0.weight for a network saved without \
            its stack), each shown as an image of the input's shape (the file's input_shape, else \
            a square) and stretched from its own minimum (black) to its maximum (white).
            """)

    @Option(help: "A model file (.safetensors): an RBM stack or a network.")
    var model: String

    @Option(help: "How many filters to draw (the first N hidden units).")
    var count = 100

    @OptionGroup var picture: PictureOptions

    @Flag(help: "Print one JSON object with the results as the last line of stdout.")
    var json = false

    struct Report: Encodable {
        let model: String
        let source: String
        let tileShape: [Int]
        let picture: PictureSummary
    }

    func validate() throws {
        if count < 1 { throw ValidationError("--count must be >= 1, got \(count)") }
    }

    func run() throws {
        let console = Console(quiet: false, json: json)
        let loaded = try LoadedModel.read(model)
        // Weights of shape (inputs, hidden units): one filter per column.
        let (weight, source) = loaded.hasStack || loaded.kind == .rbmStack
            ? (try loaded.stack(allowingLabels: true).layers[0].weight, "rbm.0.weight")
            : (try loaded.network().layers[0].weight, "layers.0.weight")
        let (height, width) = try loaded.imageShape(inputs: weight.rows)
        let shown = min(count, weight.columns)
        let grid = ImageGrid(tileWidth: width, tileHeight: height, columns: min(picture.columns, shown),
                             scaling: .eachTileMinMax, upscale: picture.upscale)
        let summary = try grid.image(columnsOf: weight, limit: shown).save(to: picture.output, tiles: shown)
        console.say("\(picture.output): \(shown) of the \(weight.columns) filters of \(model) (\(source), \(height)x\(width) each), \(summary.width)x\(summary.height) pixels")
        try console.emitJSON(Report(model: model, source: source, tileShape: [height, width], picture: summary))
    }
}

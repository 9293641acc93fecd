import ArgumentParser
import DeepBelief
import Foundation

/// `dbn sample`: what the model generates, by alternating Gibbs sampling.
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw samples of an RBM stack by Gibbs sampling, as a PNG of pixel probabilities.",
        discussion: """
            Starts from random test images passed up the stack (hidden probabilities) to the \
            sampled RBM (--layer: top, the default, or an index; 0 samples the first RBM alone), \
            runs --steps steps of alternating Gibbs sampling in it (h ~ p(h|v), v ~ p(v|h)), then \
            passes the last visible probabilities down to the pixels (visible probabilities of \
            each RBM below) and draws them.
            """)

    @Option(help: "A model file with an RBM stack (.safetensors).")
    var model: String

    @Option(help: "How many samples (independent chains).")
    var count = 20

    @Option(help: "Gibbs steps in the sampled RBM.")
    var steps = 1000

    @Option(help: "Which RBM to sample: top, or an index (0: the one that sees the pixels).")
    var layer = "top"

    @Option(help: "Seed of the starting images and of the Gibbs chains.")
    var seed: UInt64 = 1

    @OptionGroup var picture: PictureOptions
    @OptionGroup var dataOptions: TestImageOptions
    @OptionGroup var options: OutputOptions

    struct Report: Encodable {
        let model: String
        let layer: Int
        let steps: Int
        let seed: UInt64
        let startImages: [Int]
        let meanPixel: Double
        let picture: PictureSummary
    }

    func validate() throws {
        // One PNG tile per sample: a million is already a picture no one can look at.
        if !(1...1_000_000).contains(count) { throw ValidationError("--count must be between 1 and 1000000, got \(count)") }
        if steps < 0 { throw ValidationError("--steps must be >= 0, got \(steps)") }
        if layer != "top" && (Int(layer).map { $0 < 0 } ?? true) {
            throw ValidationError("--layer must be 'top' or an index >= 0, got '\(layer)'")
        }
    }

    func run() throws {
        let console = options.start()
        let stack = try LoadedModel.read(model).stack()
        let index = Int(layer) ?? stack.layers.count - 1
        guard index < stack.layers.count else {
            throw CLIError("\(model): --layer \(index) but the stack has \(stack.layers.count) RBM\(stack.layers.count == 1 ? "" : "s") (layers 0-\(stack.layers.count - 1))")
        }
        // The chains (visible and hidden states of every RBM passed through) and their starts.
        try Safeguards.requireMemory([[count, 4 * (stack.layerSizes.max() ?? 1)], [count, 2]],
                                     bytesPerElement: 4, option: "--count \(count)")
        let test = try dataOptions.loadTestImages()
        try ModelArchive.requireFits(file: model, inputs: stack.layerSizes[0], outputs: nil,
                                     pixels: test.images.columns, classes: nil)

        var generator = Xoshiro256StarStar(seed: seed)
        var order = Array(0..<test.images.rows)
        generator.shuffle(&order)
        let starts = (0..<count).map { order[$0 % order.count] }
        let pixels = stack.sample(layer: index, from: test.images.rows(at: starts), steps: steps, seed: seed)

        try Safeguards.requireFinite([("sampled pixel", Double(pixels.elements.first { !$0.isFinite } ?? 0))],
                                     file: model, source: "Gibbs sampling in rbm.\(index).weight")
        let columns = min(picture.columns, count)
        let (height, width) = ReconstructCommand.tileShape(test.imageShape)
        let grid = ImageGrid(tileWidth: width, tileHeight: height, columns: columns, scaling: .clampedToUnit,
                             upscale: picture.upscale)
        let summary = try grid.image(rowsOf: pixels).save(to: picture.output, tiles: count)
        let meanPixel = pixels.elements.reduce(0.0) { $0 + Double($1) } / Double(max(pixels.count, 1))
        console.say("\(picture.output): \(count) samples of RBM \(index) of \(stack.layerSizes.map(String.init).joined(separator: "-")) after \(steps) Gibbs steps (seed \(seed)), pixel probabilities, \(summary.width)x\(summary.height) pixels")
        try console.emitJSON(Report(model: model, layer: index, steps: steps, seed: seed, startImages: starts,
                                    meanPixel: meanPixel, picture: summary))
    }
}

import ArgumentParser
import DeepBelief
import Foundation

/// `dbn dream`: images a generative DBN makes of a chosen label.
struct DreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dream",
        abstract: "Generate images of a label with a generative DBN (label clamped in the top RBM), as PNG grids.",
        discussion: """
            For each label (--label, or every label with --all-labels): --count independent Gibbs \
            chains in the top RBM with the label clamped, --steps steps each, then the mean of the \
            units below the labels passed down through the generative weights (pixel probabilities). \
            One row of the grid per label. --frames N also writes a strip of one chain (the first) \
            after N evenly spaced steps to --frames-output. The chains start (--start) from the up \
            pass of a random binary image (noise, as the paper's figure 9) or from the top RBM's \
            visible biases. --anneal N runs the first N steps at inverse temperatures rising to 1 \
            (simulated annealing), which lets chains leave the mode they fall into first. \
            --classifier FILE classifies the dreamt images (a network from dbn train, or a \
            generative DBN by free energy) and reports how many show the clamped label.
            """)

    @Option(help: "A generative DBN (from dbn generative).")
    var model: String

    @Option(help: "The label to clamp (0-based).")
    var label: Int?

    @Flag(help: "Every label, one row each (an all-labels sheet).")
    var allLabels = false

    @Option(help: "Images (chains) per label.")
    var count = 10

    @Option(help: "Gibbs steps in the top RBM.")
    var steps = 1000

    @Option(help: "Seed of the chains.")
    var seed: UInt64 = 1

    @Option(help: "Where the chains start: noise (the up pass of a random binary image) or biases.")
    var start: GenerativeDeepBeliefNetwork.DreamStart = .noise

    @Option(help: "Simulated annealing: the first N of the --steps sample the top RBM at inverse temperatures rising from 1/(N+1) to N/(N+1) (every weight and bias scaled), so that a chain can leave the basin it falls into first (0: none).")
    var anneal = 0

    @Option(help: "A classifier for the dreamt images (a network, or a generative DBN): reports agreement with the clamped label.")
    var classifier: String?

    @Option(help: "Frames of the first chain to draw as a strip (0: none).")
    var frames = 0

    @Option(help: "Where to write the strip of frames (PNG).")
    var framesOutput: String?

    @Option(help: "Image shape as ROWSxCOLUMNS (default: from the model file, else square).")
    var shape: String?

    @OptionGroup var picture: PictureOptions
    @OptionGroup var options: OutputOptions

    struct Report: Encodable {
        let model: String
        let labels: [Int]
        let count: Int
        let steps: Int
        let seed: UInt64
        let picture: PictureSummary
        let frames: PictureSummary?
        let start: String
        /// The annealed steps (--anneal).
        let anneal: Int
        /// With --classifier: the fraction of dreamt images classified as their clamped label,
        /// overall and per label (in the order of `labels`).
        let agreement: Double?
        let agreementByLabel: [Double]?
    }

    func validate() throws {
        if (label == nil) == !allLabels { throw ValidationError("give either --label N or --all-labels") }
        if let label, label < 0 { throw ValidationError("--label must be >= 0, got \(label)") }
        if !(1...10_000).contains(count) { throw ValidationError("--count must be between 1 and 10000, got \(count)") }
        if !(0...1_000_000).contains(steps) { throw ValidationError("--steps must be between 0 and 1000000, got \(steps)") }
        if anneal < 0 || anneal > steps { throw ValidationError("--anneal must be between 0 and --steps (\(steps)), got \(anneal)") }
        if frames < 0 || frames > 1000 { throw ValidationError("--frames must be between 0 and 1000, got \(frames)") }
        if frames > 0 && framesOutput == nil { throw ValidationError("--frames needs --frames-output FILE.png") }
    }

    func run() throws {
        let console = options.start()
        let loaded = try LoadedModel.read(model)
        let dbn = try ModelArchive.generative(from: loaded.file)
        let labels = allLabels ? Array(0..<dbn.labelCount) : [label!]
        if let bad = labels.first(where: { $0 >= dbn.labelCount }) {
            throw CLIError("\(model): --label \(bad) but the model has \(dbn.labelCount) labels (0-\(dbn.labelCount - 1))")
        }
        let classify = try classifier.map { try Self.classifier($0, inputs: dbn.inputCount, labels: dbn.labelCount) }
        let (height, width) = try tileShape(pixels: dbn.inputCount, file: loaded.file)
        let frameSteps = frames > 0 ? (1...frames).map { max(1, $0 * steps / frames) } : []
        var rows: [Float] = []
        var strip: Matrix?
        for l in labels {
            let (images, frameImages) = dbn.dream(label: l, count: count, steps: steps, seed: seed &+ UInt64(l),
                                                  start: start, annealing: anneal, frames: l == labels[0] ? frameSteps : [])
            rows += images.elements
            if !frameImages.isEmpty { strip = Matrix(rows: frameImages.count, columns: dbn.inputCount,
                                                      elements: frameImages.flatMap { Array($0.elements[0..<dbn.inputCount]) }) }
        }
        let pixels = Matrix(rows: labels.count * count, columns: dbn.inputCount, elements: rows)
        try Safeguards.requireFinite([("dreamt pixel", Double(pixels.elements.first { !$0.isFinite } ?? 0))],
                                     file: model, source: "Gibbs sampling in the top RBM")
        let grid = ImageGrid(tileWidth: width, tileHeight: height, columns: count, scaling: .clampedToUnit,
                             upscale: picture.upscale)
        let summary = try grid.image(rowsOf: pixels).save(to: picture.output, tiles: pixels.rows)
        console.say("\(picture.output): \(count) images of label\(labels.count == 1 ? " \(labels[0])" : "s 0-\(labels.count - 1), one row each") after \(steps) Gibbs steps in the top RBM\(anneal > 0 ? ", the first \(anneal) annealed" : "") (seed \(seed)), \(summary.width)x\(summary.height) pixels")
        var frameSummary: PictureSummary?
        if let strip, let framesOutput {
            let stripGrid = ImageGrid(tileWidth: width, tileHeight: height, columns: strip.rows, scaling: .clampedToUnit,
                                      upscale: picture.upscale)
            frameSummary = try stripGrid.image(rowsOf: strip).save(to: framesOutput, tiles: strip.rows)
            console.say("\(framesOutput): one chain of label \(labels[0]) after steps \(frameSteps.map(String.init).joined(separator: ", "))")
        }
        var agreement: Double?, byLabel: [Double]?
        if let classify, let classifier {
            let predicted = classify(pixels)
            byLabel = labels.enumerated().map { i, l in
                Double(predicted[(i * count)..<((i + 1) * count)].filter { $0 == l }.count) / Double(count)
            }
            agreement = byLabel!.reduce(0, +) / Double(labels.count)
            console.say("\(classifier) classifies \(TextLayout.percent(agreement!)) of the dreamt images as their clamped label (by label: \(byLabel!.map { TextLayout.percent($0) }.joined(separator: " ")); chance \(TextLayout.percent(1 / Double(dbn.labelCount))))")
        }
        try console.emitJSON(Report(model: model, labels: labels, count: count, steps: steps, seed: seed,
                                    picture: summary, frames: frameSummary, start: start.rawValue, anneal: anneal,
                                    agreement: agreement, agreementByLabel: byLabel))
    }

    /// The classifier in `path`: a network's most probable class, or a generative DBN's label
    /// of least free energy. Errors name the file when it does not fit the dreams.
    static func classifier(_ path: String, inputs: Int, labels: Int) throws -> (Matrix) -> [Int] {
        let loaded = try LoadedModel.read(path)
        if loaded.kind == .rbmStack && loaded.file.metadata[ModelArchive.Key.labelCount] != nil {
            let dbn = try ModelArchive.generative(from: loaded.file)
            try ModelArchive.requireFits(file: path, inputs: dbn.inputCount, outputs: dbn.labelCount, pixels: inputs,
                                         classes: labels)
            return { dbn.classify($0) }
        }
        let network = try loaded.network()
        try ModelArchive.requireFits(file: path, inputs: network.inputCount, outputs: network.outputCount,
                                     pixels: inputs, classes: labels)
        return { network.classify($0) }
    }

    /// The tile shape: --shape, else the model's input_shape metadata, else a square.
    private func tileShape(pixels: Int, file: SafeTensors) throws -> (Int, Int) {
        if let shape {
            let parts = shape.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts[0] * parts[1] == pixels else {
                throw CLIError("--shape \(shape): expected ROWSxCOLUMNS with \(pixels) pixels")
            }
            return (parts[0], parts[1])
        }
        if let raw = file.metadata[ModelArchive.Key.inputShape],
           let dims = try? JSONDecoder().decode([Int].self, from: Data(raw.utf8)), dims.reduce(1, *) == pixels {
            return ReconstructCommand.tileShape(dims)
        }
        let side = Int(Double(pixels).squareRoot())
        return side * side == pixels ? (side, side) : (1, pixels)
    }
}

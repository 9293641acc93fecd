import ArgumentParser
import DeepBelief
import Foundation

/// `--tensorboard DIR`, shared by the training subcommands.
struct TensorBoardOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write TensorBoard event files in this folder, one sub-folder per phase or arm (view with tensorboard --logdir DIR).",
                               valueName: "dir"))
    var tensorboard: String?

    @Option(help: ArgumentHelp("With --tensorboard: write per-step scalars (the minibatch's loss or reconstruction error, the learning rate, each layer's gradient norm) every N minibatch steps.",
                               valueName: "n"))
    var tensorboardEvery: Int = 50

    /// Checks before any training that the folder exists or can be created, and is writable.
    func validate() throws {
        if tensorboardEvery < 1 { throw ValidationError("--tensorboard-every must be >= 1, got \(tensorboardEvery)") }
        guard let folder = tensorboard else { return }
        switch FileIO.kind(of: folder) {
        case .file: throw ValidationError("--tensorboard \(folder): is a file, expected a folder")
        case .missing:
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw ValidationError("--tensorboard \(folder): cannot create the folder (\(error.localizedDescription))")
            }
        case .directory: break
        }
        guard FileManager.default.isWritableFile(atPath: folder) else {
            throw ValidationError("--tensorboard \(folder): the folder is not writable")
        }
    }
}

/// The TensorBoard side of a training command: one event file per run (phase or arm) in a
/// sub-folder of `folder` named after it, written from the reports the library hands out.
///
/// Pre-training (step = epoch of the layer, from 1): `layerN/reconstruction_error`,
/// `layerN/momentum` and every monitor the report carries; histograms `layerN/weights`,
/// `layerN/visible_biases`, `layerN/hidden_biases`, `layerN/hidden_probabilities` (on the probe:
/// the first 1000 training images passed up the stack); images `layer1/reconstructions` (ten
/// training images above their reconstructions) every epoch and, at the end, `layer1/filters`
/// and `layer1/samples` (Gibbs chains of the first RBM). Every `every` steps of a layer (step =
/// minibatch of the layer): `rbm_step/reconstruction_error/layerN`, `rbm_step/learning_rate/layerN`,
/// `rbm_step/gradient_norm/layerN` (|G|, the CD statistics: another quantity than
/// fine-tuning's `step/gradient_norm/layerN`, hence another group).
/// Up-down (step = epoch): `wake_error/layerN`, `top/reconstruction_error`, `top/cd_steps`,
/// `error/test` (see `upDownEpoch`).
/// Fine-tuning (step = epoch): `loss/train`, `error/train`, `loss|error/validation|test`,
/// `learning_rate`, per layer `layerN/gradient_norm` and the activation statistics;
/// histograms `layerN/weights`, `layerN/biases`, `layerN/pre_activations` and
/// `layerN/weight_gradients` (on the probe: the first 1000 training samples); image
/// `layer1/filters`. Every `every` steps (step = minibatch of the run): `step/loss`,
/// `step/learning_rate`, `step/gradient_norm/layerN`.
/// A failed write is reported once on stderr and ends the TensorBoard output, not the training.
final class TensorBoardLog {
    let folder: String
    /// Per-step scalars every this many minibatch steps.
    let every: Int
    private var writers: [String: TensorBoardWriter] = [:]
    private var failed = false
    /// Pre-training's probe: its images at the input of each layer, and the last parameters of
    /// each layer seen (to pass the probe up to the next).
    private var pretrainingProbe: [Int: Matrix] = [:]
    private var lastRBM: [Int: RBM] = [:]

    init(folder: String, every: Int = 50) {
        self.folder = folder
        self.every = every
    }

    /// Images watched in pre-training (at most 1000 rows are kept).
    static let probeRows = 1000

    /// Runs `body` with the writer of `run`, unless an earlier write failed.
    private func record(_ run: String, _ body: (TensorBoardWriter) throws -> Void) {
        guard !failed else { return }
        do {
            let writer = try writers[run] ?? TensorBoardWriter(folder: FileIO.join(folder, run))
            writers[run] = writer
            try body(writer)
        } catch {
            failed = true
            FileHandle.standardError.write(Data("warning: --tensorboard: \(error); no more TensorBoard output\n".utf8))
        }
    }

    /// Writes the optional scalars that are present.
    private static func scalars(_ writer: TensorBoardWriter, _ values: [(String, Double?)], step: Int) throws {
        for case let (tag, value?) in values { try writer.scalar(tag: tag, value: value, step: step) }
    }

    // MARK: Pre-training

    func pretrainEpoch(run: String, layer: Int, report: RBMEpochReport) {
        let prefix = "layer\(layer + 1)/"
        record(run) { writer in
            try Self.scalars(writer, [
                ("reconstruction_error", report.reconstructionError), ("momentum", Double(report.momentum)),
                ("free_energy_training", report.freeEnergyGap?.training),
                ("free_energy_held_out", report.freeEnergyGap?.heldOut), ("free_energy_gap", report.freeEnergyGap?.gap),
                ("pseudo_log_likelihood", report.pseudoLogLikelihood),
                ("ais_log_z", report.annealedImportanceSampling?.logZ),
                ("log_likelihood_training", report.trainingLogLikelihood),
                ("log_likelihood_held_out", report.heldOutLogLikelihood),
            ].map { (prefix + $0.0, $0.1) }, step: report.epoch + 1)
        }
    }

    /// The per-step scalars of a pre-training step whose gradient norm was measured.
    func pretrainStep(run: String, layer: Int, progress step: MinibatchProgress) {
        guard let norms = step.gradientNorms else { return }
        let suffix = "/layer\(layer + 1)"
        record(run) { writer in
            try writer.scalar(tag: "rbm_step/reconstruction_error" + suffix, value: step.loss, step: step.step)
            try writer.scalar(tag: "rbm_step/learning_rate" + suffix, value: step.learningRate, step: step.step)
            if let norm = norms.first { try writer.scalar(tag: "rbm_step/gradient_norm" + suffix, value: norm, step: step.step) }
        }
    }

    /// Sets pre-training's probe: the first `probeRows` rows of the training images.
    func setPretrainingProbe(_ images: Matrix) {
        pretrainingProbe = [0: images.rows(in: 0..<min(Self.probeRows, images.rows))]
        lastRBM = [:]
    }

    /// The probe at the input of `layer`, passed up through the last parameters seen of the
    /// layers below (nil when a layer below was trained in an earlier run).
    private func probe(atLayer layer: Int, columns: Int) -> Matrix? {
        if let probe = pretrainingProbe[layer] { return probe.columns == columns ? probe : nil }
        guard layer > 0, let below = probe(atLayer: layer - 1, columns: lastRBM[layer - 1]?.visibleCount ?? -1),
              let rbm = lastRBM[layer - 1] else { return nil }
        let probe = rbm.hiddenProbabilities(below)
        pretrainingProbe[layer] = probe
        return probe.columns == columns ? probe : nil
    }

    func parameters(run: String, layer: Int, rbm: RBM, step: Int) {
        let prefix = "layer\(layer + 1)/"
        lastRBM[layer] = rbm
        let probe = self.probe(atLayer: layer, columns: rbm.visibleCount)
        record(run) { writer in
            try writer.histogram(tag: prefix + "weights", values: rbm.weight.elements, step: step)
            try writer.histogram(tag: prefix + "visible_biases", values: rbm.visibleBias, step: step)
            try writer.histogram(tag: prefix + "hidden_biases", values: rbm.hiddenBias, step: step)
            guard let probe else { return }
            try writer.histogram(tag: prefix + "hidden_probabilities", values: rbm.hiddenProbabilities(probe).elements, step: step)
            if layer == 0, probe.rows > 0, let grid = Self.imageGrid(pixels: rbm.visibleCount, columns: min(10, probe.rows)) {
                // Ten training images (top row) and their mean-field reconstructions (bottom row).
                let shown = probe.rows(in: 0..<min(10, probe.rows))
                let reconstructed = rbm.visibleProbabilities(rbm.hiddenProbabilities(shown))
                try writer.image(tag: "layer1/reconstructions",
                                 grid.image(tiles: (0..<shown.rows).map { shown.row($0) } + (0..<shown.rows).map { reconstructed.row($0) }),
                                 step: step)
            }
        }
    }

    /// A grid of square tiles of `pixels` pixels scaled to [0, 1] (nil when not square).
    private static func imageGrid(pixels: Int, columns: Int) -> ImageGrid? {
        let side = Int(Double(pixels).squareRoot().rounded())
        guard side * side == pixels else { return nil }
        return ImageGrid(tileWidth: side, tileHeight: side, columns: columns, scaling: .clampedToUnit)
    }

    /// Ten samples of the first RBM at the end of pre-training: Gibbs chains of `steps` steps
    /// started from the first ten probe images (an observer: its own keyed draws).
    func samples(run: String, stack: DeepBeliefNetwork, seed: UInt64, step: Int, steps: Int = 100) {
        guard let first = stack.layers.first, let probe = pretrainingProbe[0], probe.columns == first.visibleCount,
              probe.rows > 0, let grid = Self.imageGrid(pixels: first.visibleCount, columns: min(10, probe.rows)) else { return }
        let samples = stack.sample(layer: 0, from: probe.rows(in: 0..<min(10, probe.rows)), steps: steps, seed: seed)
        record(run) { writer in
            try writer.image(tag: "layer1/samples", grid.image(rowsOf: samples), step: step)
        }
    }

    /// The first layer's filters (at most 100), when its inputs make a square image.
    func filters(run: String, stack: DeepBeliefNetwork, step: Int) {
        guard let weight = stack.layers.first?.weight else { return }
        filters(run: run, weight: weight, step: step)
    }

    /// The filters of a first-layer weight matrix (inputs x units) as a grid image.
    private func filters(run: String, weight: Matrix, step: Int) {
        let side = Int(Double(weight.rows).squareRoot().rounded())
        guard side * side == weight.rows else { return }
        let grid = ImageGrid(tileWidth: side, tileHeight: side, scaling: .eachTileMinMax)
        record(run) { writer in
            try writer.image(tag: "layer1/filters", grid.image(columnsOf: weight, limit: 100), step: step)
        }
    }

    // MARK: Fine-tuning

    func fineTuneEpoch(run: String, report: EpochReport) {
        record(run) { writer in
            try Self.scalars(writer, [
                ("loss/train", report.trainLoss), ("error/train", report.trainError),
                ("loss/validation", report.validationLoss), ("error/validation", report.validationError),
                ("loss/test", report.testLoss), ("error/test", report.testError),
                ("learning_rate", Double(report.learningRate)),
            ], step: report.epoch)
            for layer in report.layers {
                let prefix = "layer\(layer.layer)/"
                try Self.scalars(writer, [
                    ("gradient_norm", layer.gradientNorm), ("activation_mean", layer.activationMean),
                    ("activation_std", layer.activationStandardDeviation),
                    ("saturated_fraction", layer.saturatedFraction), ("dead_fraction", layer.deadFraction),
                ].map { (prefix + $0.0, $0.1) }, step: report.epoch)
            }
        }
    }

    /// The per-step scalars of a fine-tuning step whose gradient norms were measured.
    func fineTuneStep(run: String, progress step: MinibatchProgress) {
        guard let norms = step.gradientNorms else { return }
        record(run) { writer in
            try writer.scalar(tag: "step/loss", value: step.loss, step: step.step)
            try writer.scalar(tag: "step/learning_rate", value: step.learningRate, step: step.step)
            for (l, norm) in norms.enumerated() {
                try writer.scalar(tag: "step/gradient_norm/layer\(l + 1)", value: norm, step: step.step)
            }
        }
    }

    /// The histograms of the network after epoch `step`: weights, biases and, on `probe`, each
    /// layer's pre-activations and weight gradient; the first layer's filters.
    func parameters(run: String, network: Network, probe: ProbeBatch?, step: Int) {
        let observed = probe?.observe(network)
        record(run) { writer in
            for (i, layer) in network.layers.enumerated() {
                try writer.histogram(tag: "layer\(i + 1)/weights", values: layer.weight.elements, step: step)
                try writer.histogram(tag: "layer\(i + 1)/biases", values: layer.bias, step: step)
                if let observed {
                    try writer.histogram(tag: "layer\(i + 1)/pre_activations", values: observed[i].preActivations, step: step)
                    try writer.histogram(tag: "layer\(i + 1)/weight_gradients", values: observed[i].weightGradient, step: step)
                }
            }
        }
        if let first = network.layers.first { filters(run: run, weight: first.weight, step: step) }
    }

    // MARK: Up-down

    /// One up-down epoch (step = epoch, from 1): `wake_error/layerN` (the error of predicting
    /// the wake states of layer N from the layer above; 0: the pixels),
    /// `top/reconstruction_error`, `top/cd_steps`, and `error/test` when measured.
    func upDownEpoch(run: String, report: UpDownEpochReport) {
        record(run) { writer in
            try Self.scalars(writer, (report.wakeErrors ?? [report.pixelError]).enumerated().map {
                ("wake_error/layer\($0.offset)", $0.element)
            } + [
                ("top/reconstruction_error", report.topReconstructionError), ("top/cd_steps", Double(report.cdSteps)),
                ("error/test", report.testError),
            ], step: report.epoch + 1)
        }
    }

    /// Makes everything written so far durable.
    func flush() {
        for writer in writers.values { try? writer.flush() }
    }
}

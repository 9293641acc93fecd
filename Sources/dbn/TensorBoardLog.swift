import ArgumentParser
import DeepBelief
import Foundation

/// `--tensorboard DIR`, shared by the training subcommands.
struct TensorBoardOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write TensorBoard event files in this folder, one sub-folder per phase or arm (view with tensorboard --logdir DIR).",
                               valueName: "dir"))
    var tensorboard: String?

    /// Checks before any training that the folder exists or can be created, and is writable.
    func validate() throws {
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
/// `layerN/visible_biases`, `layerN/hidden_biases`; at the end an image `layer1/filters`.
/// Up-down (step = epoch): `wake_error/layerN`, `top/reconstruction_error`, `top/cd_steps`,
/// `error/test` (see `upDownEpoch`).
/// Fine-tuning (step = epoch): `loss/train`, `error/train`, `loss|error/validation|test`,
/// `learning_rate`, per layer `layerN/gradient_norm` and the activation statistics;
/// histograms `layerN/weights`, `layerN/biases`.
/// A failed write is reported once on stderr and ends the TensorBoard output, not the training.
final class TensorBoardLog {
    let folder: String
    private var writers: [String: TensorBoardWriter] = [:]
    private var failed = false

    init(folder: String) { self.folder = folder }

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

    func parameters(run: String, layer: Int, rbm: RBM, step: Int) {
        let prefix = "layer\(layer + 1)/"
        record(run) { writer in
            try writer.histogram(tag: prefix + "weights", values: rbm.weight.elements, step: step)
            try writer.histogram(tag: prefix + "visible_biases", values: rbm.visibleBias, step: step)
            try writer.histogram(tag: prefix + "hidden_biases", values: rbm.hiddenBias, step: step)
        }
    }

    /// The first layer's filters (at most 100), when its inputs make a square image.
    func filters(run: String, stack: DeepBeliefNetwork, step: Int) {
        guard let weight = stack.layers.first?.weight else { return }
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

    func parameters(run: String, network: Network, step: Int) {
        record(run) { writer in
            for (i, layer) in network.layers.enumerated() {
                try writer.histogram(tag: "layer\(i + 1)/weights", values: layer.weight.elements, step: step)
                try writer.histogram(tag: "layer\(i + 1)/biases", values: layer.bias, step: step)
            }
        }
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

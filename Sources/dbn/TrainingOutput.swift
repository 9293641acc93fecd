import ArgumentParser
import DeepBelief
import Foundation

/// Checkpoint options shared by the training subcommands.
struct CheckpointOptions: ParsableArguments {
    @Option(help: "Save a checkpoint after every epoch in this folder (checkpoint.safetensors).")
    var checkpointDir: String?

    @Flag(help: "Continue from the checkpoint in --checkpoint-dir (same flags and seed; any --threads).")
    var resume = false

    func validate() throws {
        if resume && checkpointDir == nil { throw ValidationError("--resume needs --checkpoint-dir DIR") }
    }
}

/// What a training command prints around the library's `TrainingRun` (which owns the phases,
/// checkpoints, resumption and interruption): one line per epoch, a progress bar on a terminal,
/// `--log` records, `--tensorboard` event files.
final class TrainingOutput {
    let console: Console
    let log: JSONLogWriter?
    let board: TensorBoardLog?
    let run: TrainingRun
    /// Print one line every this many epochs (and the last of each phase).
    var printEvery = 1
    /// The images of each phase the command will run, in order (for the ETA of the whole
    /// command); consumed as phases start.
    var plannedImages: [Int] = []

    /// Whether epoch `epoch` (1-based) of `epochs` gets its line.
    func shouldPrint(epoch: Int, of epochs: Int) -> Bool { epoch % max(printEvery, 1) == 0 || epoch == epochs }

    /// The images planned after the phase now starting (and drops the phase from the plan).
    private func imagesAfterThisPhase() -> Int {
        if !plannedImages.isEmpty { plannedImages.removeFirst() }
        return plannedImages.reduce(0, +)
    }

    init(console: Console, logPath: String?, tensorboard: TensorBoardOptions? = nil,
         checkpoints: CheckpointOptions? = nil, fingerprint: String = "", printEvery: Int = 1) throws {
        self.console = console
        self.printEvery = printEvery
        self.log = try logPath.map { try JSONLogWriter(path: $0) }
        self.board = tensorboard.flatMap { options in options.tensorboard.map { TensorBoardLog(folder: $0, every: options.tensorboardEvery) } }
        do {
            run = try TrainingRun(checkpointFolder: checkpoints?.checkpointDir, resume: checkpoints?.resume ?? false,
                                  fingerprint: fingerprint)
        } catch let error as TrainingRunError {
            switch error {
            case .folderIsAFile(let folder): throw CLIError("\(folder): --checkpoint-dir is a file, expected a folder")
            case .noCheckpoint(let file): throw CLIError("\(file): no checkpoint to resume from (run without --resume first)")
            case .cannotCreateFolder, .folderInUse: throw CLIError(error.description)
            }
        } catch CheckpointError.differentRun(let file, let saved, let current) {
            let command = SettingDifference.leaves(current)["command"]
            let changes = SettingDifference.list(saved: saved, current: current).map { change in
                "\(Self.flag(of: change.setting, command: command)) was \(change.saved ?? "not given"), now \(change.current ?? "not given")"
            }
            throw CLIError("\(file): the checkpoint was made with other flags: \(changes.joined(separator: "; ")); resume with the same flags or remove the checkpoint")
        }
        if let owner = run.staleLockOwner {
            console.say("Taking over the checkpoint folder from pid \(owner), which is no longer running")
        }
        if let path = run.checkpointPath {
            if let phase = run.resumedPhase { console.say("Resuming from \(path) (phase: \(phase))") }
            TrainingRun.stopOnInterrupt()
        }
        // Under mpirun, Ctrl-C reaches the ranks as SIGTERM (Open MPI ends the job; it does not
        // forward SIGINT): rank 0 (the others are silenced) says what was kept as it goes.
        if Collectives.current.size > 1 {
            FileIO.setTerminationLine("Error: stopped by a signal (Ctrl-C or SIGTERM to mpirun); " + (run.checkpointPath.map {
                "\($0) holds the last finished epoch (if any); run the same command with --resume to continue"
            } ?? "nothing was saved (no --checkpoint-dir)"))
        }
    }

    /// Runs a library configuration's `validate`: a setting out of range
    /// (`PretrainingError.invalidSetting`, `FineTuningError.invalidSetting`) becomes one error
    /// naming its flag, `phase.setting` mapped by `flag(of:command:)` (`pretrain.finalMomentum` is
    /// `--final-momentum`, `up_down.learningRate` is `--up-down-learning-rate`).
    static func checkSettings(of phase: String, _ validate: () throws -> Void) throws {
        func refusal(_ setting: String, _ requirement: String) -> ValidationError {
            ValidationError("\(flag(of: phase + "." + setting, command: nil)) \(requirement)")
        }
        do { try validate() } catch let PretrainingError.invalidSetting(setting, requirement) {
            throw refusal(setting, requirement)
        } catch let FineTuningError.invalidSetting(setting, requirement) {
            throw refusal(setting, requirement)
        }
    }

    /// The command-line flag behind a fingerprint setting (`finetune.learningRate` is
    /// `--finetune-learning-rate`), or the setting itself when no single flag sets it.
    static func flag(of setting: String, command: String?) -> String {
        let parts = setting.split(separator: ".").map(String.init)
        let name = parts.last ?? setting
        let phase = parts.count > 1 ? parts[parts.count - 2] : ""
        let pretraining = phase == "pretrain" || (phase == "config" && command == "pretrain")
        if parts.first == "up_down" {   // dbn generative's up-down settings
            switch name {
            case "epochs": return "--up-down-epochs"
            case "learningRate": return "--up-down-learning-rate"
            case "initialMomentum": return "--up-down-initial-momentum"
            case "finalMomentum": return "--up-down-momentum"
            case "weightCost": return "--up-down-weight-cost"
            case "discriminativeWeight": return "--up-down-discriminative-weight"
            case "persistent": return "--up-down-persistent"
            case "cdSchedule", "cdSteps": return "--cd-schedule"
            default: break
            }
        }
        switch name {
        case "epochs": return pretraining ? "--pretrain-epochs" : "--finetune-epochs"
        case "learningRate": return pretraining ? "--pretrain-learning-rate" : "--finetune-learning-rate"
        case "batchSize": return "--batch-size"
        case "seed": return "--seed"
        case "momentum": return "--momentum"
        case "initialMomentum": return "--initial-momentum"
        case "finalMomentum": return "--final-momentum"
        case "weightDecay": return "--weight-decay"
        case "weightCost": return "--weight-cost"
        case "maxNorm": return "--max-norm"
        case "inputDropout": return "--input-dropout"
        case "hiddenDropout": return "--dropout"
        case "schedule": return "--schedule"
        case "momentumSchedule": return "--momentum-schedule"
        case "validationCount": return "--validation"
        case "earlyStoppingPatience": return "--patience"
        case "freezeHiddenEpochs": return "--freeze-hidden-epochs"
        case "optimizer", "nesterov": return "--optimizer"
        case "cdSteps": return "--cd-steps"
        case "growCDSteps": return "--grow-cd-steps"
        case "persistent": return "--persistent"
        case "sparsityTarget": return "--sparsity-target"
        case "temperatures": return "--temperatures"
        case "hiddenOffsetRate": return "--hidden-offset-rate"
        case "discriminativeWeight": return "--discriminative-weight"
        case "resampleBinaryData", "binarize": return "--binarize"
        case "sizes": return "the layer sizes (--layers, or the data)"
        case "init": return "--init"
        case "baseline": return "--baseline"
        case "activation": return "--activation"
        case "baseline_activation": return "--baseline-activation"
        case "train_count", "count": return "the number of training images (--limit, or the data)"
        case "weights": return "--weights"
        case "lower_layers": return "--lower-layers (the file's content)"
        case "greedy_model": return "--greedy-model (the file's content)"
        case "data": return "the data files' content (SHA-256)"
        case "units": return "--visible-units/--hidden-units"
        case "batch_norm": return "--batch-norm"
        case "reproducible": return "--reproducible"
        default: return setting
        }
    }

    /// Records where the run comes from: in every checkpoint, and as the first `--log` record.
    /// (Called after `init`, which installs the Ctrl-C handler first: hashing the data takes time.)
    func record(_ provenance: Provenance) {
        run.provenance = provenance.metadata
        try? log?.write(WithProvenance(value: [String: String](), provenance: provenance))
    }

    /// Runs `body`, turning an interruption into the command line's advice.
    private func resumable<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let stop as TrainingInterrupted {
            throw CLIError("interrupted during \(stop.phase): checkpoint saved in \(stop.checkpoint); run the same command with --resume to continue",
                           everyProcess: true)  // all ranks agreed to stop here (TrainingRun.save)
        }
    }

    /// Greedy pre-training of `stack` (see `TrainingRun.pretrain`), printed. Returns the seconds.
    func pretrain(_ stack: inout DeepBeliefNetwork, on data: Matrix, configuration: RBMTrainingConfiguration,
                  monitors: MonitorOptions = .none, labels: [Int]? = nil, name: String = "pretrain",
                  onEpoch: ((Int, RBMEpochReport) -> Void)? = nil) throws -> Double {
        if run.isFinished(name) {
            _ = imagesAfterThisPhase()
            let seconds = try resumable { try run.pretrain(&stack, on: data, configuration: configuration, labels: labels, name: name) }
            console.say("Pre-training: done in an earlier run (\(secondsText(seconds)))")
            return seconds
        }
        let sizes = stack.layerSizes
        console.say("Pre-training \(sizes.map(String.init).joined(separator: "-")) greedily: CD-\(configuration.cdSteps)\(configuration.persistent ? " (persistent)" : ""), \(configuration.epochs) epochs per layer, batch \(configuration.batchSize), learning rate \(configuration.learningRate)")
        let bar = ProgressBar(label: "pre-training RBM", total: configuration.epochs * stack.layers.count * data.rows,
                              later: imagesAfterThisPhase(), enabled: ProgressLine.enabled(quiet: console.quiet))
        var lastLayer = -1, lastStep = 0
        board?.setPretrainingProbe(data)
        let seconds = try resumable {
            try run.pretrain(&stack, on: data, configuration: configuration, monitors: monitors, labels: labels, name: name, onEpoch: { layer, report in
                if layer != lastLayer {
                    self.console.say("  layer \(layer + 1): RBM \(sizes[layer]) -> \(sizes[layer + 1])")
                    lastLayer = layer
                }
                if self.shouldPrint(epoch: report.epoch + 1, of: configuration.epochs) { self.console.say("    \(report.summary)") }
                try? self.log?.write(PretrainLogRecord(phase: name, layer: layer, report: report))
                self.board?.pretrainEpoch(run: name, layer: layer, report: report)
                lastStep = report.epoch + 1
                onEpoch?(layer, report)
            }, onParameters: { layer, rbm in
                self.board?.parameters(run: name, layer: layer, rbm: rbm, step: lastStep)
            }, onMinibatch: { layer, step in
                bar.advance(rows: step.rows, loss: step.loss,
                            epoch: "\(layer + 1)/\(sizes.count - 1) epoch \(step.epoch)/\(configuration.epochs)")
                self.board?.pretrainStep(run: name, layer: layer, progress: step)
            }, gradientNormsEvery: board?.every ?? 0)
        }
        bar.finish()
        board?.filters(run: name, stack: stack, step: configuration.epochs)
        board?.samples(run: name, stack: stack, seed: configuration.seed, step: configuration.epochs)
        board?.flush()
        return seconds
    }

    /// Up-down fine-tuning of `model` (see `TrainingRun.upDown`), printed; `onEpoch` after each
    /// epoch. Returns the seconds.
    func upDown(_ model: inout GenerativeDeepBeliefNetwork, on data: Matrix, labels: [Int],
                configuration: UpDownConfiguration, name: String = "up-down",
                test: (images: Matrix, labels: [Int])? = nil, testEvery: Int = 1,
                onEpoch: ((UpDownEpochReport) -> Void)? = nil) throws -> Double {
        if run.isFinished(name) {
            let seconds = try resumable {
                try run.upDown(&model, on: data, labels: labels, configuration: configuration, name: name)
            }
            console.say("Up-down: done in an earlier run (\(secondsText(seconds)))")
            return seconds
        }
        console.say("Up-down fine-tuning: \(configuration.epochs) epochs, batch \(configuration.batchSize), learning rate \(configuration.learningRate), \(configuration.persistent ? "persistent CD" : "CD-k") in the top RBM with k = \(configuration.cdSchedule.map(String.init).joined(separator: ", ")) over equal parts of the run")
        let seconds = try resumable {
            try run.upDown(&model, on: data, labels: labels, configuration: configuration, name: name, test: test,
                           testEvery: testEvery) { report in
                let top = report.topReconstructionError.map { ", top RBM recon \(String(format: "%.3f", $0))" } ?? ""
                let test = report.testError.map { ", test error \(TextLayout.percent($0))" } ?? ""
                if self.shouldPrint(epoch: report.epoch + 1, of: report.epochs) {
                    self.console.say("    epoch \(report.epoch + 1)/\(report.epochs): CD-\(report.cdSteps), pixel error \(String(format: "%.3f", report.pixelError)) per image\(top)\(test), \(secondsText(report.seconds))")
                }
                try? self.log?.write(UpDownLogRecord(phase: name, report: report))
                self.board?.upDownEpoch(run: name, report: report)
                onEpoch?(report)
            }
        }
        board?.flush()
        return seconds
    }

    /// Fine-tuning of `network` (see `TrainingRun.finetune`), printed under `title`.
    func finetune(_ network: Network, data: LabeledData, test: LabeledData?, configuration: TrainingConfiguration,
                  name: String, title: String) throws -> (result: TrainingResult, seconds: Double) {
        var lastStep = 0
        if run.isFinished(name) {
            _ = imagesAfterThisPhase()
            let done = try resumable { try run.finetune(network, data: data, test: test, configuration: configuration, name: name) }
            console.say("\(title): done in an earlier run")
            return done
        }
        console.say("\(title): \(network.sizes.map(String.init).joined(separator: "-")) \(network.hiddenActivation.name), \(configuration.optimizer.name)\(configuration.nesterov ? " (Nesterov)" : ""), \(configuration.epochs) epochs, batch \(configuration.batchSize), learning rate \(configuration.learningRate)")
        let trainingRows = data.count - configuration.validationCount
        let bar = ProgressBar(label: name == "finetune" ? "fine-tuning" : name, total: configuration.epochs * trainingRows,
                              later: imagesAfterThisPhase(), enabled: ProgressLine.enabled(quiet: console.quiet))
        let probe = board.map { _ in ProbeBatch(data) }
        let done = try resumable {
            try run.finetune(network, data: data, test: test, configuration: configuration, name: name, onEpoch: { report in
                if self.shouldPrint(epoch: report.epoch, of: configuration.epochs) { self.console.say("    \(report.summary)") }
                try? self.log?.write(FineTuneLogRecord(phase: name, report: report))
                self.board?.fineTuneEpoch(run: name, report: report)
                lastStep = report.epoch
            }, onParameters: { network in
                self.board?.parameters(run: name, network: network, probe: probe, step: lastStep)
            }, onMinibatch: { step in
                bar.advance(rows: step.rows, loss: step.loss, epoch: "epoch \(step.epoch)/\(configuration.epochs)")
                self.board?.fineTuneStep(run: name, progress: step)
            }, gradientNormsEvery: board?.every ?? 0)
        }
        bar.finish()
        board?.flush()
        return done
    }
}

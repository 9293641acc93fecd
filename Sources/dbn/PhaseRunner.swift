import ArgumentParser
import DeepBelief
import Foundation
import Synchronization

/// Set by SIGINT; training stops after the next checkpoint is written.
let interruptRequested = Atomic<Bool>(false)

/// Stops a run after a checkpoint was saved (Ctrl-C).
struct Interrupted: Error, CustomStringConvertible {
    let checkpoint: String
    let phase: String
    var description: String {
        "interrupted during \(phase): checkpoint saved in \(checkpoint); run the same command with --resume to continue"
    }
}

/// Where per-epoch output, `--log` records, checkpoints and Ctrl-C meet: runs the phases of a
/// training command (pre-training, fine-tuning runs) one after another, saving a checkpoint
/// after every epoch when `--checkpoint-dir` is given, and skipping finished phases on `--resume`.
final class PhaseRunner {
    let console: Console
    let log: JSONLogWriter?
    let checkpointPath: String?
    private(set) var checkpoint: Checkpoint?

    /// Checkpoint options shared by the training subcommands.
    struct Options: ParsableArguments {
        @Option(help: "Save a checkpoint after every epoch in this folder (checkpoint.safetensors).")
        var checkpointDir: String?

        @Flag(help: "Continue from the checkpoint in --checkpoint-dir (same flags, seed and --threads).")
        var resume = false

        func validate() throws {
            if resume && checkpointDir == nil { throw ValidationError("--resume needs --checkpoint-dir DIR") }
        }
    }

    init(console: Console, logPath: String?, checkpointDir: String? = nil, resume: Bool = false,
         fingerprint: String = "") throws {
        self.console = console
        self.log = try logPath.map { try JSONLogWriter(path: $0) }
        if let dir = checkpointDir {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: dir, isDirectory: &isFolder) {
                guard isFolder.boolValue else { throw CLIError("\(dir): --checkpoint-dir is a file, expected a folder") }
            } else {
                do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                    throw CLIError("\(dir): cannot create the checkpoint folder (\(error.localizedDescription))")
                }
            }
            let path = (dir as NSString).appendingPathComponent("checkpoint.safetensors")
            checkpointPath = path
            // A run killed while writing leaves its temporary file (the checkpoint itself is
            // intact: it is only ever replaced by a rename); remove such leftovers.
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
            where name.hasPrefix(".checkpoint.safetensors.tmp-") {
                try? FileManager.default.removeItem(atPath: (dir as NSString).appendingPathComponent(name))
            }
            if resume {
                guard FileManager.default.fileExists(atPath: path) else {
                    throw CLIError("\(path): no checkpoint to resume from (run without --resume first)")
                }
                checkpoint = try Checkpoint.read(from: path, fingerprint: fingerprint)
                console.say("Resuming from \(path) (phase: \(checkpoint!.phase))")
            } else {
                checkpoint = Checkpoint(fingerprint: fingerprint)
            }
            PhaseRunner.installInterruptHandler()
        } else {
            checkpointPath = nil
        }
    }

    /// Ctrl-C sets a flag; the run stops after the next checkpoint. A second Ctrl-C exits at once.
    static func installInterruptHandler() {
        // A parent may have started us with SIGINT blocked (the mask is inherited): unblock it.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        signal(SIGINT) { _ in
            if interruptRequested.exchange(true, ordering: .relaxed) { _exit(130) }
        }
    }

    /// Saves the checkpoint, then stops if Ctrl-C was pressed.
    private func save(phase: String) throws {
        guard let checkpointPath, var checkpoint else { return }
        checkpoint.phase = phase
        try checkpoint.write(to: checkpointPath)
        self.checkpoint = checkpoint
        if interruptRequested.load(ordering: .relaxed) { throw Interrupted(checkpoint: checkpointPath, phase: phase) }
    }

    // MARK: Greedy pre-training

    /// Pre-trains `stack` greedily (or takes it from the checkpoint when that phase is done).
    /// Returns the seconds spent (as recorded, for a finished phase).
    func pretrain(_ stack: inout DeepBeliefNetwork, on data: Matrix, configuration: RBMTrainingConfiguration,
                  monitors: MonitorOptions = .none, name: String = "pretrain",
                  onEpoch: ((Int, RBMEpochReport) -> Void)? = nil) throws -> Double {
        if let done = try checkpoint?.value("\(name).seconds", as: Double.self),
           let saved = try checkpoint?.stack(prefix: "\(name).result") {
            stack = saved
            console.say("Pre-training: done in an earlier run (\(secondsText(done)))")
            return done
        }
        var generator = Xoshiro256StarStar(seed: configuration.seed)
        let resumeFrom = try checkpoint?.stackProgress(prefix: "\(name).progress")
        var elapsed = (try checkpoint?.value("\(name).elapsed", as: Double.self)) ?? 0
        let sizes = stack.layerSizes
        let totalEpochs = configuration.epochs * stack.layers.count
        console.say("Pre-training \(sizes.map(String.init).joined(separator: "-")) greedily: CD-\(configuration.cdSteps)\(configuration.persistent ? " (persistent)" : ""), \(configuration.epochs) epochs per layer, batch \(configuration.batchSize), learning rate \(configuration.learningRate)")
        let bar = ProgressBar(label: "pre-training", total: totalEpochs, enabled: Console.stderrIsTerminal && !console.quiet)
        var lastLayer = -1
        let configurations = Array(repeating: configuration, count: stack.layers.count)
        try stack.pretrain(on: data, configurations: configurations, monitors: monitors, generator: &generator,
                           resumeFrom: resumeFrom, onEpoch: { layer, report in
            if layer != lastLayer {
                bar.finish()
                self.console.say("  layer \(layer + 1): RBM \(sizes[layer]) -> \(sizes[layer + 1])")
                lastLayer = layer
            }
            elapsed += report.seconds + report.monitorSeconds
            bar.finish()
            self.console.say("    \(report.summary)")
            bar.update(done: layer * configuration.epochs + report.epoch + 1)
            try? self.log?.write(PretrainLogRecord(phase: name, layer: layer, report: report))
            onEpoch?(layer, report)
        }, onProgress: { progress in
            guard self.checkpoint != nil else { return }
            self.checkpoint!.setStackProgress(progress, prefix: "\(name).progress")
            self.checkpoint!.setValue("\(name).elapsed", elapsed)
            try self.save(phase: name)
        })
        bar.finish()
        if checkpoint != nil {
            checkpoint!.remove(prefix: "\(name).progress.")
            checkpoint!.setValue("\(name).progress", Optional<Int>.none)
            checkpoint!.setStack(stack, prefix: "\(name).result")
            checkpoint!.setValue("\(name).seconds", elapsed)
            try save(phase: name + " done")
        }
        return elapsed
    }

    // MARK: Fine-tuning

    /// Fine-tunes `network` (or takes the result from the checkpoint when that run is done).
    func finetune(_ network: Network, data: LabeledData, test: LabeledData?, configuration: TrainingConfiguration,
                  name: String, title: String) throws -> (result: TrainingResult, seconds: Double) {
        if let done = try checkpoint?.value("\(name).seconds", as: Double.self),
           let saved = try checkpoint?.network(prefix: "\(name).result"),
           let reports = try checkpoint?.value("\(name).reports", as: [EpochReport].self),
           let bestEpoch = try checkpoint?.value("\(name).best_epoch", as: Int.self) {
            console.say("\(title): done in an earlier run")
            return (TrainingResult(network: saved, reports: reports, bestEpoch: bestEpoch, stoppedEarly: false), done)
        }
        var generator = Xoshiro256StarStar(seed: configuration.seed)
        let resumeFrom = try checkpoint?.fineTuningProgress(prefix: "\(name).progress")
        var elapsed = (try checkpoint?.value("\(name).elapsed", as: Double.self)) ?? 0
        console.say("\(title): \(network.sizes.map(String.init).joined(separator: "-")) \(network.hiddenActivation.name), \(configuration.optimizer.name)\(configuration.nesterov ? " (Nesterov)" : ""), \(configuration.epochs) epochs, batch \(configuration.batchSize), learning rate \(configuration.learningRate)")
        let bar = ProgressBar(label: title, total: configuration.epochs, enabled: Console.stderrIsTerminal && !console.quiet)
        let result = try Trainer(configuration: configuration).train(
            network, data: data, test: test, generator: &generator, resumeFrom: resumeFrom,
            onEpoch: { report, _ in
                elapsed += report.seconds + report.evaluationSeconds
                bar.finish()
                self.console.say("    \(report.summary)")
                bar.update(done: report.epoch)
                try? self.log?.write(FineTuneLogRecord(phase: name, report: report))
            },
            onProgress: { progress in
                guard self.checkpoint != nil else { return }
                self.checkpoint!.setFineTuningProgress(progress, prefix: "\(name).progress")
                self.checkpoint!.setValue("\(name).elapsed", elapsed)
                try self.save(phase: name)
            })
        bar.finish()
        if checkpoint != nil {
            checkpoint!.remove(prefix: "\(name).progress.")
            checkpoint!.setValue("\(name).progress", Optional<Int>.none)
            checkpoint!.setNetwork(result.network, prefix: "\(name).result")
            checkpoint!.setValue("\(name).reports", result.reports)
            checkpoint!.setValue("\(name).best_epoch", result.bestEpoch)
            checkpoint!.setValue("\(name).seconds", elapsed)
            try save(phase: name + " done")
        }
        return (result, elapsed)
    }
}

/// One `--log` record per pre-training epoch.
struct PretrainLogRecord: Encodable {
    let phase: String
    let layer: Int
    let epoch: Int
    let seconds: Double
    let monitorSeconds: Double
    let momentum: Float
    let reconstructionError: Double
    let summedReconstructionError: Double
    let freeEnergyTraining: Double?
    let freeEnergyHeldOut: Double?
    let freeEnergyGap: Double?
    let pseudoLogLikelihood: Double?
    let aisLogZ: Double?
    let aisLogZLow: Double?
    let aisLogZHigh: Double?
    let trainingLogLikelihood: Double?
    let heldOutLogLikelihood: Double?

    init(phase: String, layer: Int, report: RBMEpochReport) {
        self.phase = phase
        self.layer = layer
        epoch = report.epoch + 1
        seconds = report.seconds
        monitorSeconds = report.monitorSeconds
        momentum = report.momentum
        reconstructionError = report.reconstructionError
        summedReconstructionError = report.summedReconstructionError
        freeEnergyTraining = report.freeEnergyGap?.training
        freeEnergyHeldOut = report.freeEnergyGap?.heldOut
        freeEnergyGap = report.freeEnergyGap?.gap
        pseudoLogLikelihood = report.pseudoLogLikelihood
        aisLogZ = report.annealedImportanceSampling?.logZ
        aisLogZLow = report.annealedImportanceSampling?.logZLow
        aisLogZHigh = report.annealedImportanceSampling?.logZHigh
        trainingLogLikelihood = report.trainingLogLikelihood
        heldOutLogLikelihood = report.heldOutLogLikelihood
    }
}

/// One `--log` record per fine-tuning epoch (the report with every diagnostic).
struct FineTuneLogRecord: Encodable {
    let phase: String
    let report: EpochReport

    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(phase, forKey: .phase)
    }
    enum Key: String, CodingKey { case phase }
}

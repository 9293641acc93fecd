import Files
import FineTuning
import Foundation
import Linalg
import Pretraining
import Synchronization

/// A training run made of phases (greedy pre-training, fine-tuning runs) that saves a checkpoint
/// after every epoch and, resumed, skips the finished phases and continues the unfinished one
/// where it stopped, ending bit-identical to an uninterrupted run.
///
/// Without a checkpoint folder the phases simply run. With one, `checkpoint.safetensors` in it
/// is replaced atomically after every epoch; after a crash it is the previous complete
/// checkpoint or the new one. `TrainingRun.requestInterrupt()` (e.g. from a SIGINT handler, see
/// `stopOnInterrupt()`) stops the run with `TrainingInterrupted` after the next checkpoint.
///
/// ```swift
/// let run = try TrainingRun(checkpointFolder: "checkpoints", resume: true, fingerprint: "my settings")
/// var stack = DeepBeliefNetwork(layerSizes: [784, 500], generator: &generator)
/// try run.pretrain(&stack, on: images, configuration: RBMTrainingConfiguration(epochs: 5))
/// ```
public final class TrainingRun {
    /// The checkpoint file (`checkpoint.safetensors` in the folder), or nil without one.
    public let checkpointPath: String?
    /// The checkpoint as last saved (or read on resumption); nil without a checkpoint folder.
    public private(set) var checkpoint: Checkpoint?
    /// The phase the resumed checkpoint was saved in, or nil when not resuming.
    public let resumedPhase: String?
    /// Metadata written into every checkpoint (e.g. `Provenance.metadata`).
    public var provenance: [String: String] = [:]
    /// The pid written in a lock file whose owner is gone (a killed run): its lock was taken over.
    public private(set) var staleLockOwner: Int32?
    /// The open lock file (`.lock` in the folder, `flock`ed) while the run owns the folder.
    private var lockDescriptor: Int32 = -1

    /// The name of the lock file in the checkpoint folder.
    public static let lockName = ".lock"

    /// The name of the checkpoint file in the folder.
    public static let checkpointName = "checkpoint.safetensors"

    /// Set by `requestInterrupt()`: the run stops after its next checkpoint.
    static let interruptRequested = Atomic<Bool>(false)

    /// A run; with `checkpointFolder`, creates the folder if needed, removes temporary files a
    /// killed run left behind, and with `resume` reads the checkpoint, which must have been made
    /// by a run with the same `fingerprint` (the settings that must not change, e.g. as JSON).
    /// A process that does not write files (`FileIO.writesFiles` false: ranks > 0 of an MPI
    /// run) neither creates, locks nor cleans the folder and saves nothing; it reads the
    /// checkpoint to resume like rank 0.
    public init(checkpointFolder: String? = nil, resume: Bool = false, fingerprint: String = "") throws {
        guard let folder = checkpointFolder else {
            precondition(!resume, "TrainingRun: resume needs a checkpoint folder")
            checkpointPath = nil
            resumedPhase = nil
            return
        }
        switch FileIO.kind(of: folder) {
        case .directory: break
        case .file: throw TrainingRunError.folderIsAFile(folder: folder)
        case .missing where FileIO.writesFiles:
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw TrainingRunError.cannotCreateFolder(folder: folder, reason: error.localizedDescription)
            }
        case .missing: break
        }
        let path = FileIO.join(folder, Self.checkpointName)
        checkpointPath = path
        if FileIO.writesFiles {
            (lockDescriptor, staleLockOwner) = try Self.lock(folder)
            // A run killed while writing leaves its temporary file (the checkpoint itself is
            // intact: it is only ever replaced by a rename); remove such leftovers.
            let leftover = FileIO.temporaryPrefix(for: Self.checkpointName)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(leftover) {
                try? FileManager.default.removeItem(atPath: FileIO.join(folder, name))
            }
        }
        if resume {
            guard FileIO.kind(of: path) != .missing else { throw TrainingRunError.noCheckpoint(file: path) }
            let saved = try Checkpoint.read(from: path, fingerprint: fingerprint)
            checkpoint = saved
            resumedPhase = saved.phase
        } else {
            checkpoint = Checkpoint(fingerprint: fingerprint)
            resumedPhase = nil
        }
    }

    deinit { if lockDescriptor >= 0 { close(lockDescriptor) } }

    // MARK: Phases

    /// Whether phase `name` finished in an earlier run (its result is in the checkpoint).
    public func isFinished(_ name: String) -> Bool {
        ((try? checkpoint?.phaseSeconds(name)) ?? nil) != nil
    }

    /// Pre-trains `stack` greedily (every layer with `configuration`), or takes it from the
    /// checkpoint when phase `name` is finished. Returns the seconds spent (training and
    /// monitors; as recorded, for a finished phase). `onEpoch(layer, report)` after every epoch,
    /// then `onParameters(layer, rbm)` with the layer's parameters after it; `onMinibatch`
    /// after every step, with the gradient norm every `gradientNormsEvery` steps (observers).
    /// With `labels`, the top RBM's label units (if any) learn them (see `DeepBeliefNetwork.pretrain`).
    @discardableResult
    public func pretrain(_ stack: inout DeepBeliefNetwork, on data: Matrix, configuration: RBMTrainingConfiguration,
                         monitors: MonitorOptions = .none, labels: [Int]? = nil, name: String = "pretrain",
                         onEpoch: ((Int, RBMEpochReport) -> Void)? = nil,
                         onParameters: ((Int, RBM) -> Void)? = nil,
                         onMinibatch: ((Int, MinibatchProgress) -> Void)? = nil,
                         gradientNormsEvery: Int = 0) throws -> Double {
        let start = stack
        let (result, seconds) = try runPhase(name, schema: .pretraining) { resumeFrom, addSeconds, save in
            var stack = start
            var generator = Xoshiro256StarStar(seed: configuration.seed)
            try stack.pretrain(on: data, configurations: Array(repeating: configuration, count: stack.layers.count),
                               monitors: monitors, labels: labels, generator: &generator, resumeFrom: resumeFrom,
                               onEpoch: { layer, report in
                                   addSeconds(report.seconds + report.monitorSeconds)
                                   onEpoch?(layer, report)
                               }, onProgress: { progress in
                                   onParameters?(progress.layer, progress.layerProgress.rbm)
                                   try save(progress)
                               }, onMinibatch: onMinibatch, gradientNormsEvery: gradientNormsEvery)
            return stack
        }
        stack = result
        return seconds
    }

    /// Fine-tunes the generative DBN `model` by up-down on `data` and `labels` (or takes it from
    /// the checkpoint when phase `name` is finished). Returns the seconds spent. `onEpoch`
    /// after every epoch; with `test`, the reports of every `testEvery`-th epoch and of the last
    /// carry the test error by free energy.
    @discardableResult
    public func upDown(_ model: inout GenerativeDeepBeliefNetwork, on data: Matrix, labels: [Int],
                       configuration: UpDownConfiguration, name: String = "up-down",
                       test: (images: Matrix, labels: [Int])? = nil, testEvery: Int = 1,
                       onEpoch: ((UpDownEpochReport) -> Void)? = nil) throws -> Double {
        let start = model
        let (result, seconds) = try runPhase(name, schema: .upDown) { resumeFrom, addSeconds, save in
            var model = start
            var generator = Xoshiro256StarStar(seed: configuration.seed)
            try model.upDown(on: data, labels: labels, configuration: configuration, generator: &generator,
                             resumeFrom: resumeFrom, test: test, testEvery: testEvery, onEpoch: { report in
                                 addSeconds(report.seconds)
                                 onEpoch?(report)
                             }, onProgress: save)
            return model
        }
        model = result
        return seconds
    }

    /// Fine-tunes `network` with `configuration` (or takes the result from the checkpoint when
    /// phase `name` is finished). Returns the result and the seconds spent (training and
    /// evaluation). `onEpoch(report)` after every epoch, then `onParameters(network)` with the
    /// weights after it; `onMinibatch` after every step, with the gradient norms every
    /// `gradientNormsEvery` steps (observers: see `Trainer.train`).
    public func finetune(_ network: Network, data: LabeledData, test: LabeledData?,
                         configuration: TrainingConfiguration, name: String = "finetune",
                         onEpoch: ((EpochReport) -> Void)? = nil,
                         onParameters: ((Network) -> Void)? = nil,
                         onMinibatch: ((MinibatchProgress) -> Void)? = nil,
                         gradientNormsEvery: Int = 0) throws -> (result: TrainingResult, seconds: Double) {
        try runPhase(name, schema: .fineTuning) { resumeFrom, addSeconds, save in
            if let resumeFrom {
                try Self.check(resumeFrom, of: network, dataCount: data.count, configuration: configuration,
                               file: checkpointPath ?? "checkpoint")
            }
            var generator = Xoshiro256StarStar(seed: configuration.seed)
            return try Trainer(configuration: configuration).train(
                network, data: data, test: test, generator: &generator, resumeFrom: resumeFrom,
                onEpoch: { report, network in
                    addSeconds(report.seconds + report.evaluationSeconds)
                    onEpoch?(report)
                    onParameters?(network)
                }, onProgress: save, onMinibatch: onMinibatch, gradientNormsEvery: gradientNormsEvery)
        }
    }

    /// Refuses saved fine-tuning progress that this run could not have written: checked like a
    /// model file, so that a doctored or damaged checkpoint is one clear line, not an overflow
    /// trap or a silent wrong result. (The sample order and generator state are not checked:
    /// they are about to become a seed.)
    static func check(_ p: FineTuningProgress, of network: Network, dataCount: Int,
                      configuration: TrainingConfiguration, file: String) throws {
        func corrupt(_ reason: String) -> CheckpointError { .corrupt(file: file, reason: reason) }
        guard (0...configuration.epochs).contains(p.epoch) else {
            throw corrupt("fine-tuning epoch \(p.epoch) is outside 0...\(configuration.epochs) (--finetune-epochs)")
        }
        guard (0...p.epoch).contains(p.stale) else { throw corrupt("stale epoch count \(p.stale) is outside 0...\(p.epoch)") }
        guard p.network.sizes == network.sizes else {
            throw corrupt("the network is \(p.network.sizes.map(String.init).joined(separator: "-")), this run trains \(network.sizes.map(String.init).joined(separator: "-"))")
        }
        guard p.network.layers.allSatisfy(\.isFinite) else { throw corrupt("the network's weights are not finite (NaN or infinity)") }
        if let best = p.best {
            guard best.network.sizes == network.sizes else {
                throw corrupt("the best network is \(best.network.sizes.map(String.init).joined(separator: "-")), this run trains \(network.sizes.map(String.init).joined(separator: "-"))")
            }
            guard (0...p.epoch).contains(best.epoch) else {
                throw corrupt("best epoch \(best.epoch) is outside 0...\(p.epoch)")
            }
            guard !best.error.isNaN, !best.loss.isNaN, best.network.layers.allSatisfy(\.isFinite) else {
                throw corrupt("the best result holds NaN or infinite values")
            }
        }
        let moments = [p.weightMoments, p.biasMoments, p.weightSecondMoments, p.biasSecondMoments]
        guard moments.allSatisfy({ $0.count == network.layers.count && $0.allSatisfy { $0.allSatisfy(\.isFinite) } }) else {
            throw corrupt("the optimiser's moments are missing or not finite")
        }
        guard p.validationIndices.allSatisfy({ (0..<dataCount).contains($0) }),
              Set(p.validationIndices).count == p.validationIndices.count else {
            throw corrupt("the validation indices are not distinct rows of the \(dataCount) training images")
        }
        guard p.updateCounts.allSatisfy({ $0 >= 0 }) else { throw corrupt("a negative update count") }
    }

    /// The bookkeeping every phase shares (`schema` says how its result and progress are
    /// stored): a finished phase is restored from the checkpoint;
    /// otherwise `body` runs from the saved progress (if any), and every progress it reports is
    /// saved with the elapsed seconds, then the result replaces the progress.
    ///
    /// `body(resumeFrom, addSeconds, save)`: `addSeconds` counts an epoch's time, `save` is the
    /// engine's progress callback.
    private func runPhase<Value, Progress>(
        _ name: String, schema: PhaseSchema<Value, Progress>,
        body: (Progress?, @escaping (Double) -> Void, @escaping (Progress) throws -> Void) throws -> Value
    ) throws -> (Value, Double) {
        if let checkpoint, let seconds = try checkpoint.phaseSeconds(name),
           let value = try schema.restore(checkpoint, "\(name).result") {
            return (value, seconds)
        }
        let resumeFrom = try checkpoint.flatMap { try schema.restoreProgress($0, "\(name).progress") }
        var elapsed = try checkpoint?.phaseElapsed(name) ?? 0
        let value = try body(resumeFrom, { elapsed += $0 }, { progress in
            guard self.checkpoint != nil else { return }
            self.checkpoint!.setPhaseProgress(name, elapsed: elapsed) { schema.storeProgress(&$0, $1, progress) }
            try self.save(phase: name)
        })
        if checkpoint != nil {
            checkpoint!.setPhaseFinished(name, seconds: elapsed) { schema.store(&$0, $1, value) }
            try save(phase: name + " done")
        }
        return (value, elapsed)
    }

    /// Saves the checkpoint, then stops if an interrupt was requested.
    private func save(phase: String) throws {
        guard let checkpointPath, var checkpoint else { return }
        checkpoint.phase = phase
        checkpoint.file.metadata.merge(provenance) { $1 }
        try checkpoint.write(to: checkpointPath)
        self.checkpoint = checkpoint
        // The request is consumed: a resumed run in the same process is not stopped again.
        var asked: Float = Self.interruptRequested.exchange(false, ordering: .relaxed) ? 1 : 0
        // Data-parallel: a Ctrl-C reaches the ranks at different moments (or only some of
        // them), and a rank that stopped alone would leave the others waiting in a sum; so the
        // ranks agree at every checkpoint, and all stop when any was asked.
        let collective = Collectives.current
        if collective.size > 1 { collective.allReduceSum(&asked, count: 1) }
        if asked > 0 {
            throw TrainingInterrupted(checkpoint: checkpointPath, phase: phase)
        }
    }
}

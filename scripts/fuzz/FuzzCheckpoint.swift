// libFuzzer entry for checkpoint files: the input is written as `checkpoint.safetensors` into a
// checkpoint folder, and a tiny run resumes from it through the library's own path
// (`TrainingRun(resume: true)`, then `pretrain` and `finetune`: every saved progress is read
// and checked against the run before training goes on). Any thrown error is a clean refusal;
// a trap, a sanitizer error, a hang or an oversized allocation is a failure.
//
// With FUZZ_CHECKPOINT_SEEDS=DIR set, the entry first writes the seed corpus into DIR: the
// checkpoints the same tiny run saves after each of its epochs (mid pre-training, between the
// phases, mid fine-tuning, finished), so that mutations start from real files.
// Built and run by scripts/fuzz/run.sh; see scripts/fuzz/README.md.
import DeepBelief
import FineTuning
import Foundation
import Linalg
import Pretraining

/// The tiny run: a 6-4-3 stack on 12 rows, 2 CD epochs per layer (batch 4), then 2 epochs of
/// fine-tuning 6-4-3-2 with a validation split; every epoch is checkpointed.
func tinyRun(folder: String, resume: Bool, afterEpoch: @escaping () -> Void = {}) throws {
    let rows = 12
    let pixels = (0..<(rows * 6)).map { Float(($0 * 7) % 11) / 10 }
    let inputs = Matrix(rows: rows, columns: 6, elements: pixels)
    let labeled = try LabeledData(inputs: inputs, labels: (0..<rows).map { $0 % 2 }, classCount: 2)
    let run = try TrainingRun(checkpointFolder: folder, resume: resume, fingerprint: "fuzz")
    var g = Xoshiro256StarStar(seed: 3)
    var stack = DeepBeliefNetwork(layerSizes: [6, 4, 3], generator: &g)
    try run.pretrain(&stack, on: inputs, configuration: RBMTrainingConfiguration(epochs: 2, batchSize: 4, persistent: true),
                     onEpoch: { _, _ in afterEpoch() })
    let network = try Network(pretrained: stack, outputCount: 2, generator: &g)
    let configuration = TrainingConfiguration(epochs: 2, batchSize: 4, optimizer: .adam(), learningRate: 0.01,
                                              validationCount: 4, validationSelection: .random, diagnosticRows: 4)
    _ = try run.finetune(network, data: labeled, test: nil, configuration: configuration, onEpoch: { _ in afterEpoch() })
}

/// In memory where possible: every resumed epoch saves the checkpoint with fsync.
let folder = (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : FileManager.default.temporaryDirectory.path)
    + "/fuzz-checkpoint-\(getpid())"
let checkpointPath = folder + "/" + TrainingRun.checkpointName

@_cdecl("LLVMFuzzerInitialize")
public func fuzzCheckpointInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    guard let seeds = ProcessInfo.processInfo.environment["FUZZ_CHECKPOINT_SEEDS"] else { return 0 }
    try? FileManager.default.createDirectory(atPath: seeds, withIntermediateDirectories: true)
    let source = folder + "-seeds"
    try? FileManager.default.removeItem(atPath: source)
    var count = 0
    func keep() {
        guard let bytes = FileManager.default.contents(atPath: source + "/" + TrainingRun.checkpointName) else { return }
        count += 1
        _ = FileManager.default.createFile(atPath: seeds + "/checkpoint-\(count).safetensors", contents: bytes)
    }
    do { try tinyRun(folder: source, resume: false, afterEpoch: keep) } catch { fatalError("seed run failed: \(error)") }
    keep()
    try? FileManager.default.removeItem(atPath: source)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard FileManager.default.createFile(atPath: checkpointPath, contents: Data(bytes: data, count: size)) else {
        fatalError("cannot write \(checkpointPath)")
    }
    do {
        try tinyRun(folder: folder, resume: true)
    } catch {
        _ = "\(error)"  // every message must be printable
    }
    return 0
}

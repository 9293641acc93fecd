import Foundation
import Testing

/// `--tensorboard DIR` end to end: the event files `dbn train` writes, read back with the
/// `tensorboard` package's own reader (scripts/interop/check_tensorboard.py). Runs when python3
/// has tensorboard; in CI (CI=true) always, so a missing package fails instead of skipping.
enum PythonTensorBoardReader {
    static let available: Bool = {
        guard let result = try? DBNExecutable.runProcess(
            "/usr/bin/env", ["python3", "-c", "import tensorboard.backend.event_processing.event_accumulator"]) else { return false }
        return result.status == 0
    }()
    static let runningInCI = ProcessInfo.processInfo.environment["CI"].map { ["true", "1"].contains($0.lowercased()) } ?? false
    static let script = DBNExecutable.packageRoot.appendingPathComponent("scripts/interop/check_tensorboard.py").path
}

@Suite(.serialized) struct TensorBoardCommandTests {
    @Test(.enabled(if: PythonTensorBoardReader.available || PythonTensorBoardReader.runningInCI,
                   "python3 with tensorboard is not installed"))
    func trainWritesEventFilesTensorBoardReads() throws {
        try #require(PythonTensorBoardReader.available, "CI requires Python's tensorboard: pip install tensorboard (scripts/setup.sh)")
        let f = try TrainingFixture()
        let r = try DBNExecutable.run(["train", "--layers", "12,8", "--pretrain-epochs", "2", "--finetune-epochs", "3",
                                       "--batch-size", "10", "--log", "train.jsonl", "--tensorboard", "tb",
                                       "--data", f.folder], in: f.folder)
        #expect(r.status == 0, "\(r)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: f.path("tb")).sorted()
        #expect(runs == ["baseline", "finetune", "pretrain"])

        // The fine-tuning scalars must equal the --log records (float32-rounded).
        let records = try String(contentsOfFile: f.path("train.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        func steps(_ n: Int) -> [[String: Any]] { (1...n).map { ["step": $0] } }
        for run in ["finetune", "baseline"] {
            let epochs = records.filter { $0["phase"] as? String == run }
            #expect(epochs.count == 3)
            func values(_ key: String) -> [[String: Any]] {
                epochs.map { ["step": $0["epoch"] as? Int ?? -1, "value": Double(Float($0[key] as? Double ?? .nan))] }
            }
            let histograms = (1...3).flatMap { ["layer\($0)/weights", "layer\($0)/biases"] }
            let expected: [String: Any] = [
                "scalars": ["loss/train": values("train_loss"), "error/train": values("train_error"),
                            "error/test": values("test_error"), "learning_rate": steps(3),
                            "layer1/gradient_norm": steps(3), "layer3/gradient_norm": steps(3),
                            "layer1/activation_mean": steps(3)],
                "histograms": Dictionary(uniqueKeysWithValues: histograms.map { ($0, steps(3)) }),
            ]
            try check(f.path("tb/" + run), expected, in: f)
        }
        let pretrain: [String: Any] = [
            "scalars": ["layer1/reconstruction_error": steps(2), "layer2/reconstruction_error": steps(2),
                        "layer1/momentum": steps(2), "layer2/momentum": steps(2)],
            "histograms": Dictionary(uniqueKeysWithValues: (1...2).flatMap { layer in
                ["weights", "visible_biases", "hidden_biases"].map { ("layer\(layer)/\($0)", steps(2)) }
            }),
            // 12 filters of 6x6 in a 4x3 grid with 1-pixel borders.
            "images": ["layer1/filters": [["step": 2, "width": 29, "height": 22]]],
            "exact_tags": true,
        ]
        try check(f.path("tb/pretrain"), pretrain, in: f)
    }

    @Test func aTensorBoardFolderThatCannotBeMadeIsRefusedBeforeTraining() throws {
        let f = try TrainingFixture()
        try Data("x".utf8).write(to: URL(fileURLWithPath: f.path("file")))
        for folder in ["file", "file/below"] {
            let r = try DBNExecutable.run(["train", "--layers", "4", "--tensorboard", folder, "--data", f.folder], in: f.folder)
            expectCleanFailure(r, naming: folder, containing: "--tensorboard")
            #expect(!r.stdout.contains("Pre-training"), "\(r)")
        }
    }

    func check(_ folder: String, _ expected: [String: Any], in f: TrainingFixture) throws {
        let json = f.path("expected-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: expected).write(to: URL(fileURLWithPath: json))
        let result = try DBNExecutable.runProcess("/usr/bin/env", ["python3", PythonTensorBoardReader.script, folder, json])
        #expect(result.status == 0, "\(folder): \(result.stdout)\(result.stderr)")
    }
}

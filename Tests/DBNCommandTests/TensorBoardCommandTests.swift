import DeepBelief
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
                ["weights", "visible_biases", "hidden_biases", "hidden_probabilities"].map { ("layer\(layer)/\($0)", steps(2)) }
            }),
            // 12 filters of 6x6 in a 4x3 grid with 1-pixel borders; ten 6x6 images above their
            // reconstructions every epoch; ten samples at the end. (18 steps per layer: fewer
            // than --tensorboard-every's default of 50, so no per-step scalars.)
            "images": ["layer1/filters": [["step": 2, "width": 29, "height": 22]],
                       "layer1/reconstructions": [["step": 1, "width": 71, "height": 15], ["step": 2, "width": 71, "height": 15]],
                       "layer1/samples": [["step": 2, "width": 71, "height": 8]]],
            "exact_tags": true,
        ]
        try check(f.path("tb/pretrain"), pretrain, in: f)
    }

    /// Per-step scalars, the probe's histograms and the images, read back by tensorboard's
    /// reader and checked against values computed independently: the mean of an epoch's step
    /// losses is the epoch's loss in --log, the first step's gradient norms are the epoch
    /// report's (both measured on the epoch's first minibatch before its update), the last
    /// epoch's histograms are those of the saved network recomputed here.
    @Test(.enabled(if: PythonTensorBoardReader.available || PythonTensorBoardReader.runningInCI,
                   "python3 with tensorboard is not installed"))
    func perStepScalarsProbeHistogramsAndImagesReadBack() throws {
        try #require(PythonTensorBoardReader.available, "CI requires Python's tensorboard: pip install tensorboard (scripts/setup.sh)")
        let f = try TrainingFixture()  // 90 training images of 6x6: 9 minibatches of 10 per epoch
        let r = try DBNExecutable.run(["train", "--layers", "12,8", "--pretrain-epochs", "2", "--finetune-epochs", "3",
                                       "--batch-size", "10", "--baseline", "none", "--log", "train.jsonl",
                                       "--tensorboard", "tb", "--tensorboard-every", "1", "--output", "m.safetensors",
                                       "--data", f.folder], in: f.folder)
        #expect(r.status == 0, "\(r)")
        let records = try String(contentsOfFile: f.path("train.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }

        // Fine-tuning: 27 steps.
        let fine = try dump(f.path("tb/finetune"))
        let epochs = records.filter { $0["phase"] as? String == "finetune" }
        try #require(epochs.count == 3)
        let loss = try #require(fine.scalars["step/loss"])
        #expect(loss.map { $0.0 } == Array(1...27))
        for (e, record) in epochs.enumerated() {
            let mean = loss[(9 * e)..<(9 * e + 9)].map { $0.1 }.reduce(0, +) / 9
            let logged = try #require(record["train_loss"] as? Double)
            #expect(abs(mean - logged) <= 1e-5 * max(1, abs(logged)), "epoch \(e + 1): mean step loss \(mean), --log \(logged)")
            let layers = try #require(record["layers"] as? [[String: Any]])
            for (l, layer) in layers.enumerated() {
                let norms = try #require(fine.scalars["step/gradient_norm/layer\(l + 1)"])
                #expect(norms.map { $0.0 } == Array(1...27))
                let reported = try #require(layer["gradient_norm"] as? Double)
                let step = norms[9 * e].1
                #expect(abs(step - reported) <= 1e-6 * max(reported, 1e-30), "layer \(l + 1) epoch \(e + 1): \(step) vs \(reported)")
            }
        }
        #expect(fine.scalars["step/learning_rate"]?.allSatisfy { abs($0.1 - 0.5) < 1e-7 } == true)

        // The histograms of the last epoch are those of the saved network on the probe (all 90
        // training images here: fewer than 1000).
        let network = try ModelArchive.network(from: try SafeTensors.read(from: f.path("m.safetensors")))
        let probe = ProbeBatch(try DataSet.load(folder: f.folder).labeledTraining())
        #expect(probe.data.count == 90)
        let observed = probe.observe(network)
        for (l, layer) in network.layers.enumerated() {
            for (tag, values) in [("weights", layer.weight.elements), ("pre_activations", observed[l].preActivations),
                                  ("weight_gradients", observed[l].weightGradient)] {
                let events = try #require(fine.histograms["layer\(l + 1)/\(tag)"], "layer\(l + 1)/\(tag)")
                #expect(events.map(\.step) == [1, 2, 3])
                let last = try #require(events.last)
                let finite = values.map(Double.init)
                #expect(last.num == Double(values.count), "layer\(l + 1)/\(tag)")
                // (through JSON: equal within a rounding of the text)
                #expect(abs(last.min - finite.min()!) <= 1e-12 * abs(finite.min()!)
                        && abs(last.max - finite.max()!) <= 1e-12 * abs(finite.max()!),
                        "layer\(l + 1)/\(tag): \(last.min)...\(last.max) vs \(finite.min()!)...\(finite.max()!)")
                let sum = finite.reduce(0, +)
                #expect(abs(last.sum - sum) <= 1e-9 * max(1, finite.map(abs).reduce(0, +)), "layer\(l + 1)/\(tag): \(last.sum) vs \(sum)")
            }
        }
        #expect(fine.images["layer1/filters"]?.map { $0.0 } == [1, 2, 3])

        // Pre-training: 18 steps per layer.
        let pre = try dump(f.path("tb/pretrain"))
        for layer in 1...2 {
            let steps = try #require(pre.scalars["rbm_step/reconstruction_error/layer\(layer)"])
            #expect(steps.map { $0.0 } == Array(1...18))
            let logged = records.filter { $0["phase"] as? String == "pretrain" && $0["layer"] as? Int == layer - 1 }
            try #require(logged.count == 2)
            for (e, record) in logged.enumerated() {
                let mean = steps[(9 * e)..<(9 * e + 9)].map { $0.1 }.reduce(0, +) / 9
                let error = try #require(record["reconstruction_error"] as? Double)
                #expect(abs(mean - error) <= 1e-5 * max(1, error), "layer \(layer) epoch \(e + 1): \(mean) vs \(error)")
            }
            #expect(pre.scalars["rbm_step/learning_rate/layer\(layer)"]?.allSatisfy { abs($0.1 - 0.1) < 1e-7 } == true)
            let norms = try #require(pre.scalars["rbm_step/gradient_norm/layer\(layer)"])
            #expect(norms.count == 18 && norms.allSatisfy { $0.1 > 0 && $0.1.isFinite })
            let probabilities = try #require(pre.histograms["layer\(layer)/hidden_probabilities"])
            #expect(probabilities.map(\.step) == [1, 2])
            #expect(probabilities.allSatisfy { $0.num == Double(90 * [12, 8][layer - 1]) && $0.min >= 0 && $0.max <= 1 })
        }
        // Ten 6x6 images above their reconstructions: 10 x 6 + 11 wide, 2 x 6 + 3 high.
        #expect(pre.images["layer1/reconstructions"]?.map { [$0.0, $0.1, $0.2] } == [[1, 71, 15], [2, 71, 15]])
        #expect(pre.images["layer1/samples"]?.map { [$0.0, $0.1, $0.2] } == [[2, 71, 8]])
    }

    /// The observers leave the trajectory alone: the model file of a run that writes every
    /// step's scalars and every histogram is byte-identical to one that writes none.
    @Test func tensorBoardOutputLeavesTheModelByteIdentical() throws {
        let f = try TrainingFixture()
        let base = ["train", "--layers", "12,8", "--pretrain-epochs", "2", "--finetune-epochs", "2", "--batch-size", "10",
                    "--baseline", "none", "--dropout", "0.2", "--data", f.folder]
        let plain = try DBNExecutable.run(base + ["--output", "plain.safetensors"], in: f.folder)
        let observed = try DBNExecutable.run(base + ["--output", "observed.safetensors", "--tensorboard", "tb",
                                                     "--tensorboard-every", "1"], in: f.folder)
        #expect(plain.status == 0 && observed.status == 0, "\(plain)\(observed)")
        let a = try Data(contentsOf: URL(fileURLWithPath: f.path("plain.safetensors")))
        let b = try Data(contentsOf: URL(fileURLWithPath: f.path("observed.safetensors")))
        #expect(a == b, "the model changed when TensorBoard observed the run")
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.path("tb")).sorted() == ["finetune", "pretrain"])
    }

    /// compare: one run folder per arm and seed, each with the per-step scalars and the
    /// histograms of fine-tuning.
    @Test(.enabled(if: PythonTensorBoardReader.available || PythonTensorBoardReader.runningInCI,
                   "python3 with tensorboard is not installed"))
    func compareWritesOneRunFolderPerArmAndSeedWithHistograms() throws {
        try #require(PythonTensorBoardReader.available, "CI requires Python's tensorboard: pip install tensorboard (scripts/setup.sh)")
        let f = try TrainingFixture()
        let r = try DBNExecutable.run(["compare", "--preset", "deep-xor", "--finetune-epochs", "6", "--seeds", "1,2",
                                       "--tensorboard", "tb", "--tensorboard-every", "3", "--report", "c"], in: f.folder)
        #expect(r.status == 0, "\(r)")
        let runs = try FileManager.default.contentsOfDirectory(atPath: f.path("tb")).sorted()
        #expect(runs == ["he-normal", "normal:0.01"].flatMap { start in
            ["relu", "sigmoid"].flatMap { activation in (1...2).map { "\(start)-\(activation)-seed\($0)-rate0.05" } }
        })
        for run in runs {
            let found = try dump(f.path("tb/" + run))
            // XOR: 4 samples in one minibatch of 4, so one step per epoch; every 3rd step.
            #expect(found.scalars["step/loss"]?.map { $0.0 } == [3, 6], "\(run)")
            #expect(found.scalars["step/gradient_norm/layer11"]?.map { $0.0 } == [3, 6], "\(run)")
            #expect(found.scalars["loss/train"]?.map { $0.0 } == Array(1...6), "\(run)")
            for layer in [1, 6, 11] {
                for tag in ["weights", "biases", "pre_activations", "weight_gradients"] {
                    #expect(found.histograms["layer\(layer)/\(tag)"]?.map(\.step) == Array(1...6), "\(run) layer\(layer)/\(tag)")
                }
            }
            #expect(found.histograms["layer1/pre_activations"]?.first?.num == Double(4 * 12))
        }
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

    /// What tensorboard's reader finds in a run folder (check_tensorboard.py --dump).
    struct Found {
        struct Histogram { let step: Int, min: Double, max: Double, num: Double, sum: Double }
        var scalars: [String: [(Int, Double)]] = [:]
        var histograms: [String: [Histogram]] = [:]
        var images: [String: [(Int, Int, Int)]] = [:]
    }

    func dump(_ folder: String) throws -> Found {
        let result = try DBNExecutable.runProcess("/usr/bin/env", ["python3", PythonTensorBoardReader.script, "--dump", folder])
        try #require(result.status == 0, "\(result)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: [String: [[Double]]]])
        var found = Found()
        for (tag, events) in json["scalars"] ?? [:] { found.scalars[tag] = events.map { (Int($0[0]), $0[1]) } }
        for (tag, events) in json["histograms"] ?? [:] {
            found.histograms[tag] = events.map { .init(step: Int($0[0]), min: $0[1], max: $0[2], num: $0[3], sum: $0[4]) }
        }
        for (tag, events) in json["images"] ?? [:] { found.images[tag] = events.map { (Int($0[0]), Int($0[1]), Int($0[2])) } }
        return found
    }

    func check(_ folder: String, _ expected: [String: Any], in f: TrainingFixture) throws {
        let json = f.path("expected-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: expected).write(to: URL(fileURLWithPath: json))
        let result = try DBNExecutable.runProcess("/usr/bin/env", ["python3", PythonTensorBoardReader.script, folder, json])
        #expect(result.status == 0, "\(folder): \(result.stdout)\(result.stderr)")
    }
}

import DeepBelief
import Foundation
import Testing

private func dbn(_ arguments: [String], _ fixture: TrainingFixture) throws -> CommandResult {
    try DBNExecutable.run(arguments + ["--data", fixture.folder], in: fixture.folder)
}

/// Continuing work: `dbn finetune --weights` of a network continues it (all layers kept), a
/// refused `--resume` names the flags that differ, and torch state_dicts load.
@Suite(.serialized) struct ContinuingWorkTests {
    @Test func finetuneOfANetworkFileContinuesEveryLayer() throws {
        let f = try TrainingFixture()
        let t = try dbn(["train", "--layers", "12,8", "--pretrain-epochs", "1", "--finetune-epochs", "2",
                         "--batch-size", "10", "--baseline", "none", "--activation", "tanh"], f)
        #expect(t.status == 0, "\(t)")
        // A learning rate so small that the weights barely move: the output must be the input
        // network (every layer, its tanh), not a fresh softmax on the stack inside the file.
        let c = try dbn(["finetune", "--weights", "model.safetensors", "--finetune-epochs", "1", "--batch-size", "10",
                         "--finetune-learning-rate", "1e-7", "--output", "continued.safetensors"], f)
        #expect(c.status == 0, "\(c)")
        #expect(c.stdout.contains("Continuing the training of model.safetensors: 36-12-8-3 tanh, all 3 layers"), "\(c)")
        let before = try ModelArchive.network(from: try SafeTensors.read(from: f.path("model.safetensors")))
        let after = try ModelArchive.network(from: try SafeTensors.read(from: f.path("continued.safetensors")))
        #expect(after.sizes == before.sizes && after.hiddenActivation == .tanh)
        for (a, b) in zip(before.layers, after.layers) {
            let change = zip(a.weight.elements, b.weight.elements).map { abs($0 - $1) }.max() ?? 0
            #expect(change < 1e-4, "layer weights changed by \(change)")
        }
        // The stack the network came from stays in the file.
        #expect(try ModelArchive.stack(from: try SafeTensors.read(from: f.path("continued.safetensors"))).layerSizes == [36, 12, 8])

        // Another activation than the network's: refused in one line.
        let r = try dbn(["finetune", "--weights", "model.safetensors", "--activation", "relu", "--output", "x.safetensors"], f)
        expectCleanFailure(r, naming: "model.safetensors", containing: "--activation relu differs from the network's tanh")
    }

    @Test func refusedResumeNamesTheFlagsThatDiffer() throws {
        let f = try TrainingFixture()
        let base = ["train", "--layers", "8", "--pretrain-epochs", "1", "--finetune-epochs", "2", "--batch-size", "10",
                    "--baseline", "none", "--checkpoint-dir", "ck"]
        let first = try dbn(base, f)
        #expect(first.status == 0, "\(first)")
        let r = try dbn(base + ["--resume", "--finetune-learning-rate", "0.1", "--momentum", "0.5", "--seed", "3"], f)
        expectCleanFailure(r, naming: "checkpoint.safetensors", containing: "--finetune-learning-rate was 0.5, now 0.1")
        let line = r.stderrLines.first ?? ""
        #expect(line.contains("--momentum was 0.9, now 0.5"), "\(r)")
        #expect(line.contains("--seed was 1, now 3"), "\(r)")
        #expect(!line.contains("{"), "the message dumps JSON: \(line)")
    }

    /// `--reproducible G` (the order of the sums) and `--batch-norm` are in a checkpoint's
    /// fingerprint: a resumption with another value, or without the flag, is refused naming it;
    /// with the same value it resumes. Without them the fingerprint has neither key, as older
    /// checkpoints' fingerprints have not, so those still resume.
    @Test func resumeChecksReproducibleGroupsAndBatchNormalisation() throws {
        let f = try TrainingFixture()
        let base = ["train", "--layers", "8", "--pretrain-epochs", "1", "--finetune-epochs", "2", "--batch-size", "10",
                    "--baseline", "none", "--checkpoint-dir", "ck"]
        let first = try dbn(base + ["--reproducible", "2"], f)
        #expect(first.status == 0, "\(first)")
        expectCleanFailure(try dbn(base + ["--resume", "--reproducible", "3"], f), naming: "checkpoint.safetensors",
                           containing: "--reproducible was 2, now 3")
        expectCleanFailure(try dbn(base + ["--resume"], f), naming: "checkpoint.safetensors",
                           containing: "--reproducible was 2, now not given")
        let same = try dbn(base + ["--resume", "--reproducible", "2"], f)
        #expect(same.status == 0, "\(same)")

        let pretrained = try dbn(["pretrain", "--layers", "8", "--pretrain-epochs", "1", "--batch-size", "10",
                                  "--output", "stack.safetensors"], f)
        #expect(pretrained.status == 0, "\(pretrained)")
        let finetune = ["finetune", "--weights", "stack.safetensors", "--finetune-epochs", "2", "--batch-size", "10",
                        "--checkpoint-dir", "ck-bn"]
        let normalized = try dbn(finetune + ["--batch-norm"], f)
        #expect(normalized.status == 0, "\(normalized)")
        expectCleanFailure(try dbn(finetune + ["--resume"], f), naming: "checkpoint.safetensors",
                           containing: "--batch-norm was true, now not given")
        let resumed = try dbn(finetune + ["--resume", "--batch-norm"], f)
        #expect(resumed.status == 0, "\(resumed)")

        let plain = try dbn(Array(finetune.dropLast()) + ["ck-plain"], f)
        #expect(plain.status == 0, "\(plain)")
        for folder in ["ck-plain", "ck-bn"] {
            let fingerprint = try SafeTensors.read(from: f.path(folder + "/checkpoint.safetensors")).metadata["fingerprint"] ?? ""
            #expect(fingerprint.contains("\"command\":\"finetune\"") && !fingerprint.contains("reproducible"), "\(fingerprint)")
            #expect(fingerprint.contains("batch_norm") == (folder == "ck-bn"), "\(fingerprint)")
        }
    }

    @Test func settingDifferencesCompareNestedConfigurationsLeafByLeaf() {
        let saved = #"{"command":"train","finetune":"{\"learningRate\":0.5,\"seed\":1}","init":"dbn"}"#
        let current = #"{"command":"train","finetune":"{\"learningRate\":0.25,\"seed\":1,\"maxNorm\":3}","init":"dbn"}"#
        #expect(SettingDifference.list(saved: saved, current: current) == [
            SettingDifference(setting: "finetune.learningRate", saved: "0.5", current: "0.25"),
            SettingDifference(setting: "finetune.maxNorm", saved: nil, current: "3"),
        ])
        #expect(SettingDifference.list(saved: saved, current: saved).isEmpty)
        #expect(SettingDifference.list(saved: "old", current: "new") == [SettingDifference(setting: "settings", saved: "old", current: "new")])
    }

    /// A torch state_dict of two Linear layers ([out, in], indices 1 and 3 as in
    /// Sequential(Scale, Linear, ReLU, Linear)) reads as the transposed dbn network.
    @Test func torchStateDictReadsAsTheTransposedNetwork() throws {
        var file = SafeTensors(metadata: ["activation": "relu"])
        let w1 = (0..<6).map { Float($0) / 4 }, w2 = (0..<6).map { Float($0) - 3 }
        file["1.weight"] = Tensor(Matrix(rows: 2, columns: 3, elements: w1))  // 3 inputs -> 2
        file["1.bias"] = Tensor([Float(0.5), -0.5])
        file["3.weight"] = Tensor(Matrix(rows: 3, columns: 2, elements: w2))  // 2 -> 3 outputs
        file["3.bias"] = Tensor([Float(1), 2, 3])
        #expect(ModelArchive.isTorchStateDict(file))
        #expect(try ModelArchive.kind(of: file) == .network)
        let network = try ModelArchive.network(from: file)
        #expect(network.sizes == [3, 2, 3] && network.hiddenActivation == .relu)
        #expect(network.layers[0].weight.elements == Matrix(rows: 2, columns: 3, elements: w1).transposed().elements)
        #expect(network.layers[1].bias == [1, 2, 3])

        // Without the activation, the file cannot say it: one clear error naming the key.
        file.metadata = [:]
        #expect(throws: ModelFileError.self) { try ModelArchive.network(from: file) }
        // Layers that do not chain are named.
        file.metadata = ["activation": "relu"]
        file["3.weight"] = Tensor(Matrix(rows: 3, columns: 5, elements: Array(repeating: 0, count: 15)))
        let error = #expect(throws: ModelFileError.self) { try ModelArchive.network(from: file) }
        #expect("\(error!)".contains("'3.weight' takes 5 inputs but the layer before it ('1.weight') has 2 outputs"))
    }
}

/// PyTorch both ways (scripts/interop/torch_model.py): a dbn model loads into torch with the same
/// test errors, and torch models (save_dbn, and a plain state_dict) load into dbn with the same
/// test errors as in torch. Runs when python3 has torch and safetensors; in CI always.
enum PythonTorch {
    static let available: Bool = {
        guard let result = try? DBNExecutable.runProcess("/usr/bin/env", ["python3", "-c", "import torch, safetensors.torch, numpy"])
        else { return false }
        return result.status == 0
    }()
    static let script = DBNExecutable.packageRoot.appendingPathComponent("scripts/interop/torch_model.py").path
}

@Suite(.serialized) struct TorchInteropTests {
    /// A batch-normalised maxout network (running statistics moved by training steps) gives
    /// the same test errors in `dbn evaluate` and in torch (`load_dbn`: BatchNorm1d in
    /// evaluation mode, Maxout); so does a batch-normalised ReLU network.
    @Test(.enabled(if: PythonTorch.available || PythonTensorBoardReader.runningInCI, "python3 with torch and safetensors is not installed"),
          arguments: [Activation.maxout, .relu])
    func batchNormAndMaxoutLoadInTorch(activation: Activation) throws {
        try #require(PythonTorch.available, "CI requires PyTorch and safetensors: pip install torch==2.13.0+cpu safetensors numpy")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dbn-torch-bn-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let mnist = DBNExecutable.packageRoot.appendingPathComponent("datasets/mnist").path
        var g = Xoshiro256StarStar(seed: 3)
        let start = try Network(sizes: [784, 24, 16, 10], hiddenActivation: activation, maxoutPieces: 3,
                                initializer: .heNormal, generator: &g).withBatchNormalization()
        let images = Matrix(rows: 60, columns: 784, elements: (0..<(60 * 784)).map { _ in g.nextFloat() < 0.2 ? 1 : 0 })
        let data = try LabeledData(inputs: images, labels: (0..<60).map { $0 % 10 }, classCount: 10)
        let stepper = try FineTuningStepper(network: start, configuration: TrainingConfiguration(batchSize: 20, learningRate: 0.1))
        for m in 0..<3 { stepper.step(on: data, rows: Array((20 * m)..<(20 * m + 20))[...], epoch: 1, minibatch: m) }
        try ModelArchive.archive(network: stepper.network).write(to: folder + "/bn.safetensors")

        let e = try DBNExecutable.run(["evaluate", "--model", "bn.safetensors", "--data", mnist, "--json"], in: folder)
        #expect(e.status == 0, "\(e)")
        let dbnErrors = ((try e.json()["models"] as? [[String: Any]])?.first?["errors"]) as? Int
        let py = try DBNExecutable.runProcess("/usr/bin/env", ["python3", PythonTorch.script, "errors", folder + "/bn.safetensors", mnist])
        #expect(py.status == 0, "\(py)")
        let torch = try #require(try py.json() as [String: Any]?)
        #expect(dbnErrors != nil && dbnErrors == torch["loaded_errors"] as? Int, "dbn \(String(describing: dbnErrors)) vs torch \(torch)")
    }

    @Test(.enabled(if: PythonTorch.available || PythonTensorBoardReader.runningInCI, "python3 with torch and safetensors is not installed"))
    func torchModelsRoundTripWithEqualTestErrors() throws {
        try #require(PythonTorch.available, "CI requires PyTorch and safetensors: pip install torch==2.13.0+cpu safetensors numpy")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dbn-torch-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let mnist = DBNExecutable.packageRoot.appendingPathComponent("datasets/mnist").path
        let t = try DBNExecutable.run(["train", "--limit", "500", "--layers", "30", "--pretrain-epochs", "1",
                                       "--finetune-epochs", "1", "--baseline", "none", "--data", mnist], in: folder)
        #expect(t.status == 0, "\(t)")
        let py = try DBNExecutable.runProcess("/usr/bin/env", ["python3", PythonTorch.script, "roundtrip",
                                                               folder + "/model.safetensors", mnist, folder])
        #expect(py.status == 0, "\(py)")
        let torch = try #require(try py.json() as [String: Any]?)
        #expect(torch["state_dict_names"] as? [String] == ["1.bias", "1.weight", "3.bias", "3.weight"])

        func dbnErrors(_ model: String) throws -> Int? {
            let e = try DBNExecutable.run(["evaluate", "--model", model, "--data", mnist, "--json"], in: folder)
            #expect(e.status == 0, "\(e)")
            return ((try e.json()["models"] as? [[String: Any]])?.first?["errors"]) as? Int
        }
        let original = try dbnErrors("model.safetensors")
        #expect(original != nil && original == torch["loaded_errors"] as? Int, "dbn \(String(describing: original)) vs torch \(torch)")
        #expect(try dbnErrors("loaded.safetensors") == original)
        let trained = try #require(torch["torch_errors"] as? Int)
        #expect(trained < 2500, "the torch model did not learn: \(trained) errors")
        #expect(try dbnErrors("torch.safetensors") == trained)
        #expect(try dbnErrors("state_dict.safetensors") == trained)

        // dbn finetune continues the torch network.
        let c = try DBNExecutable.run(["finetune", "--weights", "state_dict.safetensors", "--limit", "200", "--finetune-epochs", "1",
                                       "--output", "continued.safetensors", "--data", mnist], in: folder)
        #expect(c.status == 0 && c.stdout.contains("784-64-10 relu, all 2 layers"), "\(c)")
    }
}

/// `dbn data` and the training commands warn about implausible labels in one line and go on.
@Suite struct PlausibilityWarningTests {
    @Test func labelsThatAreAllTwoHundredAreWarnedAbout() throws {
        let f = try TrainingFixture()
        try IDXFile.write(IDXArray(shape: [90], uint8: Array(repeating: 200, count: 90)), to: f.path("train-labels-idx1-ubyte"))
        let d = try DBNExecutable.run(["data", "--data", f.folder], in: f.folder)
        #expect(d.status == 0, "\(d)")
        #expect(d.stderrLines == [
            "Warning: training labels look wrong: 200 of the 201 classes have none (0, 1, ..., 199); class 200 holds 100.0% of them",
            "Warning: test labels look wrong: 198 of the 201 classes have none (3, 4, ..., 200)",
        ], "\(d)")
        let t = try DBNExecutable.run(["train", "--layers", "8", "--pretrain-epochs", "1", "--finetune-epochs", "1",
                                       "--batch-size", "10", "--baseline", "none", "--data", f.folder], in: f.folder)
        #expect(t.stderrLines.first { $0.hasPrefix("Warning: training labels look wrong") } != nil, "\(t)")
        // The bundled-like plausible fixture says nothing.
        let clean = try DBNExecutable.run(["data", "--data", try TrainingFixture().folder], in: f.folder)
        #expect(clean.status == 0 && clean.stderr.isEmpty, "\(clean)")
    }
}

/// Provenance: the model file, the checkpoint, the --json object and the --log file carry the
/// tool version, the command line, the data files with sizes and SHA-256, and the seeds; dbn
/// inspect shows them; the model bytes still do not depend on --threads or --output.
@Suite struct ProvenanceTests {
    @Test func resultsSayWhereTheyCameFrom() throws {
        let f = try TrainingFixture()
        let base = ["train", "--layers", "8", "--pretrain-epochs", "1", "--finetune-epochs", "1", "--batch-size", "10",
                    "--baseline", "none", "--seed", "5", "--data", f.folder]
        let a = try DBNExecutable.run(base + ["--threads", "2", "--output", "a.safetensors", "--json", "--log", "a.jsonl",
                                              "--checkpoint-dir", "ck"], in: f.folder)
        #expect(a.status == 0, "\(a)")
        let b = try DBNExecutable.run(base + ["--threads", "1", "--output", "b.safetensors"], in: f.folder)
        #expect(b.status == 0, "\(b)")
        #expect(fileBytes(f.path("a.safetensors")) == fileBytes(f.path("b.safetensors")))

        // The files of the fixture, hashed here independently of the run.
        let names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images.idx3-ubyte", "t10k-labels-idx1-ubyte"]
        let expected = names.map { (f.path($0), fileBytes(f.path($0)).count, SHA256.hex(fileBytes(f.path($0)))) }

        let json = try #require(try a.json()["provenance"] as? [String: Any])
        #expect((json["tool"] as? String)?.hasPrefix("dbn \(Provenance.packageVersion)") == true)
        #expect((json["command_line"] as? [String]).map { Array($0.dropFirst()) } == (base + [
            "--threads", "2", "--output", "a.safetensors", "--json", "--log", "a.jsonl", "--checkpoint-dir", "ck"]))
        #expect((json["command_line"] as? [String])?.first == DBNExecutable.path)
        let files = try #require(json["data_files"] as? [[String: Any]])
        #expect(files.map { $0["path"] as? String } == expected.map(\.0))
        #expect(files.map { $0["bytes"] as? Int } == expected.map(\.1))
        #expect(files.map { $0["sha256"] as? String } == expected.map(\.2))
        #expect(json["seeds"] as? [String: Int] == ["seed": 5, "pretraining": 5, "initialization": 6, "fine_tuning": 5])

        // The model file: the same, with the command line cut to what changes results.
        let model = try #require(Provenance(metadata: try SafeTensors.read(from: f.path("a.safetensors")).metadata))
        #expect(model.commandLine == ["dbn"] + base)
        #expect(model.dataFiles.map(\.sha256) == expected.map(\.2))
        // The checkpoint and the log.
        let checkpoint = try SafeTensors.read(from: f.path("ck/checkpoint.safetensors"))
        #expect(Provenance(metadata: checkpoint.metadata)?.dataFiles.map(\.sha256) == expected.map(\.2))
        let firstRecord = try String(contentsOfFile: f.path("a.jsonl"), encoding: .utf8).split(separator: "\n").first ?? ""
        #expect(firstRecord.contains(expected[0].2) && firstRecord.hasPrefix("{\"provenance\":"))

        let inspect = try DBNExecutable.run(["inspect", "a.safetensors"], in: f.folder)
        #expect(inspect.status == 0, "\(inspect)")
        #expect(inspect.stdout.contains("training images: \(expected[0].0), \(InspectBytes.grouped(expected[0].1)) bytes, SHA-256 \(expected[0].2)"), "\(inspect)")
        #expect(inspect.stdout.contains("seeds            fine_tuning 5, initialization 6, pretraining 5, seed 5"), "\(inspect)")
        #expect(inspect.stdout.contains("command          dbn train --layers 8"), "\(inspect)")
    }
}

enum InspectBytes {
    /// 3256 -> "3,256", as dbn inspect groups digits.
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        return String(digits.enumerated().flatMap { i, d in (i > 0 && (digits.count - i) % 3 == 0) ? [",", d] : [d] })
    }
}

/// The progress display: a bar that moves every minibatch under a pseudo-terminal, within 80
/// columns and never on the same line as a result; nothing but epoch lines through a pipe;
/// `--print-every`.
@Suite(.serialized) struct ProgressDisplayTests {
    static let arguments = ["train", "--layers", "16", "--pretrain-epochs", "2", "--finetune-epochs", "4", "--batch-size", "10",
                            "--baseline", "none"]

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "script(1) is not installed"))
    func underAPseudoTerminalTheBarMovesAndFits80Columns() throws {
        let f = try TrainingFixture(train: 300)
        // script(1) runs the command with stdout and stderr on a pseudo-terminal and copies
        // what it wrote (both streams, in order) to our pipe.
        let command = ([DBNExecutable.path] + Self.arguments + ["--data", f.folder]).joined(separator: " ")
        var environment = ProcessInfo.processInfo.environment
        environment["COLUMNS"] = nil
        let r = try DBNExecutable.runProcess("/usr/bin/script", ["-qec", command, "/dev/null"], in: f.folder)
        #expect(r.status == 0, "\(r)")
        let text = r.stdout
        #expect(text.contains("img/s") && text.contains("ETA") && text.contains("loss"), "\(r)")
        #expect(text.contains("pre-training RBM 1/1 epoch 1/2") && text.contains("fine-tuning epoch 1/4"), "\(r)")
        // Every bar drawn (the text between carriage returns) fits 80 columns.
        let pieces = text.replacingOccurrences(of: "\u{1B}[K", with: "").split(whereSeparator: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
            .filter { $0.contains("img/s") }
        // Each phase's bar draws at its first minibatch, then at most ten times a second: a fast
        // run (about a second here) draws few, so at least one per phase.
        #expect(pieces.count >= 2, "\(r)")
        let widest = pieces.map(\.count).max() ?? 0
        #expect(widest <= 80, "a line of \(widest) columns: \(pieces.first { $0.count == widest } ?? "")")
        // Results start on a line of their own: the bar is erased ("\r\e[K") before them.
        for result in ["    epoch 1: loss", "Test error: "] {
            let range = try #require(text.range(of: result), "\(r)")
            let before = text[..<range.lowerBound]
            #expect(before.unicodeScalars.last == "\n" || before.hasSuffix("\r\u{1B}[K"), "'\(result)' is glued to: \(before.suffix(60))")
        }
    }

    /// compare under a pseudo-terminal: a bar per run naming the arm (i of n) and the seed,
    /// with the ETA of the run and of the whole command, within 80 columns (the epoch never
    /// cut), erased before each result.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "script(1) is not installed"))
    func compareUnderAPseudoTerminalShowsArmSeedAndETA() throws {
        let f = try TrainingFixture()
        let command = [DBNExecutable.path, "compare", "--preset", "deep-xor", "--finetune-epochs", "300", "--seeds", "1,2",
                       "--report", "c"].joined(separator: " ")
        let r = try DBNExecutable.runProcess("/usr/bin/script", ["-qec", command, "/dev/null"], in: f.folder)
        #expect(r.status == 0, "\(r)")
        let pieces = r.stdout.replacingOccurrences(of: "\u{1B}[K", with: "")
            .split(whereSeparator: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }).filter { $0.contains("img/s") }
        #expect(pieces.contains { $0.hasPrefix("arm 1/4 seed 1 ") } && pieces.contains { $0.hasPrefix("arm 4/4 seed 2 ") },
                "\(pieces.prefix(5))")
        #expect(pieces.allSatisfy { $0.count <= 80 }, "\(pieces.max { $0.count < $1.count } ?? "")")
        #expect(pieces.allSatisfy { $0.range(of: #"epoch \d+/300 "#, options: .regularExpression) != nil },
                "\(pieces.first { $0.range(of: #"epoch \d+/300 "#, options: .regularExpression) == nil } ?? "")")
        // The whole command's ETA ("all") while runs remain after this one.
        #expect(pieces.contains { $0.hasPrefix("arm 1/4") && $0.contains(" all ") }, "\(pieces.prefix(5))")
        // Results start on a line of their own: the bar is erased ("\r\e[K") before them.
        for result in ["normal:0.01/sigmoid seed 1: test error", "he-normal/relu seed 2: test error"] {
            let range = try #require(r.stdout.range(of: result), "\(r)")
            let before = r.stdout[..<range.lowerBound]
            #expect(before.unicodeScalars.last == "\n" || before.hasSuffix("\r\u{1B}[K"), "'\(result)' is glued to: \(before.suffix(60))")
        }
    }

    /// compare through a pipe: no bar; with the default --print-every (a tenth of the epochs)
    /// deep-xor prints tens of lines, not thousands; --print-every still applies.
    @Test func compareThroughAPipePrintsATenthOfTheEpochs() throws {
        let f = try TrainingFixture()
        let r = try DBNExecutable.run(["compare", "--preset", "deep-xor", "--report", "c"], in: f.folder)
        #expect(r.status == 0, "\(r)")
        #expect(!r.stdout.contains("\r") && !r.stderr.contains("img/s"), "\(r)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count < 100, "\(lines.count) lines")
        // 4 arms x 10 epoch lines (epochs 50, 100, ..., 500) and one result line per arm.
        #expect(lines.filter { $0.hasPrefix("  ") && $0.contains(" epoch ") }.count == 40, "\(r.stdout)")
        #expect(lines.filter { $0.contains("seed 1: test error") }.count == 4)
        let every = try DBNExecutable.run(["compare", "--preset", "deep-xor", "--finetune-epochs", "20", "--print-every", "5",
                                           "--report", "c"], in: f.folder)
        #expect(every.stdout.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.contains(" epoch ") }.count == 16,
                "\(every.stdout)")
    }

    @Test func throughAPipeOneLinePerEpochAndPrintEvery() throws {
        let f = try TrainingFixture(train: 300)
        let r = try DBNExecutable.run(Self.arguments + ["--data", f.folder, "--print-every", "2"], in: f.folder)
        #expect(r.status == 0, "\(r)")
        #expect(!r.stdout.contains("\r") && !r.stderr.contains("\r") && !r.stderr.contains("img/s"), "\(r)")
        let epochLines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("    epoch ") }
        // Pre-training: epoch 2/2 only; fine-tuning: epochs 2 and 4 of 4.
        #expect(epochLines.map { String($0.prefix(13)) } == ["    epoch 2/2", "    epoch 2: ", "    epoch 4: "], "\(r)")
        let bad = try DBNExecutable.run(Self.arguments + ["--data", f.folder, "--print-every", "0"], in: f.folder)
        expectCleanFailure(bad, naming: "--print-every")
    }
}

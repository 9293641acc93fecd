import DeepBelief
import Foundation
import Testing

/// A temporary folder of small IDX files: `count` images of `side` x `side` pixels in 3 classes,
/// each class a bright block in its own place, with noise.
struct TrainingFixture {
    let folder: String

    init(train: Int = 90, test: Int = 30, side: Int = 6, seed: UInt64 = 1) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dbn-train-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var g = Xoshiro256StarStar(seed: seed)
        func images(_ count: Int) -> (pixels: [UInt8], labels: [UInt8]) {
            var pixels: [UInt8] = [], labels: [UInt8] = []
            for i in 0..<count {
                let label = i % 3
                labels.append(UInt8(label))
                for r in 0..<side {
                    for c in 0..<side {
                        let inBlock = (r * 3 / side) == label || (c * 3 / side) == label
                        let base: Float = inBlock ? 0.85 : 0.1
                        pixels.append(UInt8(max(0, min(255, (base + 0.15 * (g.nextFloat() - 0.5)) * 255))))
                    }
                }
            }
            return (pixels, labels)
        }
        let tr = images(train), te = images(test)
        try IDXFile.write(IDXArray(shape: [train, side, side], uint8: tr.pixels), to: folder + "/train-images-idx3-ubyte")
        try IDXFile.write(IDXArray(shape: [train], uint8: tr.labels), to: folder + "/train-labels-idx1-ubyte", gzip: true)
        try IDXFile.write(IDXArray(shape: [test, side, side], uint8: te.pixels), to: folder + "/t10k-images.idx3-ubyte")
        try IDXFile.write(IDXArray(shape: [test], uint8: te.labels), to: folder + "/t10k-labels-idx1-ubyte")
    }

    func path(_ name: String) -> String { folder + "/" + name }
}

private func dbn(_ arguments: [String], _ fixture: TrainingFixture) throws -> CommandResult {
    try DBNExecutable.run(arguments + ["--data", fixture.folder], in: fixture.folder)
}

@Suite(.serialized) struct TrainingCommandsTests {
    @Test func trainPretrainsFineTunesAndComparesWithAHeStart() throws {
        let f = try TrainingFixture()
        let r = try dbn(["train", "--layers", "12,8", "--pretrain-epochs", "3", "--finetune-epochs", "8",
                         "--batch-size", "10", "--log", "train.jsonl", "--json"], f)
        #expect(r.status == 0, "\(r)")
        let json = try r.json()
        let testError = try #require(json["test_error"] as? Double)
        #expect(testError >= 0 && testError < 0.2, "\(r)")
        let runs = try #require(json["runs"] as? [[String: Any]])
        #expect(runs.map { $0["initialization"] as? String } == ["dbn", "he-normal"])
        // Each arm at the rate that suits it: the pre-trained sigmoid net at 0.5, He + ReLU at 0.1.
        #expect(runs.map { $0["activation"] as? String } == ["sigmoid", "relu"])
        #expect(runs.map { $0["learning_rate"] as? Double } == [0.5, 0.1])
        // The closing line names the winner and McNemar's p on the test predictions.
        let p = try #require((json["mc_nemar"] as? [String: Any])?["p_value"] as? Double)
        #expect(p > 0 && p <= 1)
        let verdict = try #require(json["verdict"] as? String)
        #expect(verdict.contains("won") || verdict.contains("a tie"))
        #expect(verdict.contains(p < 0.05 ? ", distinguishable at 5%" : "not distinguishable at 5%"))
        #expect(r.stdout.contains(verdict))
        #expect(json["layer_sizes"] as? [Int] == [36, 12, 8, 3])
        // The model file holds the network and the stack it came from.
        let file = try SafeTensors.read(from: f.path("model.safetensors"))
        let network = try ModelArchive.network(from: file)
        #expect(network.sizes == [36, 12, 8, 3])
        #expect(try ModelArchive.stack(from: file).layerSizes == [36, 12, 8])
        #expect(file.metadata["input_shape"] == "[6,6]")
        // The provenance, then one log record per epoch: 2 layers x 3 pre-training epochs, 2 x 8
        // fine-tuning epochs.
        let log = try String(contentsOfFile: f.path("train.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(log.count == 1 + 6 + 16)
        #expect(log.first?.hasPrefix("{\"provenance\":{") == true)
        #expect(log.dropFirst().first?.contains("\"reconstruction_error\"") == true)
        #expect(log.last?.contains("\"gradient_norm\"") == true)
    }

    /// `dbn train --seeds`: the two arms through the comparison, once per seed (the stack
    /// pre-trained once per seed), each at its own rate, the paired bootstrap across seeds,
    /// every run in the JSON, CSV and log, and the first seed's main network in the model file.
    @Test func trainWithSeedsRunsEveryArmOncePerSeed() throws {
        let f = try TrainingFixture()
        let r = try dbn(["train", "--layers", "12", "--pretrain-epochs", "2", "--finetune-epochs", "3", "--batch-size", "10",
                         "--seeds", "1,2,3", "--log", "train.jsonl", "--json"], f)
        #expect(r.status == 0, "\(r)")
        let json = try r.json()
        #expect(json["seeds"] as? [Int] == [1, 2, 3])
        let runs = try #require(json["runs"] as? [[String: Any]])
        #expect(runs.count == 6 && runs.map { $0["seed"] as? Int } == [1, 2, 3, 1, 2, 3])
        #expect(runs.map { $0["init"] as? String } == ["dbn", "dbn", "dbn", "he-normal", "he-normal", "he-normal"])
        #expect(runs.map { $0["learning_rate"] as? Double } == [0.5, 0.5, 0.5, 0.1, 0.1, 0.1])
        // Pre-trained once per seed: the pretrained runs carry pre-training time, the others none.
        #expect(runs.prefix(3).allSatisfy { ($0["pretraining_seconds"] as? Double ?? 0) > 0 })
        #expect(runs.suffix(3).allSatisfy { $0["pretraining_seconds"] as? Double == 0 })
        let arms = try #require(json["arms"] as? [[String: Any]])
        #expect(arms.count == 2 && arms.allSatisfy { $0["interval"] is [String: Any] && $0["standard_deviation"] is Double })
        let versus = try #require(arms.compactMap { $0["versus_best"] as? [String: Any] }.first)
        #expect(versus["test"] as? String == "paired-bootstrap" && versus["bootstrap"] is [String: Any])
        let verdict = try #require(json["verdict"] as? String)
        #expect(verdict.hasPrefix("Best: ") && verdict.contains("paired bootstrap") && verdict.contains("distinguishable at 5%"))
        #expect(verdict.contains("Model (dbn/sigmoid, seed 1) written to model.safetensors"))
        #expect(r.stdout.contains("| 95% interval |"))
        let csv = try String(contentsOfFile: f.path("train.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 7)
        #expect(FileManager.default.fileExists(atPath: f.path("train-arms.csv")))
        // Every fine-tuning epoch of every run is logged (2 arms x 3 seeds x 3 epochs), and the
        // pre-training of each seed (3 seeds x 2 epochs).
        let log = try String(contentsOfFile: f.path("train.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(log.filter { $0.contains("\"phase\":\"compare\"") }.count == 18)
        #expect(log.filter { $0.contains("\"reconstruction_error\"") }.count == 6)
        let file = try SafeTensors.read(from: f.path("model.safetensors"))
        #expect(try ModelArchive.network(from: file).sizes == [36, 12, 3])
        #expect(try ModelArchive.stack(from: file).layerSizes == [36, 12])
        #expect(file.metadata["seed"] == "1")
        // Nothing to compare, or checkpoints of several runs, are refused before any work.
        expectCleanFailure(try dbn(["train", "--seeds", "1,2", "--baseline", "none"], f), naming: "--baseline none")
        expectCleanFailure(try dbn(["train", "--seeds", "1,2", "--checkpoint-dir", "ck"], f), naming: "--checkpoint-dir")
        expectCleanFailure(try dbn(["train", "--seeds", "1,x"], f), naming: "--seeds")
    }

    @Test func pretrainThenFinetuneASavedStack() throws {
        let f = try TrainingFixture()
        let p = try dbn(["pretrain", "--layers", "10", "--pretrain-epochs", "4", "--batch-size", "10", "--free-energy-gap", "--json"], f)
        #expect(p.status == 0, "\(p)")
        let layers = try #require(try p.json()["layers"] as? [[String: Any]])
        let errors = try #require(layers.first?["reconstruction_error"] as? [Double])
        #expect(errors.count == 4)
        #expect(errors.last! < errors.first!)
        let stack = try ModelArchive.stack(from: try SafeTensors.read(from: f.path("stack.safetensors")))
        #expect(stack.layerSizes == [36, 10])

        let t = try dbn(["finetune", "--weights", "stack.safetensors", "--finetune-epochs", "5", "--batch-size", "10", "--json"], f)
        #expect(t.status == 0, "\(t)")
        let testError = try #require(try t.json()["test_error"] as? Double)
        #expect(testError < 0.3)
    }

    @Test func salakhutdinov2008PresetSetsTheRecipeAndFlagsOverrideIt() throws {
        let f = try TrainingFixture()
        let r = try dbn(["pretrain", "--preset", "salakhutdinov2008-cd25", "--layers", "8", "--pretrain-epochs", "2",
                         "--cd-steps", "4", "--batch-size", "10", "--quiet"], f)
        #expect(r.status == 0, "\(r)")
        let file = try SafeTensors.read(from: f.path("stack.safetensors"))
        let configuration = try JSONDecoder().decode(RBMTrainingConfiguration.self,
                                                     from: Data(try #require(file.metadata["pretraining"]).utf8))
        // Given on the command line: layers, epochs, k; from the preset: the rest of the recipe.
        #expect(configuration.epochs == 2 && configuration.cdSteps == 4 && configuration.growCDSteps)
        #expect(configuration.learningRate == 0.05 && configuration.weightCost == 2e-4 && configuration.initialMomentum == 0.5)
        #expect(configuration.negativeVisible == .sample && configuration.visibleBiasStart == .zero)
        #expect(configuration.resampleBinaryData && file.metadata["binarize"] == "resample")
        #expect(try ModelArchive.stack(from: file).layerSizes == [36, 8])
        // Without the preset the defaults apply: visible means, visible biases from the data.
        let plain = try dbn(["pretrain", "--layers", "8", "--pretrain-epochs", "1", "--quiet", "--output", "plain.safetensors"], f)
        #expect(plain.status == 0, "\(plain)")
        let plainFile = try SafeTensors.read(from: f.path("plain.safetensors"))
        #expect(plainFile.metadata["pretraining"]?.contains("negativeVisible") == false)
        expectCleanFailure(try dbn(["pretrain", "--preset", "salakhutdinov2008-cd2"], f), naming: "salakhutdinov2008-cd2")
    }

    @Test func momentumFlagsReachThePretrainingConfiguration() throws {
        let f = try TrainingFixture()
        let r = try dbn(["pretrain", "--layers", "8", "--pretrain-epochs", "1", "--batch-size", "10",
                         "--initial-momentum", "0", "--final-momentum", "0.25", "--quiet"], f)
        #expect(r.status == 0, "\(r)")
        let file = try SafeTensors.read(from: f.path("stack.safetensors"))
        let configuration = try JSONDecoder().decode(RBMTrainingConfiguration.self,
                                                     from: Data(try #require(file.metadata["pretraining"]).utf8))
        #expect(configuration.initialMomentum == 0 && configuration.finalMomentum == 0.25)
        #expect(configuration.momentum(forEpoch: 0) == 0 && configuration.momentum(forEpoch: 5) == 0.25)
        // Out of range: one line naming the flag, nothing written.
        let bad = try dbn(["pretrain", "--layers", "8", "--final-momentum", "1", "--output", "bad.safetensors"], f)
        expectCleanFailure(bad, naming: "--final-momentum")
        #expect(!FileManager.default.fileExists(atPath: f.path("bad.safetensors")))
    }

    /// Every pre-training setting the library range-checks (`RBMTrainingConfiguration.validate`)
    /// is refused at parse time with its flag named: the data folder does not exist, so an error
    /// raised after loading would name it instead.
    @Test func badPretrainingSettingsAreRefusedByFlagBeforeTheDataIsRead() throws {
        let f = try TrainingFixture()
        let cases: [(String, [String])] = [
            ("--pretrain-epochs", ["--pretrain-epochs", "-1"]), ("--pretrain-learning-rate", ["--pretrain-learning-rate", "0"]),
            ("--initial-momentum", ["--initial-momentum", "1"]), ("--final-momentum", ["--final-momentum", "-0.5"]),
            ("--weight-cost", ["--weight-cost", "-1"]), ("--cd-steps", ["--cd-steps", "0"]),
            ("--sparsity-target", ["--sparsity-target", "1"]), ("--temperatures", ["--temperatures", "2000"]),
            ("--hidden-offset-rate", ["--hidden-offset-rate", "0"])]
        for command in ["pretrain", "train", "generative"] {
            for (flag, arguments) in cases {
                let r = try DBNExecutable.run([command, "--layers", "8"] + arguments + ["--data", f.path("missing")], in: f.folder)
                expectCleanFailure(r, naming: flag)
            }
        }
        let r = try DBNExecutable.run(["generative", "--layers", "8", "--discriminative-weight", "1", "--centered",
                                       "--data", f.path("missing")], in: f.folder)
        expectCleanFailure(r, naming: "--discriminative-weight", containing: "centering")
    }

    /// The same for fine-tuning (`TrainingConfiguration.validate`): every checked flag, in each
    /// command that fine-tunes, refused by name before the (missing) data is read.
    @Test func badFineTuningSettingsAreRefusedByFlagBeforeTheDataIsRead() throws {
        let f = try TrainingFixture()
        let cases: [(String, [String])] = [
            ("--finetune-epochs", ["--finetune-epochs", "0"]), ("--finetune-learning-rate", ["--finetune-learning-rate", "0"]),
            ("--batch-size", ["--batch-size", "0"]), ("--momentum", ["--momentum", "1"]),
            ("--weight-decay", ["--weight-decay=-1"]), ("--max-norm", ["--max-norm", "0"]),
            ("--dropout", ["--dropout", "1"]), ("--input-dropout", ["--input-dropout=-0.1"]),
            ("--validation", ["--validation=-1"]), ("--patience", ["--patience", "0", "--validation", "10"]),
            ("--freeze-hidden-epochs", ["--freeze-hidden-epochs=-1"]), ("--schedule", ["--schedule", "exp:0"]),
            ("--schedule", ["--schedule", "step:0:0.5"]), ("--momentum-schedule", ["--momentum-schedule", "0.5:1:10"]),
            ("--momentum-schedule", ["--momentum-schedule", "0.5:0.9:10", "--optimizer", "adam"])]
        for command in [["train", "--layers", "8"], ["finetune", "--weights", f.path("missing.safetensors")],
                        ["compare", "--layers", "8"]] {
            for (flag, arguments) in cases {
                let r = try DBNExecutable.run(command + arguments + ["--data", f.path("missing")], in: f.folder)
                expectCleanFailure(r, naming: flag)
                #expect(!r.stderr.contains("missing"), "\(command[0]) \(arguments): \(r)")
            }
        }
    }

    /// `--momentum-schedule START:END:EPOCHS[:dampened]` reaches the fine-tuning configuration in
    /// the model file; a malformed one is one error line naming the flag, no file written.
    @Test func momentumScheduleFlagReachesTheFineTuningConfiguration() throws {
        let f = try TrainingFixture()
        for (value, dampened) in [("0.5:0.9:2", false), ("0.5:0.9:2:dampened", true)] {
            let r = try dbn(["train", "--layers", "8", "--pretrain-epochs", "1", "--finetune-epochs", "3", "--batch-size", "10",
                             "--baseline", "none", "--momentum-schedule", value, "--quiet"], f)
            #expect(r.status == 0, "\(r)")
            let file = try SafeTensors.read(from: f.path("model.safetensors"))
            let configuration = try JSONDecoder().decode(TrainingConfiguration.self,
                                                         from: Data(try #require(file.metadata["fine_tuning"]).utf8))
            #expect(configuration.momentumSchedule == MomentumSchedule(start: 0.5, end: 0.9, epochs: 2, dampened: dampened))
            try FileManager.default.removeItem(atPath: f.path("model.safetensors"))
        }
        for bad in ["0.5:0.9:2:damped", "0.5:0.9", "0.5:1:2"] {
            let r = try dbn(["train", "--layers", "8", "--momentum-schedule", bad, "--output", "bad.safetensors"], f)
            expectCleanFailure(r, naming: "--momentum-schedule")
            #expect(!FileManager.default.fileExists(atPath: f.path("bad.safetensors")))
        }
    }

    @Test func compareRunsTheGridAndWritesCSVAndJSON() throws {
        let f = try TrainingFixture()
        let r = try dbn(["compare", "--inits", "dbn,he-normal,zeros", "--activations", "sigmoid,relu",
                         "--layers", "8", "--pretrain-epochs", "2", "--finetune-epochs", "3", "--json"], f)
        #expect(r.status == 0, "\(r)")
        let runs = try #require(try r.json()["runs"] as? [[String: Any]])
        #expect(runs.count == 6)
        for run in runs {
            #expect(run["init"] is String && run["activation"] is String)
            #expect(run["test_error"] is Double)
        }
        #expect(r.stdout.contains("| start | activation |"))
        let csv = try String(contentsOfFile: f.path("compare.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 7)
        #expect(FileManager.default.fileExists(atPath: f.path("compare.json")))
    }

    @Test func compareWithSeedsAndARateGridReportsIntervalsAndPairedTests() throws {
        let f = try TrainingFixture(train: 120, test: 30)
        let r = try dbn(["compare", "--inits", "dbn,he-normal", "--activations", "sigmoid", "--layers", "8",
                         "--pretrain-epochs", "2", "--finetune-epochs", "3", "--batch-size", "10", "--seeds", "1,2,3",
                         "--learning-rates", "0.05,0.5", "--selection-validation", "30", "--log", "compare.jsonl", "--json"], f)
        #expect(r.status == 0, "\(r)")
        let json = try r.json()
        #expect(json["seeds"] as? [Int] == [1, 2, 3])
        #expect(json["learning_rates"] as? [Double] == [0.05, 0.5])
        let runs = try #require(json["runs"] as? [[String: Any]])
        #expect(runs.count == 6 && runs.map { $0["seed"] as? Int } == [1, 2, 3, 1, 2, 3])
        #expect(runs.allSatisfy { ($0["seconds_at_epoch"] as? [Double])?.count == 3 })
        let arms = try #require(json["arms"] as? [[String: Any]])
        #expect(arms.count == 2)
        for arm in arms {
            #expect((arm["validation_errors"] as? [Any])?.count == 2)
            #expect([0.05, 0.5].contains(try #require(arm["learning_rate"] as? Double)))
            #expect(arm["interval"] is [String: Any] && arm["mean_test_error"] is Double)
        }
        #expect(arms.filter { $0["versus_best"] is [String: Any] }.count == 1)
        #expect((json["verdict"] as? String)?.hasPrefix("Best: ") == true)
        #expect(r.stdout.contains("validation error at 0.05 / 0.5"))
        let armsCSV = try String(contentsOfFile: f.path("compare-arms.csv"), encoding: .utf8).split(separator: "\n")
        #expect(armsCSV.count == 3 && armsCSV[0].contains("ci95_lower") && armsCSV[0].contains("mcnemar_p"))
        // Every epoch of every run is logged, the selection runs (2 arms x 2 rates x 3 epochs) marked.
        let log = try String(contentsOfFile: f.path("compare.jsonl"), encoding: .utf8).split(separator: "\n")
        let fineTuning = log.filter { $0.contains("\"phase\":\"compare\"") }
        #expect(fineTuning.count == 12 + 18)
        #expect(fineTuning.filter { $0.contains("\"selection\":true") }.count == 12)
        // Explicit arms instead of the grid.
        let a = try dbn(["compare", "--arms", "dbn/sigmoid,he-normal/relu", "--layers", "8", "--pretrain-epochs", "1",
                         "--finetune-epochs", "2", "--batch-size", "10", "--seeds", "1,2", "--report", "arms", "--json", "--quiet"], f)
        #expect(a.status == 0, "\(a)")
        let armNames = try #require(try a.json()["arms"] as? [[String: Any]]).map { "\($0["start"]!)/\($0["activation"]!)" }
        #expect(armNames == ["dbn/sigmoid", "he-normal/relu"])
        // Bad lists are refused with the option named.
        expectCleanFailure(try dbn(["compare", "--arms", "dbn-sigmoid"], f), naming: "--arms")
        expectCleanFailure(try dbn(["compare", "--arms", "dbn/sigmoid", "--inits", "zeros"], f), naming: "--arms")
        expectCleanFailure(try dbn(["compare", "--seeds", "1,1"], f), naming: "--seeds")
        expectCleanFailure(try dbn(["compare", "--learning-rates", "0.1,-1"], f), naming: "--learning-rates")
    }

    @Test func deepXORPresetShowsVanishingGradients() throws {
        let f = try TrainingFixture()
        let r = try dbn(["compare", "--preset", "deep-xor", "--json"], f)
        #expect(r.status == 0, "\(r)")
        let runs = try #require(try r.json()["runs"] as? [[String: Any]])
        let byKey = Dictionary(uniqueKeysWithValues: runs.map { ("\($0["init"]!)/\($0["activation"]!)", $0["test_error"] as? Double) })
        #expect(byKey["normal:0.01/sigmoid"] == 0.5)
        #expect(byKey["he-normal/relu"] == 0)
    }

    /// SIGKILL at random moments: the checkpoint is always a complete file, and --resume ends
    /// with a model byte-identical to the uninterrupted run's.
    @Test func killedRunsResumeToTheSameWeights() throws {
        let f = try TrainingFixture(train: 600, test: 60, side: 8)
        try expectKilledRunsResume(["train", "--layers", "48,32", "--pretrain-epochs", "4", "--finetune-epochs", "5", "--quiet",
                                    "--threads", "1", "--data", f.folder], in: f, attempts: 4, seed: 7)
    }

    /// The same for batch-normalised fine-tuning: an unrolled stack with --batch-norm (SGD with
    /// momentum; a validation split, so the best network's copy is in the checkpoint too), and
    /// a saved batch-normalised maxout network continued with Adam.
    @Test func killedBatchNormalisedRunsResumeToTheSameWeights() throws {
        let f = try TrainingFixture(train: 600, test: 60, side: 8)
        var g = Xoshiro256StarStar(seed: 3)
        try ModelArchive.archive(stack: DeepBeliefNetwork(layerSizes: [64, 48, 32], generator: &g)).write(to: f.path("stack.safetensors"))
        let maxout = try Network(sizes: [64, 32, 3], hiddenActivation: .maxout, maxoutPieces: 3, initializer: .heNormal,
                                 generator: &g).withBatchNormalization()
        try ModelArchive.archive(network: maxout).write(to: f.path("maxout.safetensors"))
        let common = ["finetune", "--finetune-epochs", "8", "--quiet", "--threads", "1", "--data", f.folder]
        try expectKilledRunsResume(common + ["--weights", "stack.safetensors", "--batch-norm", "--validation", "100"],
                                   in: f, attempts: 3, seed: 8)
        try expectKilledRunsResume(common + ["--weights", "maxout.safetensors", "--optimizer", "adam", "--finetune-learning-rate", "0.01"],
                                   in: f, attempts: 3, seed: 9)
    }

    /// Runs `arguments` once whole, then `attempts` times killed (SIGKILL) up to three times at
    /// random moments (from `seed`) and resumed each time; every attempt must end with the
    /// whole run's model file, byte for byte, and the checkpoint must always read as a whole.
    private func expectKilledRunsResume(_ arguments: [String], in f: TrainingFixture, attempts: Int, seed: UInt64) throws {
        let tag = "\(seed)"
        let full = try DBNExecutable.run(arguments + ["--output", "full\(tag).safetensors"], in: f.folder)
        #expect(full.status == 0, "\(full)")
        let expected = fileBytes(f.path("full\(tag).safetensors"))
        var g = Xoshiro256StarStar(seed: seed)
        let started = Date()
        _ = try DBNExecutable.run(arguments + ["--output", "timing\(tag).safetensors"], in: f.folder)
        let duration = Date().timeIntervalSince(started)
        for attempt in 0..<attempts {
            let dir = "ck\(tag)-\(attempt)"
            let output = "resumed\(tag)-\(attempt).safetensors"
            var killedAfter = 0.0
            // Kill up to three times at random moments, each time restarting with --resume.
            for kill in 0..<3 {
                let delay = duration * Double(0.05 + 0.8 * Double(g.nextFloat()))
                let resume = kill > 0 && FileManager.default.fileExists(atPath: f.path(dir + "/checkpoint.safetensors"))
                    ? ["--resume"] : []
                let process = try DBNExecutable.start(arguments + ["--checkpoint-dir", dir, "--output", output] + resume,
                                                      in: f.folder)
                Thread.sleep(forTimeInterval: delay)
                Foundation.kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                killedAfter += delay
                let checkpoint = f.path(dir + "/checkpoint.safetensors")
                if FileManager.default.fileExists(atPath: checkpoint) {
                    // Never partial: the file always reads as a whole checkpoint.
                    let file = try SafeTensors.read(from: checkpoint)
                    #expect(file.metadata["kind"] == "checkpoint")
                }
            }
            let hasCheckpoint = FileManager.default.fileExists(atPath: f.path(dir + "/checkpoint.safetensors"))
            let finish = try DBNExecutable.run(arguments + ["--checkpoint-dir", dir, "--output", output]
                                               + (hasCheckpoint ? ["--resume"] : []), in: f.folder)
            #expect(finish.status == 0, "\(finish)")
            // A kill during a write may leave a temporary file; the next start removes it. The
            // lock file stays (it names the last owner; the kernel dropped its lock).
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: f.path(dir))
                .filter { $0 != "checkpoint.safetensors" && $0 != ".lock" }
            #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
            #expect(fileBytes(f.path(output)) == expected, "\(arguments[0]) attempt \(attempt) (killed after \(killedAfter) s)")
        }
    }

    @Test func ctrlCStopsAfterSavingACheckpoint() throws {
        let f = try TrainingFixture(train: 600, test: 60, side: 8)
        let arguments = ["train", "--layers", "48,32", "--pretrain-epochs", "200", "--finetune-epochs", "5",
                         "--threads", "1", "--checkpoint-dir", "ck", "--data", f.folder]
        let process = try DBNExecutable.start(arguments, in: f.folder)
        Thread.sleep(forTimeInterval: 0.8)
        Foundation.kill(process.processIdentifier, SIGINT)
        let result = DBNExecutable.finish(process)
        #expect(result.status != 0)
        #expect(result.stderr.contains("interrupted") && result.stderr.contains("--resume"), "\(result)")
        #expect(try SafeTensors.read(from: f.path("ck/checkpoint.safetensors")).metadata["kind"] == "checkpoint")
    }

    /// The benchmark's smoke run (the timings themselves are reported by scripts/bench, not tested).
    @Test(arguments: ["cd1", "pretrain", "finetune"])
    func benchSmokeRun(work: String) throws {
        let f = try TrainingFixture(train: 200, test: 30)
        let r = try dbn(["bench", "--work", work, "--epochs", "1", "--json"], f)
        #expect(r.status == 0, "\(r)")
        let json = try r.json()
        #expect(json["work"] as? String == work)
        #expect((json["seconds"] as? Double).map { $0 > 0 } == true)
        #expect((json["gflops"] as? Double).map { $0 > 0 } == true)
        #expect(json["images"] as? Int == 200)
    }

    @Test func divergingRunStopsWithAClearMessage() throws {
        let f = try TrainingFixture()
        let r = try dbn(["train", "--layers", "8", "--pretrain-epochs", "1", "--finetune-epochs", "3",
                         "--finetune-learning-rate", "1e20", "--activation", "relu", "--baseline", "none"], f)
        expectCleanFailure(r, naming: "epoch", containing: "learning rate")
    }

    @Test func badFlagsAndFilesGiveOneClearLine() throws {
        let f = try TrainingFixture()
        expectCleanFailure(try dbn(["train", "--layers", "12,abc"], f), naming: "--layers")
        expectCleanFailure(try dbn(["train", "--init", "glorious"], f), naming: "glorious")
        expectCleanFailure(try dbn(["train", "--optimizer", "rmsprop"], f), naming: "rmsprop")
        expectCleanFailure(try dbn(["finetune", "--weights", "missing.safetensors"], f), naming: "missing.safetensors")
        expectCleanFailure(try DBNExecutable.run(["train", "--data", f.path("nowhere")], in: f.folder), naming: "nowhere")
        expectCleanFailure(try dbn(["train", "--resume"], f), naming: "--checkpoint-dir")
    }

    @Test func presetsYieldToFlagsGivenAndChoicesAreTyped() throws {
        let f = try TrainingFixture()
        // deep-xor's own values (10 hidden layers of 12, 500 epochs, batch 4) unless given.
        let r = try DBNExecutable.run(["compare", "--preset", "deep-xor", "--layers", "4,4", "--finetune-epochs", "3",
                                       "--inits", "he-normal", "--activations", "relu", "--report", "xor",
                                       "--json", "--quiet"], in: f.folder)
        #expect(r.status == 0, "\(r)")
        let json = try r.json()
        #expect(json["layer_sizes"] as? [Int] == [2, 4, 4, 2])
        #expect(json["epochs"] as? Int == 3)
        #expect((json["runs"] as? [[String: Any]])?.map { "\($0["init"]!)/\($0["activation"]!)" } == ["he-normal/relu"])
        // compare takes --activations; a lone --activation is refused, not ignored.
        #expect(try DBNExecutable.run(["compare", "--preset", "deep-xor", "--activation", "tanh"], in: f.folder).status != 0)
        // --help states the defaults that apply, and the valid values of choices.
        func help(_ command: String) throws -> String {  // words joined by single spaces (help wraps lines)
            try DBNExecutable.run([command, "--help"], in: f.folder).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        #expect(try help("compare").contains("Fine-tuning learning rate (default: 0.5; dbn compare: 0.1"))
        let pretrainHelp = try help("pretrain")
        #expect(pretrainHelp.contains("values: none, threshold, stochastic, resample"))
        #expect(!pretrainHelp.contains("--epochs") && pretrainHelp.contains("--pretrain-epochs"))
        expectCleanFailure(try dbn(["pretrain", "--binarize", "sometimes"], f), naming: "sometimes")
    }
}

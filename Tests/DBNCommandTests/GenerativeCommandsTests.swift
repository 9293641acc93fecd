import DeepBelief
import Foundation
import Testing

private func dbn(_ arguments: [String], _ fixture: TrainingFixture) throws -> CommandResult {
    try DBNExecutable.run(arguments + ["--data", fixture.folder], in: fixture.folder)
}

/// `dbn generative`, `dbn dream` and `dbn evaluate` on a generative DBN.
@Suite(.serialized) struct GenerativeCommandsTests {
    @Test func generativeTrainsGreedilyWithLabelsThenUpDownAndEvaluateAndDreamUseTheModel() throws {
        let f = try TrainingFixture(train: 150, test: 60)
        let r = try dbn(["generative", "--layers", "16,24", "--pretrain-epochs", "15", "--up-down-epochs", "3",
                         "--batch-size", "10", "--cd-schedule", "1,2", "--greedy-output", "greedy.safetensors",
                         "--up-down-test-every", "2", "--log", "run.jsonl", "--tensorboard", "tb",
                         "--output", "gen.safetensors", "--json"], f)
        #expect(r.status == 0, "\(r)")
        let json = try r.json()
        let greedy = try #require(json["greedy_test_error"] as? Double)
        let final = try #require(json["test_error"] as? Double)
        #expect(greedy < 0.3 && final < 0.3, "\(r)")  // chance: 2/3
        let model = try ModelArchive.generative(from: SafeTensors.read(from: f.path("gen.safetensors")))
        #expect(model.isUntied && model.labelCount == 3 && model.stack.layerSizes == [36, 16, 24])
        #expect(try !ModelArchive.generative(from: SafeTensors.read(from: f.path("greedy.safetensors"))).isUntied)

        // One --log record per up-down epoch, with every layer's wake error; TensorBoard events.
        let records = try String(contentsOfFile: f.path("run.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            .filter { $0["phase"] as? String == "up-down" }
        #expect(records.count == 3, "\(records)")
        #expect(records.allSatisfy { ($0["wake_errors"] as? [Double])?.count == 1 && $0["top_reconstruction_error"] is Double })
        #expect(records.map { $0["test_error"] is Double } == [false, true, true])
        #expect(records.last?["test_error"] as? Double == final)
        #expect(FileManager.default.fileExists(atPath: f.path("tb/up-down")))

        let e = try dbn(["evaluate", "--model", "gen.safetensors", "--json"], f)
        #expect(e.status == 0, "\(e)")
        #expect(try e.json()["test_error"] as? Double == final)
        let gibbs = try dbn(["evaluate", "--model", "gen.safetensors", "--classify", "gibbs", "--gibbs-steps", "20",
                             "--json"], f)
        #expect(gibbs.status == 0, "\(gibbs)")
        let settled = try #require(try gibbs.json()["test_error"] as? Double)
        #expect(abs(settled - final) < 0.15, "labels left to settle \(settled), by free energy \(final)")

        // The same dreams with 1 and 2 threads, byte for byte; --classifier reports agreement.
        var sheets: [[UInt8]] = []
        for threads in ["1", "2"] {
            let d = try DBNExecutable.run(["dream", "--model", "gen.safetensors", "--all-labels", "--count", "4",
                                           "--steps", "20", "--output", "t\(threads).png", "--threads", threads,
                                           "--classifier", "gen.safetensors", "--json"], in: f.folder)
            #expect(d.status == 0, "\(d)")
            let agreement = try #require(try d.json()["agreement"] as? Double)
            #expect((0...1).contains(agreement))
            sheets.append(fileBytes(f.path("t\(threads).png")))
        }
        #expect(sheets[0] == sheets[1])

        let d = try DBNExecutable.run(["dream", "--model", "gen.safetensors", "--all-labels", "--count", "4",
                                       "--steps", "20", "--output", "sheet.png", "--upscale", "1",
                                       "--frames", "5", "--frames-output", "strip.png"], in: f.folder)
        #expect(d.status == 0, "\(d)")
        #expect(pngSize(fileBytes(f.path("sheet.png")))?.width ?? 0 >= 4 * 6)
        #expect(pngSize(fileBytes(f.path("strip.png"))) != nil)
        let one = try DBNExecutable.run(["dream", "--model", "gen.safetensors", "--label", "7", "--output", "x.png"],
                                        in: f.folder)
        expectCleanFailure(one, naming: "gen.safetensors", containing: "--label 7")
        // --anneal: other chains (so other images), in the JSON report; more than --steps is refused.
        let annealed = try DBNExecutable.run(["dream", "--model", "gen.safetensors", "--all-labels", "--count", "4",
                                              "--steps", "20", "--anneal", "10", "--output", "annealed.png", "--json"],
                                             in: f.folder)
        #expect(annealed.status == 0, "\(annealed)")
        #expect(try annealed.json()["anneal"] as? Int == 10)
        #expect(fileBytes(f.path("annealed.png")) != sheets[0])
        let plain = try DBNExecutable.run(["dream", "--model", "gen.safetensors", "--all-labels", "--count", "4",
                                           "--steps", "20", "--output", "plain.png"], in: f.folder)
        #expect(plain.status == 0 && fileBytes(f.path("plain.png")) == sheets[0], "\(plain)")
        let tooLong = try DBNExecutable.run(["dream", "--model", "gen.safetensors", "--all-labels", "--steps", "20",
                                             "--anneal", "21", "--output", "y.png"], in: f.folder)
        expectCleanFailure(tooLong, naming: "--anneal")
    }

    @Test func lowerLayersTrainTheTopRBMAloneAndGiveTheFullRunsModel() throws {
        let f = try TrainingFixture(train: 150, test: 60)
        let common = ["generative", "--layers", "16,24", "--pretrain-epochs", "4", "--up-down-epochs", "0",
                      "--batch-size", "10", "--seed", "3"]
        let full = try dbn(common + ["--output", "full.safetensors"], f)
        #expect(full.status == 0, "\(full)")
        let top = try dbn(common + ["--lower-layers", "full.safetensors", "--output", "top.safetensors"], f)
        #expect(top.status == 0, "\(top)")
        func model(_ name: String) throws -> GenerativeDeepBeliefNetwork {
            try ModelArchive.generative(from: SafeTensors.read(from: f.path(name)))
        }
        #expect(try model("top.safetensors") == model("full.safetensors"))
        // The hybrid objective changes the top RBM only, and is written to the metadata.
        let hybrid = try dbn(common + ["--lower-layers", "full.safetensors", "--discriminative-weight", "1",
                                       "--output", "hybrid.safetensors"], f)
        #expect(hybrid.status == 0, "\(hybrid)")
        let (plain, changed) = (try model("full.safetensors"), try model("hybrid.safetensors"))
        #expect(Array(changed.stack.layers.dropLast()) == Array(plain.stack.layers.dropLast()))
        #expect(changed.top != plain.top)
        let metadata = try SafeTensors.read(from: f.path("hybrid.safetensors")).metadata
        #expect(metadata.values.contains { $0.contains("\"discriminativeWeight\":1") }, "\(metadata)")

        let sizes = try dbn(["generative", "--layers", "12,24", "--pretrain-epochs", "1", "--up-down-epochs", "0",
                             "--lower-layers", "full.safetensors", "--output", "x.safetensors"], f)
        expectCleanFailure(sizes, naming: "full.safetensors", containing: "--lower-layers")

        // Any stack whose first RBMs fit: a `dbn pretrain` stack (no labels, its own top layer of
        // another size) and a `dbn train` model carrying its RBMs give their first RBM to the model.
        for (name, command) in [("stack.safetensors", ["pretrain", "--layers", "16,30"]),
                                ("net.safetensors", ["train", "--layers", "16,30", "--finetune-epochs", "1", "--baseline", "none"])] {
            let made = try dbn(command + ["--pretrain-epochs", "2", "--batch-size", "10", "--quiet", "--output", name], f)
            #expect(made.status == 0, "\(made)")
            let trained = try dbn(common + ["--lower-layers", name, "--output", "from-\(name)"], f)
            #expect(trained.status == 0, "\(trained)")
            let source = try ModelArchive.stack(from: SafeTensors.read(from: f.path(name)))
            let model = try model("from-\(name)")
            #expect(model.stack.layers[0] == source.layers[0] && model.stack.layerSizes == [36, 16, 24] && model.labelCount == 3)
        }
        let upDown = try dbn(["generative", "--layers", "16,24", "--pretrain-epochs", "1", "--up-down-epochs", "1",
                              "--batch-size", "10", "--output", "ud.safetensors"], f)
        #expect(upDown.status == 0, "\(upDown)")
        expectCleanFailure(try dbn(common + ["--lower-layers", "ud.safetensors", "--output", "z.safetensors"], f),
                           naming: "ud.safetensors", containing: "after up-down")

        // --greedy-model: up-down from a greedy file is the full run's up-down, bit for bit, and
        // the file is in the provenance; a model after up-down, or with --lower-layers, is refused.
        let withUpDown = common.map { $0 == "0" ? "2" : $0 }      // --up-down-epochs 2
        #expect(withUpDown != common)
        let whole = try dbn(withUpDown + ["--output", "whole.safetensors"], f)
        #expect(whole.status == 0, "\(whole)")
        let continued = try dbn(withUpDown + ["--greedy-model", "full.safetensors", "--output", "continued.safetensors"], f)
        #expect(continued.status == 0 && continued.stdout.contains("no greedy training"), "\(continued)")
        let (a, b) = (try SafeTensors.read(from: f.path("whole.safetensors")), try SafeTensors.read(from: f.path("continued.safetensors")))
        #expect(try ModelArchive.generative(from: a) == ModelArchive.generative(from: b))
        #expect(b.metadata.values.contains { $0.contains("greedy model") && $0.contains("full.safetensors") }, "\(b.metadata)")
        // --up-down-persistent: another top phase, another model, and the metadata says so.
        let persistent = try dbn(withUpDown + ["--greedy-model", "full.safetensors", "--up-down-persistent",
                                               "--up-down-initial-momentum", "0", "--output", "pcd.safetensors"], f)
        #expect(persistent.status == 0 && persistent.stdout.contains("persistent CD in the top RBM"), "\(persistent)")
        let pcd = try SafeTensors.read(from: f.path("pcd.safetensors"))
        #expect(try ModelArchive.generative(from: pcd) != ModelArchive.generative(from: b))
        let upDownSettings = try #require(pcd.metadata[ModelArchive.Key.upDown])
        #expect(upDownSettings.contains("\"persistent\":true") && upDownSettings.contains("\"initialMomentum\":0"),
                "\(upDownSettings)")
        expectCleanFailure(try dbn(withUpDown + ["--greedy-model", "ud.safetensors", "--output", "z.safetensors"], f),
                           naming: "ud.safetensors", containing: "after up-down")
        expectCleanFailure(try dbn(withUpDown + ["--greedy-model", "full.safetensors", "--lower-layers", "full.safetensors"], f),
                           naming: "--greedy-model")
        let negative = try dbn(common + ["--discriminative-weight=-1", "--output", "y.safetensors"], f)
        expectCleanFailure(negative, naming: "--discriminative-weight", containing: ">= 0")
    }

    /// Every up-down setting the library range-checks (`UpDownConfiguration.validate`) is refused
    /// by its flag before the (missing) data is read; a checkpoint made with other up-down flags
    /// names the up-down flag that changed.
    @Test func badUpDownSettingsAreRefusedByFlag() throws {
        let f = try TrainingFixture(train: 60, test: 20)
        let cases: [(String, [String])] = [
            ("--up-down-epochs", ["--up-down-epochs=-1"]), ("--up-down-learning-rate", ["--up-down-learning-rate", "0"]),
            ("--up-down-initial-momentum", ["--up-down-initial-momentum", "1"]), ("--up-down-momentum", ["--up-down-momentum", "1"]),
            ("--up-down-weight-cost", ["--up-down-weight-cost=-1"]),
            ("--up-down-discriminative-weight", ["--up-down-discriminative-weight=-1"]), ("--cd-schedule", ["--cd-schedule", "3,0"])]
        for (flag, arguments) in cases {
            let r = try DBNExecutable.run(["generative", "--layers", "8,12"] + arguments + ["--data", f.path("missing")], in: f.folder)
            expectCleanFailure(r, naming: flag)
            #expect(!r.stderr.contains("missing"), "\(arguments): \(r)")
        }
        let run = ["generative", "--layers", "8,12", "--pretrain-epochs", "1", "--up-down-epochs", "1", "--batch-size", "10",
                   "--checkpoint-dir", "ck", "--output", "g.safetensors"]
        let first = try dbn(run, f)
        #expect(first.status == 0, "\(first)")
        let changed = try dbn(run + ["--resume", "--up-down-learning-rate", "0.02"], f)
        expectCleanFailure(changed, naming: "--up-down-learning-rate was 0.01, now 0.02")
    }

    @Test func dreamRefusesAStackWithoutLabels() throws {
        let f = try TrainingFixture()
        let p = try dbn(["pretrain", "--layers", "8", "--pretrain-epochs", "1", "--output", "stack.safetensors"], f)
        #expect(p.status == 0, "\(p)")
        let d = try DBNExecutable.run(["dream", "--model", "stack.safetensors", "--label", "0", "--output", "x.png"],
                                      in: f.folder)
        expectCleanFailure(d, naming: "stack.safetensors", containing: "no label units")
    }
}

/// Commands that need a plain stack refuse a generative DBN in one line that names the file.
@Suite(.serialized) struct GenerativeModelRefusalTests {
    @Test func sampleReconstructAndFinetuneRefuseAGenerativeDBN() throws {
        let f = try TrainingFixture()
        let g = try DBNExecutable.run(["generative", "--data", f.folder, "--layers", "8,10", "--pretrain-epochs", "1",
                                       "--up-down-epochs", "0", "--batch-size", "10", "--output", "gen.safetensors"],
                                      in: f.folder)
        #expect(g.status == 0, "\(g)")
        for arguments in [["sample", "--model", "gen.safetensors", "--output", "s.png"],
                          ["reconstruct", "--model", "gen.safetensors", "--output", "r.png"],
                          ["finetune", "--weights", "gen.safetensors"]] {
            let r = try DBNExecutable.run(arguments + ["--data", f.folder], in: f.folder)
            expectCleanFailure(r, naming: "gen.safetensors", containing: "generative DBN")
        }
    }
}

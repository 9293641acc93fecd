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
                         "--output", "gen.safetensors", "--json"], f)
        #expect(r.status == 0, "\(r)")
        let json = try r.json()
        let greedy = try #require(json["greedy_test_error"] as? Double)
        let final = try #require(json["test_error"] as? Double)
        #expect(greedy < 0.3 && final < 0.3, "\(r)")  // chance: 2/3
        let model = try ModelArchive.generative(from: SafeTensors.read(from: f.path("gen.safetensors")))
        #expect(model.isUntied && model.labelCount == 3 && model.stack.layerSizes == [36, 16, 24])
        #expect(try !ModelArchive.generative(from: SafeTensors.read(from: f.path("greedy.safetensors"))).isUntied)

        let e = try dbn(["evaluate", "--model", "gen.safetensors", "--json"], f)
        #expect(e.status == 0, "\(e)")
        #expect(try e.json()["test_error"] as? Double == final)

        let d = try DBNExecutable.run(["dream", "--model", "gen.safetensors", "--all-labels", "--count", "4",
                                       "--steps", "20", "--output", "sheet.png", "--upscale", "1",
                                       "--frames", "5", "--frames-output", "strip.png"], in: f.folder)
        #expect(d.status == 0, "\(d)")
        #expect(pngSize(fileBytes(f.path("sheet.png")))?.width ?? 0 >= 4 * 6)
        #expect(pngSize(fileBytes(f.path("strip.png"))) != nil)
        let one = try DBNExecutable.run(["dream", "--model", "gen.safetensors", "--label", "7", "--output", "x.png"],
                                        in: f.folder)
        expectCleanFailure(one, naming: "gen.safetensors", containing: "--label 7")
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

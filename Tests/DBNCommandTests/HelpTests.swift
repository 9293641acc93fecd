import Foundation
import Testing

/// `--help` states the defaults that apply: a few of each training subcommand's defaults are
/// read from its help text and checked against what a run actually used, so that the help
/// cannot drift from the code again; options that mean nothing for a subcommand are absent.
@Suite(.serialized) struct HelpDefaultsTests {
    /// The help paragraph of `option` in `dbn command --help`, on one line.
    func help(_ command: String, _ option: String) throws -> String {
        let r = try DBNExecutable.run([command, "--help"])
        #expect(r.status == 0, "\(r)")
        var paragraph: [Substring] = []
        for line in r.stdout.split(separator: "\n") {
            if line.hasPrefix("  -") {
                if !paragraph.isEmpty { break }
                if line.hasPrefix("  \(option) ") || line == "  \(option)" || line.hasPrefix("  \(option)/") { paragraph.append(line) }
            } else if !paragraph.isEmpty {
                paragraph.append(line)
            }
        }
        try #require(!paragraph.isEmpty, "\(command) --help has no \(option)")
        return paragraph.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }

    /// The number after `prefix` in `text` (e.g. "default: " -> 0.5).
    func number(after prefix: String, in text: String) throws -> Double {
        let range = try #require(text.range(of: prefix), "'\(prefix)' not in: \(text)")
        let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        return try #require(Double(String(digits.hasSuffix(".") ? digits.dropLast() : digits)), "\(text)")
    }

    @Test func trainUsesTheDefaultsItsHelpStates() throws {
        let rate = try number(after: "default: ", in: try help("train", "--finetune-learning-rate"))
        let fineEpochs = try number(after: "default: ", in: try help("train", "--finetune-epochs"))
        let preEpochs = try number(after: "default: ", in: try help("train", "--pretrain-epochs"))
        let preRate = try number(after: "default: ", in: try help("train", "--pretrain-learning-rate"))
        let every = try number(after: "default: ", in: try help("train", "--print-every"))
        #expect([rate, fineEpochs, preEpochs, preRate, every] == [0.5, 10, 5, 0.1, 1])

        let f = try TrainingFixture()
        let r = try DBNExecutable.run(["train", "--layers", "4", "--baseline", "none", "--log", "l.jsonl", "--data", f.folder],
                                      in: f.folder)
        #expect(r.status == 0, "\(r)")
        let records = try String(contentsOfFile: f.path("l.jsonl"), encoding: .utf8).split(separator: "\n")
            .compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let pre = records.filter { $0["phase"] as? String == "pretrain" }
        let fine = records.filter { $0["phase"] as? String == "finetune" }
        #expect(Double(pre.count) == preEpochs && Double(fine.count) == fineEpochs)
        #expect(fine.allSatisfy { abs(($0["learning_rate"] as? Double ?? 0) - rate) < 1e-6 })
        #expect(r.stdout.contains("learning rate \(Float(preRate))"), "\(r.stdout)")
        // One line per epoch by default.
        #expect(Double(r.stdout.split(separator: "\n").filter { $0.hasPrefix("    epoch ") && $0.contains(": loss") }.count) == fineEpochs)
    }

    @Test func compareUsesTheLearningRateItsHelpStates() throws {
        let text = try help("compare", "--finetune-learning-rate")
        let rate = try number(after: "dbn compare: ", in: text)
        #expect(rate == 0.1)
        #expect(try number(after: "deep-xor preset ", in: text) == 0.05)
        let f = try TrainingFixture()
        let r = try DBNExecutable.run(["compare", "--layers", "4", "--inits", "he-normal", "--activations", "relu",
                                       "--finetune-epochs", "1", "--report", "c", "--json", "--data", f.folder], in: f.folder)
        #expect(r.status == 0, "\(r)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data((r.stdout.split(separator: "\n").last ?? "").utf8)) as? [String: Any])
        let runs = try #require(json["runs"] as? [[String: Any]])
        #expect(runs.count == 1 && runs.allSatisfy { abs(($0["learning_rate"] as? Double ?? 0) - rate) < 1e-6 }, "\(runs)")
        #expect(try help("compare", "--print-every").contains("dbn compare: a tenth of the fine-tuning epochs"))
    }

    @Test func optionsOnlyWhereTheyMeanSomething() throws {
        // evaluate reads test images only: its --limit says so.
        let limit = try help("evaluate", "--limit")
        #expect(limit.contains("test images") && !limit.contains("training"), "\(limit)")
        #expect(try help("train", "--limit").contains("training images"))
        // pretrain, loglik, sample and reconstruct read images only: no label options.
        for command in ["pretrain", "loglik", "sample", "reconstruct"] {
            let r = try DBNExecutable.run([command, "--help"])
            #expect(r.stdout.contains("--test-images") && !r.stdout.contains("--train-labels") && !r.stdout.contains("--test-labels"),
                    "\(command)")
        }
        // bench writes no log and prints no epoch lines.
        let bench = try DBNExecutable.run(["bench", "--help"])
        #expect(!bench.stdout.contains("--log") && !bench.stdout.contains("--print-every"), "\(bench)")
        // --tensorboard-every only where --tensorboard is.
        for command in ["train", "pretrain", "finetune", "compare", "generative"] {
            #expect(try number(after: "default: ", in: try help(command, "--tensorboard-every")) == 50)
        }
        for command in ["evaluate", "bench"] {
            let r = try DBNExecutable.run([command, "--help"])
            #expect(!r.stdout.contains("--tensorboard"), "\(command)")
        }
    }
}

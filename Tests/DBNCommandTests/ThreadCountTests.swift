import DeepBelief
import Foundation
import Testing

/// One seed, one result, through the command line: the same seed and flags give byte-identical
/// model files on 1, 2 and 3 threads. Images of 16 x 16 pixels and a first layer of 160 units
/// make products large enough (256 x 160 multiply-adds per row) to be split into blocks.
@Suite(.serialized) struct ThreadCountTests {
    func run(_ arguments: [String], threads: Int, output: String, in fixture: TrainingFixture) throws -> Data {
        let r = try DBNExecutable.run(arguments + ["--data", fixture.folder, "--threads", "\(threads)",
                                                   "--output", output, "--quiet"], in: fixture.folder)
        #expect(r.status == 0, "\(r)")
        return try Data(contentsOf: URL(fileURLWithPath: fixture.path(output)))
    }

    @Test func trainGivesTheSameModelBytesOnAnyNumberOfThreads() throws {
        let f = try TrainingFixture(train: 60, test: 20, side: 16)
        // Pre-training, then fine-tuning with input and hidden dropout, max-norm and a validation split.
        let arguments = ["train", "--layers", "160,40", "--pretrain-epochs", "2", "--finetune-epochs", "2",
                         "--batch-size", "10", "--dropout", "0.3", "--input-dropout", "0.2", "--max-norm", "3",
                         "--validation", "10", "--seed", "7"]
        let one = try run(arguments, threads: 1, output: "one.safetensors", in: f)
        #expect(try run(arguments, threads: 2, output: "two.safetensors", in: f) == one)
        #expect(try run(arguments, threads: 3, output: "three.safetensors", in: f) == one)
    }

    @Test func pretrainWithPCDAndResampledDataGivesTheSameBytesOnAnyNumberOfThreads() throws {
        let f = try TrainingFixture(train: 60, test: 20, side: 16)
        let arguments = ["pretrain", "--layers", "160", "--pretrain-epochs", "2", "--batch-size", "10",
                         "--persistent", "--cd-steps", "2", "--binarize", "resample", "--seed", "9"]
        let one = try run(arguments, threads: 1, output: "one.safetensors", in: f)
        #expect(try run(arguments, threads: 2, output: "two.safetensors", in: f) == one)
        #expect(try run(arguments, threads: 3, output: "three.safetensors", in: f) == one)
    }
}

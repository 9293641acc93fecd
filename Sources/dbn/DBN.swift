import ArgumentParser
import DeepBelief
import Files
import Foundation

/// `dbn`: train Deep Belief Networks on IDX data, compare them with Xavier and He starts, and look
/// inside the models.
@main
struct DBN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbn",
        abstract: "Train Deep Belief Networks on the CPU through BLAS, and compare them with Xavier and He starts.",
        discussion: """
            Data: MNIST-style IDX files (gzipped or not). With no --data, the bundled MNIST in \
            datasets/mnist is used. Results go to stdout; --json prints one JSON object as the last \
            line; errors are one line on stderr with a non-zero exit status.
            """,
        version: "dbn " + Provenance.packageVersion,
        subcommands: [TrainCommand.self, PretrainCommand.self, FinetuneCommand.self, CompareCommand.self,
                      EvaluateCommand.self, LoglikCommand.self, FiltersCommand.self, ReconstructCommand.self,
                      SampleCommand.self, GenerativeCommand.self, DreamCommand.self, InspectCommand.self, DataCommand.self, BenchCommand.self])

    /// Runs the command (in every process of an MPI job, see `Processes`); every error is one
    /// line on stderr (no usage block, no stack trace) and a non-zero exit status. `--help` and
    /// `--version` print as usual.
    static func main() {
        // SIGTERM/SIGHUP during a write leave no hidden temporary file behind.
        FileIO.removeTemporaryFilesOnTermination()
        Processes.run {
            do {
                var command = try parseAsRoot()
                // --reproducible G: the engines made inside read the row groups.
                let groups = (command as? any TrainingSubcommand)?.reproducibleGroups
                try Collectives.$rowGroups.withValue(groups) { try command.run() }
                try Console.finishStandardOutput()
            } catch {
                let code = exitCode(for: error)
                if code == .success {
                    print(fullMessage(for: error))
                    Processes.exit(0)
                }
                let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
                let line = "Error: \(Console.sanitized(message, limit: 2000))"
                if (error as? CLIError)?.everyProcess == true { Processes.stop(line, code: code.rawValue) }
                Processes.fail(line, code: code.rawValue)
            }
        }
    }
}

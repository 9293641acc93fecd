import ArgumentParser

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
        version: "0.1.0",
        subcommands: [TrainCommand.self, PretrainCommand.self, FinetuneCommand.self, CompareCommand.self,
                      DataCommand.self, BenchCommand.self])
}

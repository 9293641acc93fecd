import ArgumentParser
import DeepBelief
import Foundation

/// Where the data comes from: a folder (default: the bundled MNIST) or four explicit files.
struct DataOptions: ParsableArguments {
    @Option(help: "Folder of IDX files (default: the bundled datasets/mnist).")
    var data: String?

    @Option(help: "Training images (IDX), instead of --data.")
    var trainImages: String?
    @Option(help: "Training labels (IDX), instead of --data.")
    var trainLabels: String?
    @Option(help: "Test images (IDX), instead of --data.")
    var testImages: String?
    @Option(help: "Test labels (IDX), instead of --data.")
    var testLabels: String?

    @Option(help: "Use only the first N training images (0: all).")
    var limit: Int = 0

    func validate() throws {
        let explicit = [trainImages, trainLabels, testImages, testLabels]
        let given = explicit.compactMap { $0 }.count
        if given != 0 && given != 4 {
            throw ValidationError("give all four of --train-images, --train-labels, --test-images, --test-labels, or none")
        }
        if given == 4 && data != nil {
            throw ValidationError("give either --data or the four explicit files, not both")
        }
        if limit < 0 { throw ValidationError("--limit must be >= 0, got \(limit)") }
    }

    /// What the run reads: the four explicit files, or the data folder.
    var inputPaths: [String] {
        let explicit = [trainImages, trainLabels, testImages, testLabels].compactMap { $0 }
        return explicit.isEmpty ? [folder] : explicit
    }

    /// The folder to read when no explicit files are given.
    var folder: String { data ?? DataOptions.bundledMNIST() }

    /// Loads the training and test sets.
    func load() throws -> DataSet {
        var set: DataSet
        if let trainImages, let trainLabels, let testImages, let testLabels {
            set = try DataSet.load(trainImages: trainImages, trainLabels: trainLabels,
                                   testImages: testImages, testLabels: testLabels)
        } else {
            set = try DataSet.load(folder: folder)
        }
        if limit > 0 && limit < set.trainImages.rows {
            set = DataSet(trainImages: set.trainImages.rows(in: 0..<limit), trainLabels: Array(set.trainLabels[0..<limit]),
                          testImages: set.testImages, testLabels: set.testLabels,
                          imageShape: set.imageShape, files: set.files)
        }
        Self.warn(set.plausibilityWarnings)
        return set
    }

    /// Prints each plausibility warning as one line on stderr (the run goes on).
    static func warn(_ warnings: [String]) {
        for warning in warnings {
            FileHandle.standardError.write(Data("Warning: \(Console.sanitized(warning, limit: 300))\n".utf8))
        }
    }

    /// The bundled MNIST: `datasets/mnist` in the working directory, else next to the
    /// executable's package (walking up from the executable), else beside this source file.
    static func bundledMNIST() -> String {
        let fm = FileManager.default
        let relative = "datasets/mnist"
        if fm.fileExists(atPath: relative) { return relative }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            let candidate = folder.appendingPathComponent(relative).path
            if fm.fileExists(atPath: candidate) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(relative).path
        if fm.fileExists(atPath: source) { return source }
        return relative
    }
}

/// Where the images come from for the commands that read no labels (`pretrain`, `loglik`):
/// each file from its option, else from the folder (default: the bundled MNIST).
struct ImageDataOptions: ParsableArguments {
    @Option(help: "Folder of IDX files; its image files are read, never its labels (default: the bundled datasets/mnist).")
    var data: String?

    @Option(help: "Training images (IDX), instead of those of --data.")
    var trainImages: String?
    @Option(help: "Test images (IDX), instead of those of --data (read only by what needs them).")
    var testImages: String?

    @Option(help: "Use only the first N training images (0: all).")
    var limit: Int = 0

    func validate() throws {
        if limit < 0 { throw ValidationError("--limit must be >= 0, got \(limit)") }
    }

    /// The folder read for what no explicit file gives.
    var folder: String { data ?? DataOptions.bundledMNIST() }

    /// What the run may read (the outputs must not overwrite them).
    var inputPaths: [String] { [trainImages ?? folder, testImages ?? folder] }

    /// The training images, cut to `--limit`.
    func loadTrainingImages() throws -> ImageSet {
        var set = try DataSet.loadImages(trainImages ?? DataSet.locate(.trainImages, in: folder), role: .trainImages)
        if limit > 0 && limit < set.images.rows { set.images = set.images.rows(in: 0..<limit) }
        DataOptions.warn([imageWarning(set.images, what: "training images")].compactMap { $0 })
        return set
    }

    /// The test images; their image shape must be that of `training`.
    func loadTestImages(like training: ImageSet) throws -> ImageSet {
        let set = try DataSet.loadImages(testImages ?? DataSet.locate(.testImages, in: folder), role: .testImages)
        guard set.imageShape == training.imageShape else {
            throw IDXError.imageShapeMismatch(trainFile: training.file.path, trainShape: training.imageShape,
                                              testFile: set.file.path, testShape: set.imageShape)
        }
        DataOptions.warn([imageWarning(set.images, what: "test images")].compactMap { $0 })
        return set
    }
}

/// Options every training subcommand shares: the seed, the --log file, and the output options.
struct RunOptions: ParsableArguments {
    @Option(help: "Seed of every random draw (shuffling, initialisation, sampling).")
    var seed: UInt64 = 1

    @OptionGroup var output: OutputOptions

    @Option(help: "Write one JSON record per epoch to this file (JSON lines).")
    var log: String?

    @Option(help: ArgumentHelp("Reproducible mode: cut every minibatch into G fixed row groups and add their sums in order, so that the same seed and flags give the same model bytes on any number of MPI processes up to G (and on one). Costs smaller products and G partial gradients per step.", valueName: "G"))
    var reproducible: Int?

    /// `--print-every`'s default in `dbn compare`: a tenth of the fine-tuning epochs, rounded up.
    static func compareEpochsPerLine(epochs: Int) -> Int { max(1, (epochs + 9) / 10) }

    @Option(help: "Print one line every N epochs (the last epoch of each phase always; default: 1, dbn compare: a tenth of the fine-tuning epochs, rounded up). The progress bar (on a terminal) still moves every minibatch.")
    var printEvery: Int?

    /// The epochs per printed line that apply outside `dbn compare`.
    var epochsPerLine: Int { printEvery ?? 1 }

    func validate() throws {
        if let printEvery, printEvery < 1 { throw ValidationError("--print-every must be >= 1, got \(printEvery)") }
        if let reproducible, reproducible < 1 { throw ValidationError("--reproducible must be >= 1 (row groups), got \(reproducible)") }
    }

    /// Applies the thread count and returns the console.
    func start() -> Console { output.start() }

    /// A checkpoint's fingerprint (`TrainingRun`): the command's `settings` as JSON, with
    /// `reproducible` = G for `--reproducible G` (the row groups fix the sums' order, so a
    /// resumption must keep them). Absent without the flag: checkpoints written before it was
    /// recorded still resume.
    func fingerprint(_ settings: [String: String]) -> String {
        var settings = settings
        if let reproducible { settings["reproducible"] = "\(reproducible)" }
        return ModelArchive.json(settings)
    }

    /// Checks where the model (`--output`, when the command writes one) and the `--log` go, before
    /// any data is read: neither may be an input of the run, a device, a FIFO or a symlink, nor
    /// the other one.
    func checkDestinations(output model: String?, inputs: [String]) throws {
        if let model { try Safeguards.checkDestination(model, flag: "--output", inputs: inputs) }
        if let log { try Safeguards.checkDestination(log, flag: "--log", inputs: inputs + [model].compactMap { $0 }) }
    }
}

/// A subcommand that trains, with the options every training subcommand shares.
protocol TrainingSubcommand: ParsableCommand {
    /// `--reproducible G`: the row groups of every minibatch (nil: the normal sums).
    var reproducibleGroups: Int? { get }
}

/// The training commands that take the shared `RunOptions` (and so `--reproducible`).
protocol RunOptionsSubcommand: TrainingSubcommand {
    var common: RunOptions { get }
}

extension RunOptionsSubcommand {
    var reproducibleGroups: Int? { common.reproducible }
}

extension PretrainCommand: RunOptionsSubcommand {}
extension FinetuneCommand: RunOptionsSubcommand {}
extension TrainCommand: RunOptionsSubcommand {}
extension CompareCommand: RunOptionsSubcommand {}
extension GenerativeCommand: RunOptionsSubcommand {}
extension BenchCommand: TrainingSubcommand { var reproducibleGroups: Int? { reproducible } }

/// Output and thread options of every subcommand.
struct OutputOptions: ParsableArguments {
    @Option(help: "Threads (default: the number of cores). Results do not depend on it: the same seed and flags give the same model bytes on any number of threads.")
    var threads: Int?

    @Flag(help: "Print one JSON object with the results as the last line of stdout.")
    var json = false

    @Flag(help: "Print only errors (and --json).")
    var quiet = false

    func validate() throws {
        if let threads, !(1...256).contains(threads) {
            throw ValidationError("--threads must be between 1 and 256, got \(threads)")
        }
    }

    /// Applies the thread count and returns the console.
    func start() -> Console {
        BLASThreads.set(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        Lanes.setThreads(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        return Console(quiet: quiet, json: json)
    }
}

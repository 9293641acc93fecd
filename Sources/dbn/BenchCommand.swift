import ArgumentParser
import DeepBelief
import Foundation

/// `dbn bench`: times one epoch of a reference work item, as the peers in scripts/bench do
/// (same data, sizes, batch and hyper-parameters), and reports GFLOP/s.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time reference work (CD-1 epoch, greedy pre-training epoch, fine-tuning epoch) for scripts/bench/compare.py.")

    enum Work: String, ExpressibleByArgument, CaseIterable {
        case cd1, pretrain, finetune

        /// The layer sizes of the work's network, for `pixels` inputs and `classes` outputs.
        func sizes(pixels: Int, classes: Int) -> [Int] {
            switch self {
            case .cd1: [pixels, 500]
            case .pretrain: [pixels, 500, 500, 2000]
            case .finetune: [pixels, 500, 500, 2000, classes]
            }
        }

        /// The matrix-product FLOPs of one epoch over `images` images.
        func flop(sizes: [Int], images: Int) -> Double {
            self == .finetune ? EpochFLOPs.fineTuning(sizes: sizes, images: images)
                              : EpochFLOPs.contrastiveDivergence(sizes: sizes, images: images)
        }
    }

    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Seed of the work's random draws.")
    var seed: UInt64 = 1

    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("Reproducible mode, as on the training commands: G fixed row groups per minibatch, summed in order (scripts/bench/mpi.sh measures its cost).", valueName: "G"))
    var reproducible: Int?

    @Option(help: "cd1 (784->500 CD-1 epoch), pretrain (784-500-500-2000 greedy epoch), finetune (784-500-500-2000-10 SGD epoch). Their matrix products alone: Benchmarks/ProductFloor.")
    var work: Work = .cd1

    @Option(help: "Timed epochs.")
    var epochs: Int = 1

    func validate() throws {
        if let reproducible, reproducible < 1 { throw ValidationError("--reproducible must be >= 1 (row groups), got \(reproducible)") }
    }

    struct Summary: Encodable {
        let work: String
        let peer: String
        let images: Int
        let seconds: Double
        let secondsPerEpoch: [Double]
        let gflops: Double
        let threads: Int
        let finalError: Double?
    }

    func run() throws {
        let console = output.start()
        let set = try dataOptions.load()
        let batch = 100
        let images = set.trainImages.rows / batch * batch
        let data = set.trainImages.rows(in: 0..<images)
        var times: [Double] = []
        var finalError: Double?
        let sizes = work.sizes(pixels: data.columns, classes: set.classCount)
        let flop = work.flop(sizes: sizes, images: images)
        switch work {
        case .cd1, .pretrain:
            var generator = Xoshiro256StarStar(seed: seed)
            var stack = DeepBeliefNetwork(layerSizes: sizes, initialization: .hintonSalakhutdinov2006, generator: &generator)
            let configuration = RBMTrainingConfiguration(epochs: epochs, batchSize: batch, seed: seed)
            var perEpoch = Array(repeating: 0.0, count: epochs)
            var errors = Array(repeating: 0.0, count: epochs)
            try stack.pretrain(on: data, configuration: configuration, visibleBias: .zero, generator: &generator) { _, report in
                perEpoch[report.epoch] += report.seconds
                errors[report.epoch] = report.summedReconstructionError
                console.say("  layer epoch \(report.epoch + 1): \(String(format: "%.3f", report.seconds)) s, summed error \(Int(report.summedReconstructionError))")
            }
            times = perEpoch
            finalError = errors.last
        case .finetune:
            var generator = Xoshiro256StarStar(seed: seed)
            let network = try Network(sizes: sizes, hiddenActivation: .sigmoid, initializer: .lecture, generator: &generator)
            let training = try LabeledData(inputs: data, labels: Array(set.trainLabels[0..<images]), classCount: set.classCount)
            let test = try set.labeledTest()
            let configuration = TrainingConfiguration(epochs: epochs, batchSize: batch, learningRate: 0.1, momentum: 0.9,
                                                      diagnosticRows: 0, seed: seed)
            let result = try Trainer(configuration: configuration).train(network, data: training, test: test, generator: &generator) { report, _ in
                console.say("  epoch \(report.epoch): \(String(format: "%.3f", report.seconds)) s, \(report.summary)")
            }
            times = result.reports.map(\.seconds)
            finalError = result.reports.last?.testError
        }
        let median = times.sorted()[times.count / 2]
        let gflops = flop / median / 1e9
        console.say("\(work.rawValue): \(String(format: "%.3f", median)) s per epoch (median of \(times.count)), \(String(format: "%.1f", gflops)) GFLOP/s, \(BLASThreads.count) BLAS threads")
        try console.emitJSON(Summary(work: work.rawValue, peer: "ours", images: images, seconds: median, secondsPerEpoch: times,
                                     gflops: gflops, threads: BLASThreads.count, finalError: finalError))
    }
}

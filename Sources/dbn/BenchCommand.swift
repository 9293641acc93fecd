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
        /// The matrix products of a cd1 or finetune epoch alone (the BLAS floor under its time).
        case cd1Products = "cd1-products", pretrainProducts = "pretrain-products"
        case finetuneProducts = "finetune-products"

        /// Whether the work is (the products of) fine-tuning rather than RBM training.
        var isFineTuning: Bool { self == .finetune || self == .finetuneProducts }

        /// The layer sizes of the work's network, for `pixels` inputs and `classes` outputs.
        func sizes(pixels: Int, classes: Int) -> [Int] {
            switch self {
            case .cd1, .cd1Products: [pixels, 500]
            case .pretrain, .pretrainProducts: [pixels, 500, 500, 2000]
            case .finetune, .finetuneProducts: [pixels, 500, 500, 2000, classes]
            }
        }

        /// The matrix-product FLOPs of one epoch over `images` images (as scripts/bench/flops.py):
        /// 5 products per CD-1 minibatch and RBM; forward, deltas (not the first layer's) and
        /// weight gradients for fine-tuning.
        func flop(sizes: [Int], images: Int) -> Double {
            let products = zip(sizes, sizes.dropFirst()).map { Double($0 * $1) }
            let total = products.reduce(0, +)
            return isFineTuning ? 2 * Double(images) * (3 * total - products[0]) : 10 * Double(images) * total
        }
    }

    @OptionGroup var dataOptions: DataOptions
    @OptionGroup var common: RunOptions

    @Option(help: "cd1 (784->500 CD-1 epoch), pretrain (784-500-500-2000 greedy epoch), finetune (784-500-500-2000-10 SGD epoch); cd1-products, pretrain-products, finetune-products: their matrix products alone.")
    var work: Work = .cd1

    @Option(help: "Lanes of the *-products work (default: the BLAS thread count; 1: each product threaded by OpenBLAS).")
    var lanes: Int?

    @Option(help: "Timed epochs.")
    var epochs: Int = 1

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
        let console = common.start()
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
            var generator = Xoshiro256StarStar(seed: common.seed)
            var stack = DeepBeliefNetwork(layerSizes: sizes, initialization: .hintonSalakhutdinov2006, generator: &generator)
            let configuration = RBMTrainingConfiguration(epochs: epochs, batchSize: batch, seed: common.seed)
            var perEpoch = Array(repeating: 0.0, count: epochs)
            var errors = Array(repeating: 0.0, count: epochs)
            try stack.pretrain(on: data, configuration: configuration, visibleBias: .zero, generator: &generator) { _, report in
                perEpoch[report.epoch] += report.seconds
                errors[report.epoch] = report.summedReconstructionError
                console.say("  layer epoch \(report.epoch + 1): \(String(format: "%.3f", report.seconds)) s, summed error \(Int(report.summedReconstructionError))")
            }
            times = perEpoch
            finalError = errors.last
        case .cd1Products, .pretrainProducts, .finetuneProducts:
            let lanes = max(1, self.lanes ?? BLASThreads.count)
            for epoch in 0..<epochs {
                // A greedy epoch is one CD-1 epoch per RBM of the stack.
                let seconds = work.isFineTuning
                    ? ProductFloor.finetune(images: images, sizes: sizes, batch: batch, lanes: lanes)
                    : zip(sizes, sizes.dropFirst()).reduce(0.0) { total, rbm in
                        total + ProductFloor.cd1(images: images, visible: rbm.0, hidden: rbm.1, batch: batch, lanes: lanes)
                    }
                times.append(seconds)
                console.say("  epoch \(epoch + 1): \(String(format: "%.3f", seconds)) s of products in \(lanes) lane(s)")
            }
        case .finetune:
            var generator = Xoshiro256StarStar(seed: common.seed)
            let network = try Network(sizes: sizes, hiddenActivation: .sigmoid, initializer: .lecture, generator: &generator)
            let training = try LabeledData(inputs: data, labels: Array(set.trainLabels[0..<images]), classCount: set.classCount)
            let test = try set.labeledTest()
            let configuration = TrainingConfiguration(epochs: epochs, batchSize: batch, learningRate: 0.1, momentum: 0.9,
                                                      diagnosticRows: 0, seed: common.seed)
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

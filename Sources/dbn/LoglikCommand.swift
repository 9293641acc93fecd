import ArgumentParser
import DeepBelief
import Foundation

/// `dbn loglik`: the log-likelihood of an RBM on the test set, through annealed importance
/// sampling of its partition function (Salakhutdinov & Murray 2008).
struct LoglikCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loglik",
        abstract: "Estimate an RBM's average test log-probability by annealed importance sampling (AIS) and reverse AIS.",
        discussion: """
            Estimates log Z of one RBM of the stack (a stack file, or a network saved with its \
            stack) with a base-rate start fitted to the training images, then reports the average \
            log-probability of the test images and of the first training images, with the band \
            of log Z +- 3 standard errors. Reverse AIS (the same schedule run from the model down to \
            the base rate, its runs started at training images moved by --reverse-gibbs-steps Gibbs \
            steps) estimates log Z from above: forward AIS errs towards too high a log-probability, \
            reverse AIS towards too low a one, and the gap between them is the honest uncertainty. \
            Bernoulli visible and hidden units only. For --layer \
            above 0 the data is the up-pass of the images through the RBMs below (the RBM alone \
            is evaluated, not the whole deep belief net).
            """)

    @Option(help: "A model file with an RBM stack (.safetensors).")
    var model: String

    @Option(help: "Which RBM of the stack (0: the one that sees the pixels).")
    var layer = 0

    @Option(help: "The number of AIS runs.")
    var runs = 100

    @Option(help: "The number of annealing steps (intermediate distributions).")
    var temperatures = 14_500

    @Option(help: "How images become 0/1: stochastic (seeded by --seed), threshold (> 0.5) or none (resample is pre-training only).")
    var binarize: Binarization = .stochastic

    @Flag(inversion: .prefixedNo, help: "Also run reverse AIS for the other side of the estimate.")
    var reverse = true

    @Option(help: "Gibbs steps that move the reverse-AIS start (training images) towards the model.")
    var reverseGibbsSteps = 1000

    @Option(help: "How many of the first training images give the train log-probability.")
    var trainCount = 10_000

    @Option(help: "Seed of the stochastic binarization and of the AIS runs.")
    var seed: UInt64 = 1

    @OptionGroup var dataOptions: ImageDataOptions
    @OptionGroup var options: OutputOptions

    struct Report: Encodable {
        let model: String
        let layer: Int
        let visibleCount: Int
        let hiddenCount: Int
        let logZ: Double
        let logZLow: Double
        let logZHigh: Double
        let logZStandardDeviation: Double
        let testLogLikelihood: Double
        let testLogLikelihoodLow: Double
        let testLogLikelihoodHigh: Double
        let trainLogLikelihood: Double
        /// Reverse AIS: log Z from above and the test log-probability from below (nil with --no-reverse).
        let reverseLogZ: Double?
        let reverseLogZLow: Double?
        let reverseLogZHigh: Double?
        let testLogLikelihoodReverse: Double?
        let reverseGibbsSteps: Int?
        let testCount: Int
        let trainCount: Int
        let runs: Int
        let temperatures: Int
        let binarize: Binarization
        let seed: UInt64
        let seconds: Double
    }

    func validate() throws {
        if layer < 0 { throw ValidationError("--layer must be >= 0, got \(layer)") }
        // Upper bounds far above any useful run (the paper: 100 runs x 14,500 temperatures), so
        // that a typo is refused at once, not after hours or an allocation failure.
        if !(2...1_000_000).contains(runs) { throw ValidationError("--runs must be between 2 and 1000000, got \(runs)") }
        if !(3...10_000_000).contains(temperatures) {
            throw ValidationError("--temperatures must be between 3 and 10000000, got \(temperatures)")
        }
        if trainCount < 1 { throw ValidationError("--train-count must be >= 1, got \(trainCount)") }
        if !(0...10_000_000).contains(reverseGibbsSteps) {
            throw ValidationError("--reverse-gibbs-steps must be between 0 and 10000000, got \(reverseGibbsSteps)")
        }
        if binarize == .resample {
            throw ValidationError("--binarize resample draws during pre-training only; use stochastic, threshold or none")
        }
    }

    func run() throws {
        let console = options.start()
        let stack = try LoadedModel.read(model).stack()
        guard layer < stack.layers.count else {
            throw CLIError("\(model): --layer \(layer) but the stack has \(stack.layers.count) RBM\(stack.layers.count == 1 ? "" : "s") (layers 0-\(stack.layers.count - 1))")
        }
        let rbm = stack.layers[layer]
        guard rbm.visibleUnits == .bernoulli && rbm.hiddenUnits == .bernoulli else {
            throw CLIError("\(model): RBM \(layer) has \(rbm.visibleUnits.rawValue) visible and \(rbm.hiddenUnits.rawValue) hidden units; AIS log-likelihood needs Bernoulli visible and hidden units")
        }
        // AIS holds the inverse temperatures, and four matrices of a row per run.
        try Safeguards.requireMemory([[temperatures]], bytesPerElement: 8, option: "--temperatures \(temperatures)")
        try Safeguards.requireMemory([[runs, 2 * (rbm.visibleCount + rbm.hiddenCount) + 2]], bytesPerElement: 4,
                                     option: "--runs \(runs)")
        let trainSet = try dataOptions.loadTrainingImages()
        let testSet = try dataOptions.loadTestImages(like: trainSet)
        try ModelArchive.requireFits(file: model, inputs: stack.layers[0].visibleCount, outputs: nil,
                                     pixels: trainSet.images.columns, classes: nil)
        guard trainSet.images.rows > 0, testSet.images.rows > 0 else {
            throw CLIError("the data set needs training images (for the base rate) and test images")
        }

        // The RBM's input: the images (or their up-pass), binarised with each set's own keyed
        // draws (as `DataSet.binarize` does).
        let train = layerInput(trainSet.images, stack: stack, set: .training)
        let test = layerInput(testSet.images, stack: stack, set: .test)

        if ProgressLine.enabled(quiet: options.quiet) {
            FileHandle.standardError.write(Data("AIS: \(runs) runs x \(temperatures) temperatures on \(rbm)...\n".utf8))
        }
        let start = Date()
        var root = Xoshiro256StarStar(seed: seed)
        var generator = root.split()
        let baseBias = RBM.baseRateVisibleBias(for: train)
        let configuration = AISConfiguration(runs: runs, temperatureCount: temperatures)
        let ais = try rbm.annealedImportanceSampling(baseVisibleBias: baseBias, configuration: configuration,
                                                     generator: &generator)
        var reverseAIS: AISResult?
        if reverse {
            let reverseStart = rbm.reverseAnnealingStart(from: train, runs: runs, gibbsSteps: reverseGibbsSteps,
                                                         seed: generator.next())
            reverseAIS = try rbm.reverseAnnealedImportanceSampling(baseVisibleBias: baseBias, start: reverseStart,
                                                                   configuration: configuration, generator: &generator)
        }
        let seconds = Date().timeIntervalSince(start)

        let trainSubset = train.rows > trainCount ? train.rows(in: 0..<trainCount) : train
        let testLL = rbm.averageLogLikelihood(test, logPartition: ais.logZ)
        let trainLL = rbm.averageLogLikelihood(trainSubset, logPartition: ais.logZ)
        // log p = -F - log Z: the band of log Z flips into the band of log p.
        let testLow = testLL + ais.logZ - ais.logZHigh, testHigh = testLL + ais.logZ - ais.logZLow
        let trainLow = trainLL + ais.logZ - ais.logZHigh, trainHigh = trainLL + ais.logZ - ais.logZLow
        try Safeguards.requireFinite([("log Z", ais.logZ), ("test log-probability", testLL), ("train log-probability", trainLL)],
                                     file: model, source: "AIS on rbm.\(layer).weight")
        // log p = -F - log Z: the reverse estimate of log Z shifts the test log-probability.
        let testReverse = reverseAIS.map { testLL + ais.logZ - $0.logZ }

        func f(_ x: Double) -> String { String(format: "%.3f", x) }
        console.say("\(model): RBM \(layer) (\(rbm.visibleCount) \(rbm.visibleUnits.rawValue) -> \(rbm.hiddenCount) \(rbm.hiddenUnits.rawValue)), AIS with \(ais.runs) runs x \(ais.temperatureCount) temperatures, \(binarize.rawValue) binarization (seed \(seed)), \(String(format: "%.1f", seconds)) s")
        for line in TextLayout.aligned([
            ("log Z", "\(f(ais.logZ))  (+-3 sigma: \(f(ais.logZLow)) .. \(f(ais.logZHigh)))"),
            ("test log-probability", "\(f(testLL))  (\(f(testLow)) .. \(f(testHigh))), mean over \(test.rows) test images"),
            ("train log-probability", "\(f(trainLL))  (\(f(trainLow)) .. \(f(trainHigh))), mean over the first \(trainSubset.rows) training images"),
        ] + (reverseAIS.map { r in [
            ("reverse AIS log Z", "\(f(r.logZ))  (+-3 sigma: \(f(r.logZLow)) .. \(f(r.logZHigh))), start: training images + \(reverseGibbsSteps) Gibbs steps"),
            ("test log-probability", "between \(f(testReverse!)) (reverse AIS) and \(f(testLL)) (AIS)"),
        ] } ?? []), indent: "  ") { console.say(line) }
        try console.emitJSON(Report(
            model: model, layer: layer, visibleCount: rbm.visibleCount, hiddenCount: rbm.hiddenCount,
            logZ: ais.logZ, logZLow: ais.logZLow, logZHigh: ais.logZHigh, logZStandardDeviation: ais.standardDeviation,
            testLogLikelihood: testLL, testLogLikelihoodLow: testLow, testLogLikelihoodHigh: testHigh,
            trainLogLikelihood: trainLL, reverseLogZ: reverseAIS?.logZ, reverseLogZLow: reverseAIS?.logZLow,
            reverseLogZHigh: reverseAIS?.logZHigh, testLogLikelihoodReverse: testReverse,
            reverseGibbsSteps: reverse ? reverseGibbsSteps : nil, testCount: test.rows, trainCount: trainSubset.rows,
            runs: ais.runs, temperatures: ais.temperatureCount, binarize: binarize, seed: seed, seconds: seconds))
    }

    /// The input of RBM `layer` for `images` (n, pixels): the up-pass probabilities through the
    /// RBMs below, binarised as `binarize` says. Shape (n, visible units of RBM `layer`).
    private func layerInput(_ images: Matrix, stack: DeepBeliefNetwork, set: ImageSetKey) -> Matrix {
        var x = images
        for below in stack.layers[0..<layer] { x = below.hiddenProbabilities(x) }
        x.binarize(binarize, seed: seed, set: set)
        return x
    }
}

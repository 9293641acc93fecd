import Linalg
import Testing
@testable import Pretraining

/// The monitor values of a report that must not depend on being resumed (timings excluded).
private struct ReportValues: Equatable {
    var epoch: Int
    var momentum: Float
    var summedReconstructionError: Double
    var freeEnergyGap: FreeEnergyGap?
    var pseudoLogLikelihood: Double?
    var logPartition: Double?

    init(_ r: RBMEpochReport) {
        epoch = r.epoch
        momentum = r.momentum
        summedReconstructionError = r.summedReconstructionError
        freeEnergyGap = r.freeEnergyGap
        pseudoLogLikelihood = r.pseudoLogLikelihood
        logPartition = r.logPartition
    }
}

/// One RBM training set-up to interrupt and resume.
struct ResumeCase: Sendable, CustomTestStringConvertible {
    var name: String
    var configuration: RBMTrainingConfiguration
    var threads: Int
    var testDescription: String { name }

    static let all: [ResumeCase] = {
        // 5 epochs, the momentum switches after epoch 2, 100 rows in minibatches of 7 (the last
        // minibatch of an epoch is short).
        let base = RBMTrainingConfiguration(epochs: 5, batchSize: 7, learningRate: 0.05, momentumSwitchEpoch: 2)
        var cd3 = base; cd3.cdSteps = 3
        var pcd = base; pcd.persistent = true; pcd.learningRate = 0.01
        var sparse = base; sparse.sparsityTarget = 0.1; sparse.sparsityCost = 0.5
        var everything = pcd; everything.cdSteps = 2; everything.sparsityTarget = 0.1
        // (A larger rate: with PCD's 0.01 the weights stay so small that the chains and the
        // ladder hardly change a draw.)
        var tempered = pcd; tempered.temperatures = 3; tempered.learningRate = 0.5; tempered.cdSteps = 2
        var centered = pcd; centered.centered = true
        return [ResumeCase(name: "CD-1", configuration: base, threads: 1),
                ResumeCase(name: "CD-3", configuration: cd3, threads: 1),
                ResumeCase(name: "PCD", configuration: pcd, threads: 1),
                ResumeCase(name: "sparsity", configuration: sparse, threads: 1),
                ResumeCase(name: "CD-1 on 2 threads", configuration: base, threads: 2),
                ResumeCase(name: "PCD-2 with sparsity on 2 threads", configuration: everything, threads: 2),
                ResumeCase(name: "parallel tempering (3 temperatures)", configuration: tempered, threads: 1),
                ResumeCase(name: "centered PCD", configuration: centered, threads: 1)]
    }()
}

@Suite("Resuming")
struct ResumeTests {
    let data = prototypeData(prototypes: tenBitPrototypes, rows: 100, noise: 0.05, seed: 70)
    let heldOut = prototypeData(prototypes: tenBitPrototypes, rows: 20, noise: 0.05, seed: 71)
    /// Held-out free energies, the pseudo-log-likelihood of a random 40-row subset and AIS:
    /// every monitor that draws random numbers or a random subset.
    var monitors: MonitorOptions {
        MonitorOptions(heldOut: heldOut, sampleCount: 40, pseudoLogLikelihood: true,
                       annealedImportanceSampling: AISConfiguration(runs: 4, temperatureCount: 20), interval: 2)
    }

    func startRBM() -> RBM {
        var g = Xoshiro256StarStar(seed: 72)
        return RBM(visibleCount: 10, hiddenCount: 6, data: data, generator: &g)
    }

    /// The uninterrupted run: the trained RBM, the generator after it, every epoch's report
    /// and progress.
    func uninterrupted(_ c: ResumeCase) throws
        -> (rbm: RBM, generator: Xoshiro256StarStar, reports: [RBMEpochReport], saved: [RBMTrainingProgress]) {
        var rbm = startRBM()
        var g = Xoshiro256StarStar(seed: 73)
        var reports: [RBMEpochReport] = [], saved: [RBMTrainingProgress] = []
        Lanes.setThreads(c.threads)
        try rbm.train(on: data, configuration: c.configuration, monitors: monitors,
                      generator: &g, onEpoch: { reports.append($0) }, onProgress: { saved.append($0) })
        return (rbm, g, reports, saved)
    }

    @Test("resuming after any epoch, on any number of threads, ends with exactly the uninterrupted run's RBM and reports",
          arguments: ResumeCase.all)
    func resumeMatchesUninterrupted(_ c: ResumeCase) throws {
        let full = try uninterrupted(c)
        #expect(full.saved.map(\.completedEpochs) == [1, 2, 3, 4, 5])
        #expect(full.saved.last?.rbm == full.rbm)
        #expect(full.saved.allSatisfy { $0.seed == full.saved[0].seed && $0.rows == 100 })
        #expect(full.saved.allSatisfy { ($0.fantasy != nil) == c.configuration.persistent })
        #expect(full.saved.allSatisfy { ($0.hiddenActivity != nil) == (c.configuration.sparsityTarget != nil) })
        #expect(full.saved.allSatisfy { ($0.tempering != nil) == (c.configuration.temperatures > 1) })
        #expect(full.saved.allSatisfy { ($0.hiddenOffset != nil) == c.configuration.centered })
        #expect(full.saved[3].reports == Array(full.reports.prefix(4)))
        // The monitors ran (on epochs 2, 4, 5) and drew random numbers.
        #expect(full.reports.map { $0.pseudoLogLikelihood != nil } == [false, true, false, true, true])
        #expect(full.reports.last?.annealedImportanceSampling != nil)

        // Reporting progress does not change the run.
        var plain = startRBM()
        var g = Xoshiro256StarStar(seed: 73)
        try plain.train(on: data, configuration: c.configuration, monitors: monitors, generator: &g)
        #expect(plain == full.rbm)

        for k in [1, 2, 3, 5] {
            Lanes.setThreads(k % 2 + 1)  // resuming on another number of threads changes nothing
            var resumed = startRBM()
            var fresh = Xoshiro256StarStar(seed: 12_345)  // not used for the seed: the progress has it
            var reports: [RBMEpochReport] = [], saved: [RBMTrainingProgress] = []
            try resumed.train(on: data, configuration: c.configuration, monitors: monitors,
                              generator: &fresh, resumeFrom: full.saved[k - 1],
                              onEpoch: { reports.append($0) }, onProgress: { saved.append($0) })
            #expect(resumed == full.rbm, "resumed after epoch \(k)")
            #expect(reports.map(ReportValues.init) == full.reports.dropFirst(k).map(ReportValues.init),
                    "reports after resuming after epoch \(k)")
            // The progress of the resumed epochs equals the uninterrupted run's (timings aside).
            for (a, b) in zip(saved, full.saved.dropFirst(k)) {
                var a = a, b = b
                a.reports = []; b.reports = []
                #expect(a == b, "progress after epoch \(b.completedEpochs), resumed after \(k)")
            }
        }
    }

    @Test("the saved state matters: resuming without the velocities or q ends elsewhere")
    func stateIsNeeded() throws {
        let c = ResumeCase.all[5]  // PCD-2, sparsity, 2 lanes
        let full = try uninterrupted(c)
        var variants: [RBMTrainingProgress] = []
        var noVelocity = full.saved[1]
        noVelocity.weightVelocity = noVelocity.weightVelocity.map { _ in 0 }
        variants.append(noVelocity)
        var otherActivity = full.saved[1]
        otherActivity.hiddenActivity = otherActivity.hiddenActivity.map { $0.map { $0 / 2 } }
        variants.append(otherActivity)
        var otherSeed = full.saved[1]
        otherSeed.seed &+= 1
        variants.append(otherSeed)
        for (index, variant) in variants.enumerated() {
            var resumed = startRBM()
            var g = Xoshiro256StarStar(seed: 1)
            try resumed.train(on: data, configuration: c.configuration, generator: &g, resumeFrom: variant)
            #expect(resumed != full.rbm, "variant \(index)")
        }
        // (Flipping the PCD chains changes nothing here: with weights this small the hidden
        // samples of the first Gibbs step hardly depend on the chains.) Every field lands in the
        // workspace's buffers and comes back out unchanged.
        let progress = full.saved[2]
        let workspace = ContrastiveDivergence(rbm: progress.rbm, configuration: c.configuration, capacity: 7,
                                              seed: progress.seed, layer: 0)
        workspace.restore(progress)
        #expect(workspace.chainsStarted && workspace.sparsityStarted)
        let back = workspace.progress(completedEpochs: 3, rbm: progress.rbm, rows: 100, reports: progress.reports)
        #expect(back == progress)
        #expect(progress.fantasy.map { $0.allSatisfy { $0 == 0 || $0 == 1 } } == true)
    }

    @Test("the saved tempering and centering state matters: without it (an older checkpoint) the run resumes but ends elsewhere")
    func temperingAndCenteringStateIsNeeded() throws {
        for c in ResumeCase.all.suffix(2) {
            let full = try uninterrupted(c)
            var old = full.saved[1]
            #expect(old.tempering != nil || old.hiddenOffset != nil)
            old.tempering = nil; old.hiddenOffset = nil
            var resumed = startRBM()
            var g = Xoshiro256StarStar(seed: 1)
            var saved: [RBMTrainingProgress] = []
            try resumed.train(on: data, configuration: c.configuration, generator: &g, resumeFrom: old,
                              onProgress: { saved.append($0) })
            #expect(resumed != full.rbm, "\(c.name)")
            // The state the next epoch saves differs from the uninterrupted run's.
            #expect(saved.first?.tempering != full.saved[2].tempering || saved.first?.hiddenOffset != full.saved[2].hiddenOffset,
                    "\(c.name)")
            // A ladder that is not ascending, or chains of another batch size, is refused.
            if var bad = full.saved[1].tempering {
                var progress = full.saved[1]
                bad.inverseTemperatures.reverse()
                progress.tempering = bad
                #expect(throws: PretrainingError.self) {
                    var rbm = startRBM()
                    try rbm.train(on: data, configuration: c.configuration, generator: &g, resumeFrom: progress)
                }
                progress.tempering = full.saved[1].tempering
                progress.tempering!.chains.removeLast(10)
                #expect(throws: PretrainingError.self) {
                    var rbm = startRBM()
                    try rbm.train(on: data, configuration: c.configuration, generator: &g, resumeFrom: progress)
                }
            }
        }
    }

    @Test("a progress that does not fit the run gives a typed error")
    func mismatchedProgress() throws {
        let twoLanes = try uninterrupted(ResumeCase.all[4]).saved[1]
        let pcd = try uninterrupted(ResumeCase.all[2]).saved[1]
        let cd = ResumeCase.all[0].configuration
        func resume(_ progress: RBMTrainingProgress, configuration: RBMTrainingConfiguration = ResumeCase.all[0].configuration,
                    data: Matrix? = nil, rbm: RBM? = nil) throws {
            var resumed = rbm ?? startRBM()
            var g = Xoshiro256StarStar(seed: 1)
            try resumed.train(on: data ?? self.data, configuration: configuration, generator: &g, resumeFrom: progress)
        }
        #expect(throws: PretrainingError.invalidConfiguration("the checkpoint is for 100 training rows, this run has 60")) {
            try resume(twoLanes, data: data.rows(in: 0..<60))
        }
        #expect(throws: PretrainingError.invalidConfiguration(
            "the checkpoint has persistent chains (PCD), this run uses CD-1")) {
            try resume(pcd)
        }
        var fewerChains = ResumeCase.all[2].configuration
        fewerChains.batchSize = 5
        #expect(throws: PretrainingError.invalidConfiguration(
            "the checkpoint holds 7 persistent chains, this run needs 5 (one per minibatch row): the batch size changed")) {
            try resume(pcd, configuration: fewerChains)
        }
        var g = Xoshiro256StarStar(seed: 2)
        let wider = RBM(visibleCount: 10, hiddenCount: 7, generator: &g)
        #expect(throws: PretrainingError.invalidConfiguration(
            "the checkpoint is for an RBM of 10x6 (bernoulli -> bernoulli), this run trains one of 10x7 (bernoulli -> bernoulli)")) {
            try resume(twoLanes, rbm: wider)
        }
        var notFinite = twoLanes
        notFinite.weightVelocity[3] = .nan
        #expect(throws: PretrainingError.invalidConfiguration("the checkpoint holds a weight velocity that is not finite")) {
            try resume(notFinite)
        }
        var fewerEpochs = cd
        fewerEpochs.epochs = 1
        #expect(throws: PretrainingError.invalidConfiguration(
            "the checkpoint has 2 completed epochs, this run has 1 in all")) {
            try resume(twoLanes, configuration: fewerEpochs)
        }
        var shortVelocity = twoLanes
        shortVelocity.hiddenVelocity.removeLast()
        #expect(throws: PretrainingError.self) { try resume(shortVelocity) }
        var sparse = cd
        sparse.sparsityTarget = 0.1
        #expect(throws: PretrainingError.invalidConfiguration(
            "the checkpoint has no running mean activation, this run has a sparsity target")) {
            try resume(twoLanes, configuration: sparse)
        }
    }

    @Test("an onProgress that throws stops training and propagates the error")
    func throwingOnProgress() throws {
        struct Stop: Error, Equatable {}
        var rbm = startRBM()
        var g = Xoshiro256StarStar(seed: 73)
        var epochs: [Int] = []
        var last: RBMTrainingProgress?
        #expect(throws: Stop()) {
            try rbm.train(on: data, configuration: ResumeCase.all[0].configuration, generator: &g,
                          onEpoch: { epochs.append($0.epoch) },
                          onProgress: { progress in
                              last = progress
                              if progress.completedEpochs == 2 { throw Stop() }
                          })
        }
        #expect(epochs == [0, 1])
        #expect(last?.rbm == rbm)

        var stack = DeepBeliefNetwork(layerSizes: [10, 8, 6], generator: &g)
        var layers: [Int] = []
        #expect(throws: Stop()) {
            try stack.pretrain(on: data, configuration: RBMTrainingConfiguration(epochs: 2, batchSize: 10),
                               generator: &g, onEpoch: { layer, _ in layers.append(layer) },
                               onProgress: { if $0.layer == 1 { throw Stop() } })
        }
        #expect(layers == [0, 0, 1])
    }
}

@Suite("Resuming a stack")
struct StackResumeTests {
    let data = prototypeData(prototypes: tenBitPrototypes, rows: 80, noise: 0.05, seed: 80)
    let heldOut = prototypeData(prototypes: tenBitPrototypes, rows: 16, noise: 0.05, seed: 81)

    /// Three different layers: CD-1; PCD with sparsity; CD-2. `input` is what layers 0 and 1
    /// pass up.
    func configurations(_ input: NextLayerInput) -> [RBMTrainingConfiguration] {
        var layer0 = RBMTrainingConfiguration(epochs: 3, batchSize: 9, learningRate: 0.1, momentumSwitchEpoch: 1)
        layer0.nextLayerInput = input
        var layer1 = RBMTrainingConfiguration(epochs: 3, batchSize: 10, learningRate: 0.02, persistent: true,
                                              sparsityTarget: 0.2)
        layer1.nextLayerInput = input
        let layer2 = RBMTrainingConfiguration(epochs: 2, batchSize: 8, cdSteps: 2)
        return [layer0, layer1, layer2]
    }

    var monitors: MonitorOptions { MonitorOptions(heldOut: heldOut, sampleCount: 30, pseudoLogLikelihood: true) }

    func startStack(seed: UInt64) -> DeepBeliefNetwork {
        var g = Xoshiro256StarStar(seed: seed)
        return DeepBeliefNetwork(layerSizes: [10, 8, 6, 4], generator: &g)
    }

    @Test("resuming inside layer 1, at the end of layer 0 or inside layer 2 matches the uninterrupted run",
          arguments: NextLayerInput.allCases)
    func resumeMatchesUninterrupted(_ input: NextLayerInput) throws {
        let configurations = configurations(input)
        var full = startStack(seed: 82)
        var g = Xoshiro256StarStar(seed: 83)
        var reports: [(Int, RBMEpochReport)] = []
        var saved: [StackPretrainingProgress] = []
        try full.pretrain(on: data, configurations: configurations, monitors: monitors, generator: &g,
                          onEpoch: { reports.append(($0, $1)) }, onProgress: { saved.append($0) })
        #expect(saved.map(\.layer) == [0, 0, 0, 1, 1, 1, 2, 2])
        #expect(saved.map(\.layerProgress.completedEpochs) == [1, 2, 3, 1, 2, 3, 1, 2])
        #expect(saved.allSatisfy { $0.stack.layers[$0.layer] == $0.layerProgress.rbm })
        #expect(saved.last?.stack == full)
        // Layers above the one in training are as initialised; below, as trained.
        #expect(saved[4].stack.layers[2] == startStack(seed: 82).layers[2])
        #expect(saved[4].stack.layers[0] == full.layers[0])

        // Without onProgress, the same stack.
        var plain = startStack(seed: 82)
        var plainGenerator = Xoshiro256StarStar(seed: 83)
        try plain.pretrain(on: data, configurations: configurations, monitors: monitors, generator: &plainGenerator)
        #expect(plain == full)

        // Resume: inside layer 1, after layer 0's last epoch, inside layer 2, after the last.
        for index in [4, 2, 6, 7] {
            var resumed = startStack(seed: 999)  // replaced by the progress's stack
            var fresh = Xoshiro256StarStar(seed: 12_345)  // not used for the seed: the progress has it
            var more: [(Int, RBMEpochReport)] = []
            try resumed.pretrain(on: data, configurations: configurations, monitors: monitors, generator: &fresh,
                                 resumeFrom: saved[index], onEpoch: { more.append(($0, $1)) })
            let tail = reports.dropFirst(index + 1)
            #expect(resumed == full, "resumed after progress \(index)")
            #expect(more.map(\.0) == tail.map(\.0))
            #expect(more.map { ReportValues($0.1) } == tail.map { ReportValues($0.1) },
                    "reports, resumed after progress \(index)")
        }
    }

    @Test("a .samples input is a binary sample drawn with the layer below's parameter-derived seed")
    func sampledInput() throws {
        var zero = configurations(.samples)
        zero[1].epochs = 0
        zero[2].epochs = 0
        var stack = startStack(seed: 84)
        var g = Xoshiro256StarStar(seed: 85)
        try stack.pretrain(on: data, configurations: zero, generator: &g)
        var sampleGenerator = Xoshiro256StarStar(seed: stack.layers[0].sampleSeed(layer: 0))
        let sample = stack.layers[0].sampleHidden(given: data, using: &sampleGenerator)
        #expect(sample.elements.allSatisfy { $0 == 0 || $0 == 1 })
        // Layer 1 (not trained) has the visible biases of that sample, not of the probabilities.
        var expected = startStack(seed: 84).layers[1]
        expected.initializeVisibleBias(from: sample)
        #expect(stack.layers[1].visibleBias == expected.visibleBias)
        var fromProbabilities = startStack(seed: 84).layers[1]
        fromProbabilities.initializeVisibleBias(from: stack.layers[0].hiddenProbabilities(data))
        #expect(stack.layers[1].visibleBias != fromProbabilities.visibleBias)
        // The seed depends on the parameters and the layer index.
        var moved = stack.layers[0]
        moved.hiddenBias[0] = moved.hiddenBias[0].nextUp
        #expect(moved.sampleSeed(layer: 0) != stack.layers[0].sampleSeed(layer: 0))
        #expect(stack.layers[0].sampleSeed(layer: 1) != stack.layers[0].sampleSeed(layer: 0))
    }

    @Test("a stack progress that does not fit gives a typed error")
    func mismatchedProgress() throws {
        let configurations = configurations(.probabilities)
        var stack = startStack(seed: 86)
        var g = Xoshiro256StarStar(seed: 87)
        var saved: [StackPretrainingProgress] = []
        try stack.pretrain(on: data, configurations: configurations, generator: &g, onProgress: { saved.append($0) })
        var other = DeepBeliefNetwork(layerSizes: [10, 8, 5, 4], generator: &g)
        #expect(throws: PretrainingError.invalidConfiguration(
            "the checkpoint is for a stack of layer sizes [10, 8, 6, 4], this run has [10, 8, 5, 4]")) {
            try other.pretrain(on: data, configurations: configurations, generator: &g, resumeFrom: saved[4])
        }
        var badLayer = saved[4]
        badLayer.layer = 3
        var fresh = startStack(seed: 86)
        #expect(throws: PretrainingError.invalidConfiguration("the checkpoint is for layer 4, the stack has 3 layers")) {
            try fresh.pretrain(on: data, configurations: configurations, generator: &g, resumeFrom: badLayer)
        }
        // Layer 1's own state is checked too: PCD chains for a CD configuration.
        var cd = configurations
        cd[1].persistent = false
        #expect(throws: PretrainingError.invalidConfiguration(
            "the checkpoint of layer 2 has persistent chains (PCD), this run uses CD-1")) {
            try fresh.pretrain(on: data, configurations: cd, generator: &g, resumeFrom: saved[4])
        }
    }
}

import Linalg

extension DeepBeliefNetwork {
    /// Greedy layer-wise pre-training with one configuration for every layer (see
    /// `pretrain(on:configurations:...)`).
    public mutating func pretrain(on data: Matrix, configuration: RBMTrainingConfiguration,
                                  monitors: MonitorOptions = .none, visibleBias: VisibleBiasInitialization? = nil,
                                  labels: [Int]? = nil, generator: inout Xoshiro256StarStar,
                                  resumeFrom progress: StackPretrainingProgress? = nil,
                                  onEpoch: (_ layer: Int, _ report: RBMEpochReport) -> Void = { _, _ in },
                                  onProgress: ((StackPretrainingProgress) throws -> Void)? = nil) throws {
        try pretrain(on: data, configurations: Array(repeating: configuration, count: layers.count),
                     monitors: monitors, visibleBias: visibleBias, labels: labels, generator: &generator,
                     resumeFrom: progress, onEpoch: onEpoch, onProgress: onProgress)
    }

    /// Greedy layer-wise pre-training (Hinton, Osindero & Teh 2006): layer 0 is trained on
    /// `data` (shape (n, layerSizes[0]); never modified), then layer i+1 on layer i's hidden
    /// probabilities of its input (or one sample of its hidden states, when
    /// `configurations[i].nextLayerInput == .samples`).
    ///
    /// With `visibleBias == .fromData` (nil: each configuration's `visibleBiasStart`, by default
    /// `.fromData`), each layer's visible biases are set from its own input before its training
    /// (Hinton's practical guide); with `.zero` they keep the start of the stack (zero). Held-out monitor data is passed up the
    /// stack as hidden probabilities. `onEpoch` receives the layer index (0-based) and the
    /// epoch report; `onMinibatch` the layer and each step's progress, with the norm of the
    /// step's weight gradient every `gradientNormsEvery` steps of the layer (an observer).
    ///
    /// Randomness: the run's seed is one draw of `generator`; every layer's draws are keyed by
    /// it and the layer's index (see `RBM.train`). A `.samples` input is drawn from a generator seeded from a hash of the
    /// trained parameters of the layer below and its index (`RBM.sampleSeed(layer:)`), so
    /// that it depends on the run's seed through those parameters, yet a resumed run redraws
    /// exactly the same sample without any stored generator state.
    ///
    /// Resuming: after every epoch of every layer `onProgress` (if given) receives the complete
    /// state (`StackPretrainingProgress`); if it throws, training stops and the error
    /// propagates. Passing such a progress as `resumeFrom` replaces the stack with the
    /// progress's (the layer sizes and unit types must match), takes the seed from it,
    /// recomputes the inputs of the layer being trained from `data` and continues that layer
    /// where it stopped: the run ends bit-identical to the uninterrupted one with the same
    /// data, configurations, monitors and visible-bias setting. `onEpoch` sees
    /// only the epochs run now. A progress that does not fit gives
    /// `PretrainingError.invalidConfiguration`.
    ///
    /// Labels (Hinton, Osindero & Teh 2006): when the top RBM has K label units, `labels` (one
    /// class in 0..<K per row of `data`) are required; the top RBM is trained on the layer
    /// below's input with the one-hot labels appended, like any other layer (held-out monitor
    /// data, which has no labels, is not monitored there).
    public mutating func pretrain(on data: Matrix, configurations: [RBMTrainingConfiguration],
                                  monitors: MonitorOptions = .none, visibleBias: VisibleBiasInitialization? = nil,
                                  labels: [Int]? = nil, generator: inout Xoshiro256StarStar,
                                  resumeFrom progress: StackPretrainingProgress? = nil,
                                  onEpoch: (_ layer: Int, _ report: RBMEpochReport) -> Void = { _, _ in },
                                  onProgress: ((StackPretrainingProgress) throws -> Void)? = nil,
                                  onMinibatch: ((_ layer: Int, MinibatchProgress) -> Void)? = nil,
                                  gradientNormsEvery: Int = 0) throws {
        let drawn = generator.next()  // drawn on resuming too, so that the generator ends the same
        let seed = progress?.layerProgress.seed ?? drawn
        guard configurations.count == layers.count else {
            throw PretrainingError.invalidConfiguration(
                "\(configurations.count) training configurations for \(layers.count) layers")
        }
        guard let first = layers.first else { return }
        guard data.columns == first.visibleCount else {
            throw PretrainingError.shapeMismatch(what: "training data", expected: first.visibleCount, found: data.columns)
        }
        try Self.checkLabels(labels, count: labelCount, rows: data.rows)
        var firstLayer = 0
        if let progress {
            try progress.check(fits: self)
            self = progress.stack
            layers[progress.layer] = progress.layerProgress.rbm
            firstLayer = progress.layer
        }
        var input = data
        var layerMonitors = monitors
        // Resuming: the inputs of the layer being trained, through the trained layers below.
        for i in 0..<firstLayer {
            passUp(from: i, input: &input, heldOut: &layerMonitors.heldOut, as: configurations[i].nextLayerInput)
        }
        for i in firstLayer..<layers.count {
            if let labels, layers[i].labelCount > 0 {
                input = input.appendingOneHot(labels, classes: layers[i].labelCount)
                layerMonitors.heldOut = nil
            }
            let resumed = i == firstLayer ? progress?.layerProgress : nil
            let biasStart = visibleBias ?? configurations[i].visibleBiasStart
            if resumed == nil && biasStart == .fromData { layers[i].initializeVisibleBias(from: input) }
            // What the progress of this layer's epochs holds besides the layer's own state.
            let stackBefore = self
            let layerOnProgress = onProgress.map { report in
                { (layerProgress: RBMTrainingProgress) throws in
                    var stack = stackBefore
                    stack.layers[i] = layerProgress.rbm
                    try report(StackPretrainingProgress(layer: i, stack: stack, layerProgress: layerProgress))
                }
            }
            try layers[i].train(on: input, configuration: configurations[i], monitors: layerMonitors, layer: i,
                                seed: seed, resumeFrom: resumed,
                                onEpoch: { report in onEpoch(i, report) }, onProgress: layerOnProgress,
                                onMinibatch: onMinibatch.map { observe in { observe(i, $0) } },
                                gradientNormsEvery: gradientNormsEvery)
            guard i + 1 < layers.count else { break }
            passUp(from: i, input: &input, heldOut: &layerMonitors.heldOut, as: configurations[i].nextLayerInput)
        }
    }

    /// Throws unless `labels` are `rows` classes in 0..<count (none when count is 0).
    static func checkLabels(_ labels: [Int]?, count: Int, rows: Int) throws {
        guard count > 0 else {
            if labels != nil { throw PretrainingError.invalidConfiguration("labels given for a stack without label units") }
            return
        }
        guard let labels else {
            throw PretrainingError.invalidConfiguration("the top RBM has \(count) label units: labels are needed")
        }
        guard labels.count == rows else {
            throw PretrainingError.shapeMismatch(what: "labels", expected: rows, found: labels.count)
        }
        if let bad = labels.firstIndex(where: { !(0..<count).contains($0) }) {
            throw PretrainingError.invalidConfiguration("label \(labels[bad]) of row \(bad) is outside 0..<\(count)")
        }
    }

    /// Replaces `input` (layer i's training input) by layer i+1's, and held-out monitor data by
    /// layer i's hidden probabilities of it.
    private func passUp(from i: Int, input: inout Matrix, heldOut: inout Matrix?, as kind: NextLayerInput) {
        switch kind {
        case .probabilities:
            input = layers[i].hiddenProbabilities(input)
        case .samples:
            var sampleGenerator = Xoshiro256StarStar(seed: layers[i].sampleSeed(layer: i))
            input = layers[i].sampleHidden(given: input, using: &sampleGenerator)
        }
        if let data = heldOut { heldOut = layers[i].hiddenProbabilities(data) }
    }
}

extension RBM {
    /// The seed of the generator that draws the `.samples` input of the layer above this one
    /// (layer `layer` of a stack): a 64-bit FNV-1a hash over the bit patterns of the weights,
    /// visible and hidden biases (one 32-bit word at a time), mixed with the layer index.
    /// `Xoshiro256StarStar(seed:)` spreads it through SplitMix64.
    func sampleSeed(layer: Int) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ values: [Float]) {
            values.withUnsafeBufferPointer { p in
                for x in p { hash = (hash ^ UInt64(x.bitPattern)) &* 0x0000_0100_0000_01B3 }
            }
        }
        mix(weight.elements)
        mix(visibleBias)
        mix(hiddenBias)
        return hash ^ (UInt64(layer) &* 0x9E37_79B9_7F4A_7C15)
    }
}

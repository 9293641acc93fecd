import Linalg

extension DeepBeliefNetwork {
    /// Greedy layer-wise pre-training with one configuration for every layer.
    public mutating func pretrain(on data: Matrix, configuration: RBMTrainingConfiguration,
                                  monitors: MonitorOptions = .none, visibleBias: VisibleBiasInitialization = .fromData,
                                  generator: inout Xoshiro256StarStar,
                                  onEpoch: (_ layer: Int, _ report: RBMEpochReport) -> Void = { _, _ in }) throws {
        try pretrain(on: data, configurations: Array(repeating: configuration, count: layers.count),
                     monitors: monitors, visibleBias: visibleBias, generator: &generator, onEpoch: onEpoch)
    }

    /// Greedy layer-wise pre-training (Hinton, Osindero & Teh 2006): layer 0 is trained on
    /// `data` (shape (n, layerSizes[0]); never modified), then layer i+1 on layer i's hidden
    /// probabilities of its input (or one sample of its hidden states, when
    /// `configurations[i].nextLayerInput == .samples`).
    ///
    /// With `visibleBias == .fromData`, each layer's visible biases are set from its own input
    /// before its training (Hinton's practical guide). Held-out monitor data is passed up the
    /// stack as hidden probabilities. `onEpoch` receives the layer index (0-based) and the
    /// epoch report. Each layer draws from its own stream split off `generator`.
    public mutating func pretrain(on data: Matrix, configurations: [RBMTrainingConfiguration],
                                  monitors: MonitorOptions = .none, visibleBias: VisibleBiasInitialization = .fromData,
                                  generator: inout Xoshiro256StarStar,
                                  onEpoch: (_ layer: Int, _ report: RBMEpochReport) -> Void = { _, _ in }) throws {
        guard configurations.count == layers.count else {
            throw PretrainingError.invalidConfiguration(
                "\(configurations.count) training configurations for \(layers.count) layers")
        }
        guard let first = layers.first else { return }
        guard data.columns == first.visibleCount else {
            throw PretrainingError.shapeMismatch(what: "training data", expected: first.visibleCount, found: data.columns)
        }
        var input = data
        var layerMonitors = monitors
        for i in layers.indices {
            var layerGenerator = generator.split()
            if visibleBias == .fromData { layers[i].initializeVisibleBias(from: input) }
            try layers[i].train(on: input, configuration: configurations[i], monitors: layerMonitors, layer: i, lanes: nil,
                                generator: &layerGenerator) { report in onEpoch(i, report) }
            guard i + 1 < layers.count else { break }
            switch configurations[i].nextLayerInput {
            case .probabilities: input = layers[i].hiddenProbabilities(input)
            case .samples: input = layers[i].sampleHidden(given: input, using: &layerGenerator)
            }
            if let heldOut = layerMonitors.heldOut { layerMonitors.heldOut = layers[i].hiddenProbabilities(heldOut) }
        }
    }
}

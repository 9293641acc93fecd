import Linalg

extension Network {
    /// Per-layer activation statistics on `batch` (evaluation mode) together with the given
    /// weight-gradient norms (one per layer). See `LayerDiagnostics` for the definitions.
    public func diagnostics(on batch: Matrix?, gradientNorms: [Double]) -> [LayerDiagnostics] {
        precondition(gradientNorms.count == layers.count, "diagnostics: \(gradientNorms.count) norms for \(layers.count) layers")
        var reports = layers.indices.map {
            LayerDiagnostics(layer: $0 + 1, units: units(ofLayer: $0), gradientNorm: gradientNorms[$0])
        }
        guard let batch, batch.rows > 0 else { return reports }
        let hidden = hiddenOutputs(batch)
        for (l, y) in hidden.enumerated() {
            let (mean, deviation) = Network.meanAndDeviation(y.elements)
            reports[l].activationMean = mean
            reports[l].activationStandardDeviation = deviation
            reports[l].saturatedFraction = saturatedFraction(y)
            reports[l].deadFraction = deadFraction(y)
        }
        let (mean, deviation) = Network.meanAndDeviation(probabilities(batch).elements)
        reports[layers.count - 1].activationMean = mean
        reports[layers.count - 1].activationStandardDeviation = deviation
        return reports
    }

    private func saturatedFraction(_ y: Matrix) -> Double? {
        let saturated: (Float) -> Bool
        switch hiddenActivation {
        case .sigmoid: saturated = { $0 < 0.01 || $0 > 0.99 }
        case .tanh: saturated = { abs($0) > 0.99 }
        default: return nil
        }
        var count = 0
        for v in y.elements where saturated(v) { count += 1 }
        return Double(count) / Double(max(y.count, 1))
    }

    private func deadFraction(_ y: Matrix) -> Double? {
        switch hiddenActivation {
        case .relu, .leakyReLU, .elu: break
        default: return nil
        }
        var alive = [Bool](repeating: false, count: y.columns)
        for r in 0..<y.rows {
            for c in 0..<y.columns where y[r, c] > 0 { alive[c] = true }
        }
        return Double(alive.count(where: { !$0 })) / Double(max(y.columns, 1))
    }

    static func meanAndDeviation(_ values: [Float]) -> (Double, Double) {
        guard !values.isEmpty else { return (0, 0) }
        var sum = 0.0
        for v in values { sum += Double(v) }
        let mean = sum / Double(values.count)
        var squares = 0.0
        for v in values { let d = Double(v) - mean; squares += d * d }
        return (mean, (squares / Double(values.count)).squareRoot())
    }
}

extension Network {
    /// Every layer's pre-activations on `inputs` (evaluation mode): Z_l = X_l W_l + b_l with
    /// X_0 the inputs and X_l the hidden outputs of layer l (`hiddenOutputs`), each of shape
    /// (samples x fanOut(l)); the last is the logits. For histograms: where the inputs of a
    /// sigmoid sit relative to its saturated tails.
    public func preActivations(_ inputs: Matrix) -> [Matrix] {
        precondition(inputs.columns == inputCount, "preActivations: \(inputs.columns) columns for \(inputCount) inputs")
        let hidden = hiddenOutputs(inputs)
        return layers.indices.map { l in
            var z = Matrix(rows: 0, columns: 0)
            // Z = X W : (n, fanIn) * (fanIn, fanOut) -> (n, fanOut), then + b on every row.
            gemmInRowChunks(l == 0 ? inputs : hidden[l - 1], layers[l].weight, .none, into: &z)
            z.addRowVector(layers[l].bias)
            return z
        }
    }
}

/// A fixed batch of training samples watched after every epoch (an observer): each layer's
/// pre-activations and the gradient of the mean loss over the batch with respect to each
/// layer's weights, for the per-layer histograms in which vanishing gradients show (the
/// gradients of the lower layers of a deep sigmoid network from a small random start are
/// orders of magnitude smaller than the top layer's).
public struct ProbeBatch: Sendable {
    /// The samples (the first `count` rows of the data by default).
    public let data: LabeledData

    /// The first `count` samples of `data` (all of them if fewer).
    public init(_ data: LabeledData, count: Int = 1000) {
        self.data = data.rows(at: 0..<min(count, data.count))
    }

    /// What the probe shows of `network`: per layer, its pre-activations and its weights'
    /// gradient (fanIn x fanOut), both flattened.
    public func observe(_ network: Network) -> [(preActivations: [Float], weightGradient: [Float])] {
        let z = network.preActivations(data.inputs)
        let gradients = network.lossGradients(on: data).gradients
        return zip(z, gradients).map { ($0.elements, $1.weight.elements) }
    }
}

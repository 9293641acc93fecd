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

/// What one epoch of fine-tuning did, for the log and for plots.
public struct EpochReport: Sendable, Codable, Equatable {
    /// The epoch, from 1.
    public var epoch: Int
    /// Mean over the epoch's minibatches of each minibatch's mean loss (training mode: with
    /// dropout, the weights changing during the epoch).
    public var trainLoss: Double
    /// Errors on the epoch's minibatches as they were trained on (training mode, before each
    /// update), divided by the number of samples (softmax) or of outputs (sigmoid): free to
    /// compute, and what most tools print.
    public var trainError: Double
    /// Mean loss on the validation set after the epoch (nil without one).
    public var validationLoss: Double?
    /// Error rate on the validation set after the epoch (nil without one).
    public var validationError: Double?
    /// Mean loss on the test set after the epoch (nil without one).
    public var testLoss: Double?
    /// Error rate on the test set after the epoch (nil without one).
    public var testError: Double?
    /// The learning rate used in the epoch.
    public var learningRate: Float
    /// Whether only the output layer was updated (`freezeHiddenEpochs`).
    public var onlyOutputLayerTrained: Bool
    /// Wall-clock seconds of the minibatch loop (training only).
    public var seconds: Double
    /// Wall-clock seconds of the evaluations and diagnostics after the epoch.
    public var evaluationSeconds: Double
    /// Per-layer diagnostics, input side first; the last entry is the output layer.
    public var layers: [LayerDiagnostics]

    /// One informative line, e.g.
    /// `epoch 3: loss 0.1234, train error 2.31%, validation error 2.10%, test error 2.05%, rate 0.05, 3.41 s`.
    public var summary: String {
        var parts = ["epoch \(epoch): loss \(formatFixed(trainLoss, 4))", "train error \(formatPercent(trainError))"]
        if let validationError { parts.append("validation error \(formatPercent(validationError))") }
        if let testError { parts.append("test error \(formatPercent(testError))") }
        parts.append("rate \(learningRate)")
        parts.append("\(formatFixed(seconds, 2)) s")
        if onlyOutputLayerTrained { parts.append("(output layer only)") }
        return parts.joined(separator: ", ")
    }
}

/// Statistics of one layer after an epoch.
///
/// Activation statistics come from an evaluation-mode forward pass over a fixed diagnostic
/// batch (the first `TrainingConfiguration.diagnosticRows` training rows); they are nil when
/// that batch is empty.
public struct LayerDiagnostics: Sendable, Codable, Equatable {
    /// The layer, from 1 (input side); the last one is the output layer.
    public var layer: Int
    /// Number of units.
    public var units: Int
    /// Mean of the layer's outputs over the diagnostic batch (for the output layer: of its
    /// probabilities).
    public var activationMean: Double?
    /// Standard deviation of the layer's outputs over all entries of the diagnostic batch.
    public var activationStandardDeviation: Double?
    /// Fraction of saturated outputs (hidden sigmoid: y < 0.01 or y > 0.99; hidden tanh:
    /// |y| > 0.99); nil for other activations and the output layer.
    public var saturatedFraction: Double?
    /// Fraction of units never positive on the whole diagnostic batch (hidden ReLU: dead units,
    /// which get no gradient; leaky ReLU and ELU: units stuck on their negative side); nil for
    /// sigmoid, tanh and the output layer.
    public var deadFraction: Double?
    /// Euclidean norm of the gradient of the mean loss with respect to this layer's weights on
    /// the epoch's FIRST minibatch (weights as they were at the start of the epoch, training
    /// mode, without weight decay). Small norms in the lower layers show vanishing gradients.
    public var gradientNorm: Double
}

// MARK: - Number formatting (no Foundation)

/// `value` with `digits` decimals, e.g. formatFixed(3.14159, 2) == "3.14".
func formatFixed(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 9e15 else { return "\(value)" }
    let whole = UInt64(scaled)
    let integer = whole / UInt64(scale), fraction = whole % UInt64(scale)
    var text = "\(integer)"
    if digits > 0 {
        let f = "\(fraction)"
        text += "." + String(repeating: "0", count: digits - f.count) + f
    }
    return (value < 0 && whole != 0 ? "-" : "") + text
}

/// A fraction as a percentage with two decimals, e.g. "2.31%".
func formatPercent(_ fraction: Double) -> String { formatFixed(100 * fraction, 2) + "%" }

/// `value` in scientific notation with `digits` decimals, e.g. "1.23e-04".
func formatScientific(_ value: Double, _ digits: Int = 2) -> String {
    guard value.isFinite else { return "\(value)" }
    guard value != 0 else { return formatFixed(0, digits) + "e+00" }
    var exponent = 0
    var mantissa = abs(value)
    while mantissa >= 10 { mantissa /= 10; exponent += 1 }
    while mantissa < 1 { mantissa *= 10; exponent -= 1 }
    var text = formatFixed(mantissa, digits)
    if text.hasPrefix("10") { text = formatFixed(mantissa / 10, digits); exponent += 1 }
    let e = abs(exponent) < 10 ? "0\(abs(exponent))" : "\(abs(exponent))"
    return (value < 0 ? "-" : "") + text + "e" + (exponent < 0 ? "-" : "+") + e
}

import Linalg

/// Which monitors training computes after each epoch (the reconstruction error is always
/// computed, during the epoch itself).
public struct MonitorOptions: Sendable {
    /// Held-out data (shape (n, visibleCount)): enables the free-energy gap and the held-out
    /// log-likelihood. At most `sampleCount` of its rows (the first ones) are used.
    public var heldOut: Matrix?
    /// The size of the fixed random subset of the training data the monitors use (drawn once).
    public var sampleCount: Int
    /// The stochastic pseudo-log-likelihood of the training subset (Bernoulli visible units).
    public var pseudoLogLikelihood: Bool
    /// Estimate log Z by annealed importance sampling after each monitored epoch (expensive:
    /// about `temperatureCount` Gibbs steps of `runs` chains), and report log-likelihoods.
    public var annealedImportanceSampling: AISConfiguration?
    /// Compute log Z exactly (tiny RBMs: at most 20 units in the smaller layer) and report
    /// log-likelihoods.
    public var exactLogLikelihood: Bool
    /// Compute the monitors every `interval` epochs (and after the last epoch).
    public var interval: Int

    public init(heldOut: Matrix? = nil, sampleCount: Int = 1000, pseudoLogLikelihood: Bool = false,
                annealedImportanceSampling: AISConfiguration? = nil, exactLogLikelihood: Bool = false,
                interval: Int = 1) {
        self.heldOut = heldOut
        self.sampleCount = sampleCount
        self.pseudoLogLikelihood = pseudoLogLikelihood
        self.annealedImportanceSampling = annealedImportanceSampling
        self.exactLogLikelihood = exactLogLikelihood
        self.interval = interval
    }

    /// Only the reconstruction error.
    public static let none = MonitorOptions()

    /// Whether any monitor beyond the reconstruction error is requested.
    public var isEmpty: Bool {
        heldOut == nil && !pseudoLogLikelihood && annealedImportanceSampling == nil && !exactLogLikelihood
    }
}

/// Hinton's overfitting monitor (practical guide, section 6): the mean free energy of a fixed
/// subset of the training data and of held-out data. The gap `training - heldOut` is near 0
/// without overfitting and grows negative when the model overfits (held-out data becoming
/// relatively less probable).
public struct FreeEnergyGap: Sendable, Equatable, Codable {
    /// The mean free energy of the training subset.
    public var training: Double
    /// The mean free energy of the held-out data.
    public var heldOut: Double
    /// training - heldOut.
    public var gap: Double { training - heldOut }
}

/// What training reports after each epoch. (Equatable compares every field, the timings too.)
public struct RBMEpochReport: Sendable, Equatable, Codable {
    /// The epoch index (0-based).
    public var epoch: Int
    /// The number of epochs of the run.
    public var epochs: Int
    /// The seconds the epoch's updates took (monitors excluded).
    public var seconds: Double
    /// The seconds the monitors took.
    public var monitorSeconds: Double
    /// The momentum of the epoch.
    public var momentum: Float
    /// The summed squared reconstruction error of the epoch (rbm.m's `errsum`): over all
    /// minibatches, rows and pixels, (v0 - E[v | h])^2 with h sampled from p(h | v0), each
    /// minibatch measured with the weights it started from.
    public var summedReconstructionError: Double
    /// `summedReconstructionError` per training row: the squared error summed over one image's
    /// pixels, averaged over the images.
    public var reconstructionError: Double
    /// The free-energy gap, when held-out data was given.
    public var freeEnergyGap: FreeEnergyGap?
    /// The mean stochastic pseudo-log-likelihood of the training subset, summed over visible
    /// units (see `RBM.pseudoLogLikelihood(_:generator:)`).
    public var pseudoLogLikelihood: Double?
    /// The AIS estimate, when requested.
    public var annealedImportanceSampling: AISResult?
    /// The log Z the log-likelihoods use: exact when requested, else the AIS estimate.
    public var logPartition: Double?
    /// The mean log-likelihood of the training subset (nats per row).
    public var trainingLogLikelihood: Double?
    /// The mean log-likelihood of the held-out rows (nats per row).
    public var heldOutLogLikelihood: Double?
    /// Parallel tempering: the inverse temperatures of the epoch (ascending) and the
    /// acceptance rate of each neighbour pair's swaps during it.
    public var inverseTemperatures: [Double]?
    public var swapRates: [Double]?

    /// One informative line, e.g.
    /// `epoch 3/10  recon 9.87 (592,200 summed)  0.85 s  F gap -0.21  PLL -71.20  log Z 412.3`.
    public var summary: String {
        var parts = ["epoch \(epoch + 1)/\(epochs)",
                     "recon \(format(reconstructionError, 3)) (\(format(summedReconstructionError, 0)) summed)",
                     "\(format(seconds, 2)) s"]
        if let gap = freeEnergyGap {
            parts.append("F train \(format(gap.training, 2)) held-out \(format(gap.heldOut, 2)) gap \(format(gap.gap, 2))")
        }
        if let pll = pseudoLogLikelihood { parts.append("PLL \(format(pll, 2))") }
        if let ais = annealedImportanceSampling {
            parts.append("AIS log Z \(format(ais.logZ, 2)) [\(format(ais.logZLow, 2)), \(format(ais.logZHigh, 2))]")
        }
        if let logZ = logPartition, annealedImportanceSampling == nil { parts.append("log Z \(format(logZ, 3))") }
        if let ll = trainingLogLikelihood { parts.append("log p(train) \(format(ll, 2))") }
        if let ll = heldOutLogLikelihood { parts.append("log p(held-out) \(format(ll, 2))") }
        if let rates = swapRates { parts.append("swaps " + rates.map { format($0, 2) }.joined(separator: "/")) }
        if monitorSeconds > 0 { parts.append("monitors \(format(monitorSeconds, 2)) s") }
        return parts.joined(separator: "  ")
    }
}

/// `value` with `digits` decimals (no Foundation).
func format(_ value: Double, _ digits: Int) -> String {
    guard value.isFinite, abs(value) < 1e15 else { return "\(value)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (abs(value) * scale).rounded()
    let whole = Int(rounded / scale)
    let fraction = Int(rounded - Double(whole) * scale)
    var text = "\(whole)"
    if digits > 0 {
        let f = String(fraction)
        text += "." + String(repeating: "0", count: max(0, digits - f.count)) + f
    }
    return (value < 0 && rounded != 0 ? "-" : "") + text
}

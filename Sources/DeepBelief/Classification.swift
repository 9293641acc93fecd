import FineTuning
import Linalg

/// How a classifier did on labelled images: its predictions, errors and confusion matrix.
public struct ClassificationReport: Sendable, Equatable {
    /// The predicted class of each image.
    public var predictions: [Int]
    /// The number of images whose prediction is not their label.
    public var errors: Int
    /// `errors` over the number of images (0 for none).
    public var errorRate: Double
    /// counts[true class][predicted class], `classCount` x `classCount`.
    public var confusionMatrix: [[Int]]

    /// The report of `predictions` against `labels`. Precondition: equal counts, values in
    /// 0..<classCount.
    public init(labels: [Int], predictions: [Int], classCount: Int) {
        precondition(labels.count == predictions.count, "\(labels.count) labels for \(predictions.count) predictions")
        var counts = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        for (label, predicted) in zip(labels, predictions) { counts[label][predicted] += 1 }
        self.predictions = predictions
        errors = zip(labels, predictions).filter { $0 != $1 }.count
        errorRate = Double(errors) / Double(max(labels.count, 1))
        confusionMatrix = counts
    }
}

extension Network {
    /// The classification report on `images` (samples x inputCount) with `labels`: the most
    /// probable class of each image (`classify`) against its label.
    public func classificationReport(images: Matrix, labels: [Int]) -> ClassificationReport {
        ClassificationReport(labels: labels, predictions: classify(images), classCount: outputCount)
    }
}

/// Networks with the same inputs and outputs whose class probabilities are averaged.
public struct Ensemble: Sendable {
    /// The members.
    public let networks: [Network]

    /// Precondition: at least one network, all with the same input and output counts.
    public init(_ networks: [Network]) {
        precondition(!networks.isEmpty, "an ensemble needs a network")
        precondition(networks.allSatisfy { $0.inputCount == networks[0].inputCount && $0.outputCount == networks[0].outputCount },
                     "the networks of an ensemble need the same inputs and outputs")
        self.networks = networks
    }

    /// The mean of the members' output probabilities (`Network.probabilities`), summed in
    /// double precision; row-major (samples x outputs).
    public func probabilities(_ inputs: Matrix) -> [Double] {
        var sum = [Double](repeating: 0, count: inputs.rows * networks[0].outputCount)
        for network in networks {
            let p = network.probabilities(inputs)
            for i in sum.indices { sum[i] += Double(p.elements[i]) }
        }
        return sum.map { $0 / Double(networks.count) }
    }

    /// The class of highest mean probability of each sample (the first on ties).
    public func classify(_ inputs: Matrix) -> [Int] {
        let k = networks[0].outputCount
        let p = probabilities(inputs)
        return (0..<inputs.rows).map { r in
            var best = 0
            for c in 1..<k where p[r * k + c] > p[r * k + best] { best = c }
            return best
        }
    }

    /// The classification report of the ensemble on `images` with `labels`.
    public func classificationReport(images: Matrix, labels: [Int]) -> ClassificationReport {
        ClassificationReport(labels: labels, predictions: classify(images), classCount: networks[0].outputCount)
    }
}

extension GenerativeDeepBeliefNetwork {
    /// The report of classifying `images` by `rule` (default: the free energy of each label in
    /// the top RBM) against `labels`.
    public func classificationReport(images: Matrix, labels: [Int], rule: LabelRule = .freeEnergy) -> ClassificationReport {
        ClassificationReport(labels: labels, predictions: classify(images, by: rule), classCount: labelCount)
    }
}

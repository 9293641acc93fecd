/// Errors of the Pretraining module: bad input from outside, unsupported requests and
/// diverging training runs.
public enum PretrainingError: Error, Equatable, Sendable {
    /// The data has `found` columns where the RBM (or layer `layer`) has `expected` visible units.
    case shapeMismatch(what: String, expected: Int, found: Int)
    /// The data set has no rows.
    case emptyData(what: String)
    /// The data holds NaN or infinity (first bad element at `row`, `column`).
    case nonFiniteData(what: String, row: Int, column: Int)
    /// A configuration value is out of range.
    case invalidConfiguration(String)
    /// The setting `setting` of an `RBMTrainingConfiguration` (its property name, e.g.
    /// `finalMomentum`) breaks `requirement` (e.g. "must be in [0, 1), got 1.0"); a front end
    /// maps the name to its own (the command line's flag).
    case invalidSetting(setting: String, requirement: String)
    /// A computation is only defined for some unit types (e.g. pseudo-likelihood needs binary
    /// visible units; exact log Z needs Bernoulli hidden units).
    case unsupportedUnits(operation: String, visible: VisibleUnits, hidden: HiddenUnits)
    /// Exact log Z enumerates 2^n states of the smaller layer; `smallerLayer` exceeds `limit`.
    case tooManyStatesForExactPartition(smallerLayer: Int, limit: Int)
    /// The weights or biases became NaN or infinite during `epoch` (0-based) of `layer` (0-based).
    case diverged(layer: Int, epoch: Int)
}

extension PretrainingError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .shapeMismatch(what, expected, found):
            return "\(what): expected \(expected) columns (visible units), found \(found)"
        case let .emptyData(what):
            return "\(what): the data set has no rows"
        case let .nonFiniteData(what, row, column):
            return "\(what): NaN or infinity at row \(row), column \(column)"
        case let .invalidConfiguration(message):
            return "invalid training configuration: \(message)"
        case let .invalidSetting(setting, requirement):
            return "invalid training configuration: \(setting) \(requirement)"
        case let .unsupportedUnits(operation, visible, hidden):
            return "\(operation) is not available for an RBM with \(visible.rawValue) visible and "
                + "\(hidden.rawValue) hidden units"
        case let .tooManyStatesForExactPartition(smallerLayer, limit):
            return "exact log Z enumerates 2^n states of the smaller layer: it has \(smallerLayer) "
                + "units, the limit is \(limit); use annealed importance sampling instead"
        case let .diverged(layer, epoch):
            return "training diverged: weights became NaN or infinite in layer \(layer + 1), epoch "
                + "\(epoch + 1); lower the learning rate (e.g. divide it by 10; Gaussian or "
                + "rectified units usually need 0.001-0.01) or standardise real-valued data"
        }
    }
}

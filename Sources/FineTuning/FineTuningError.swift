/// Errors of the fine-tuning module: bad outside input (names, shapes, data, settings) and
/// training that diverged.
public enum FineTuningError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The loss or the weights became NaN or infinite during `epoch` (1-based).
    case diverged(epoch: Int)
    /// An initialiser name that the parser does not know.
    case unknownInitializer(name: String)
    /// A known initialiser name with an argument that is not a usable number.
    case invalidInitializerArgument(name: String, argument: String)
    /// A training setting out of range (the message names it and its value).
    case invalidConfiguration(String)
    /// The `TrainingConfiguration` setting `setting` (its property name, e.g. `hiddenDropout`)
    /// breaks `requirement` (e.g. "must be in [0, 1), got 1.0"); a front end maps the name to
    /// its own (the command line's flag).
    case invalidSetting(setting: String, requirement: String)
    /// Layer sizes that do not make a network (the message says why).
    case invalidArchitecture(String)
    /// Pre-trained layers that do not fit the requested architecture.
    case pretrainedMismatch(String)
    /// The `pretrained` start was asked for without layers (e.g. parsed from `dbn`).
    case missingPretrainedLayers
    /// LSUV needs a batch of data to calibrate on.
    case missingCalibrationData
    /// Data whose shape or values do not fit (the message names what was expected and found).
    case invalidData(String)

    public var description: String {
        switch self {
        case .diverged(let epoch):
            "training diverged in epoch \(epoch): the loss or the weights became NaN or infinite; "
                + "lower the learning rate (e.g. divide it by 10), or use a smaller start"
        case .unknownInitializer(let name):
            "unknown weight initialiser '\(name)'; expected one of: "
                + WeightInitializer.parsableNames.joined(separator: ", ")
        case .invalidInitializerArgument(let name, let argument):
            "weight initialiser '\(name)' needs a positive number after ':', found '\(argument)'"
        case .invalidConfiguration(let message): "invalid training configuration: \(message)"
        case .invalidSetting(let setting, let requirement): "invalid training configuration: \(setting) \(requirement)"
        case .invalidArchitecture(let message): "invalid network architecture: \(message)"
        case .pretrainedMismatch(let message): "pre-trained layers do not fit: \(message)"
        case .missingPretrainedLayers:
            "the pretrained start needs the layers of a pre-trained stack (none were supplied)"
        case .missingCalibrationData: "LSUV initialisation needs a batch of input data (none was supplied)"
        case .invalidData(let message): "invalid data: \(message)"
        }
    }
}

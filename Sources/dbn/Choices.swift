import ArgumentParser
import DeepBelief

// The library's choice types as command-line values: ArgumentParser parses them, rejects other
// values with the valid ones in the message, and lists them in --help. (Conformances here: the types
// live in modules that do not depend on ArgumentParser.)

extension Binarization: ExpressibleByArgument {}
extension VisibleUnits: ExpressibleByArgument {}
extension HiddenUnits: ExpressibleByArgument {}
extension NegativePhaseState: ExpressibleByArgument {}
extension VisibleBiasInitialization: ExpressibleByArgument {}
extension GenerativeDeepBeliefNetwork.DreamStart: ExpressibleByArgument {}

extension Activation: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    /// The hidden activations (identity is for outputs only).
    public static var allValueStrings: [String] { allCases.filter { $0 != .identity }.map(\.name) }
    public var defaultValueDescription: String { name }
}

/// The fine-tuning optimiser as a command-line choice.
enum OptimizerChoice: String, ExpressibleByArgument, CaseIterable {
    /// SGD with --momentum.
    case sgd
    /// SGD with Nesterov momentum.
    case nesterov
    /// Adam (beta1 0.9, beta2 0.999, epsilon 1e-8).
    case adam

    /// The library's optimiser and whether its momentum is Nesterov's.
    var optimizer: (Optimizer, nesterov: Bool) {
        switch self {
        case .sgd: (.sgd, false)
        case .nesterov: (.sgd, true)
        case .adam: (.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8), false)
        }
    }
}

/// How `dbn evaluate` reads the label off a generative DBN's top RBM.
enum LabelRuleChoice: String, ExpressibleByArgument, CaseIterable {
    /// The label of least free energy (exact).
    case freeEnergy = "free-energy"
    /// Gibbs steps with the units below the labels clamped, the labels free.
    case gibbs

    func rule(steps: Int, seed: UInt64) -> GenerativeDeepBeliefNetwork.LabelRule {
        switch self {
        case .freeEnergy: .freeEnergy
        case .gibbs: .settling(steps: steps, seed: seed)
        }
    }
}

extension WeightInitializer {
    /// The names `init(parsing:)` accepts (`:X` marks a required number).
    public static let parsableNames = [
        "zeros", "constant:C", "uniform:A", "normal:STD", "xavier-normal", "xavier-uniform",
        "lecture", "he-normal", "he-uniform", "lecun", "lecun-normal", "orthogonal", "orthogonal:GAIN",
        "lsuv", "pretrained", "dbn",
    ]

    /// Parses a command-line name: `zeros`, `constant:C`, `uniform:A`, `normal:STD`,
    /// `xavier-normal`, `xavier-uniform` (also `glorot-normal`, `glorot-uniform`), `lecture`,
    /// `he-normal`, `he-uniform`, `lecun` or `lecun-normal`, `orthogonal` or `orthogonal:GAIN`,
    /// `lsuv`, and `pretrained` or `dbn`. The last gives `.pretrained([])`: fill in the stack's
    /// layers with `withPretrainedLayers(_:)`. Case-insensitive.
    ///
    /// Throws `FineTuningError.unknownInitializer` (listing the valid names) or
    /// `invalidInitializerArgument` (for a missing or non-numeric argument).
    public init(parsing text: String) throws {
        let lowered = text.lowercased().trimmingSpaces()
        let parts = lowered.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        let argument = parts.count > 1 ? String(parts[1]) : nil

        func number(allowZero: Bool = false, allowNegative: Bool = false) throws -> Float {
            guard let argument, let value = Float(argument), value.isFinite,
                  value > 0 || (allowZero && value == 0) || allowNegative else {
                throw FineTuningError.invalidInitializerArgument(name: name, argument: argument ?? "")
            }
            return value
        }
        func noArgument(_ result: WeightInitializer) throws -> WeightInitializer {
            guard argument == nil else { throw FineTuningError.unknownInitializer(name: text) }
            return result
        }

        switch name {
        case "zeros", "zero": self = try noArgument(.zeros)
        case "constant": self = .constant(try number(allowZero: true, allowNegative: true))
        case "uniform": self = .uniform(try number())
        case "normal": self = .normal(try number())
        case "xavier-normal", "glorot-normal": self = try noArgument(.xavierNormal)
        case "xavier-uniform", "glorot-uniform", "xavier", "glorot": self = try noArgument(.xavierUniform)
        case "lecture": self = try noArgument(.lecture)
        case "he-normal", "kaiming-normal": self = try noArgument(.heNormal)
        case "he-uniform", "kaiming-uniform": self = try noArgument(.heUniform)
        case "lecun", "lecun-normal": self = try noArgument(.lecunNormal)
        case "orthogonal": self = argument == nil ? .orthogonal() : .orthogonal(gain: try number())
        case "lsuv": self = try noArgument(.lsuv())
        case "pretrained", "dbn": self = try noArgument(.pretrained([]))
        default: throw FineTuningError.unknownInitializer(name: text)
        }
    }

    /// A short name for tables and logs, in the form `init(parsing:)` reads back.
    public var name: String {
        switch self {
        case .zeros: "zeros"
        case .constant(let c): "constant:\(c)"
        case .uniform(let a): "uniform:\(a)"
        case .normal(let sigma): "normal:\(sigma)"
        case .xavierNormal: "xavier-normal"
        case .xavierUniform: "xavier-uniform"
        case .lecture: "lecture"
        case .heNormal: "he-normal"
        case .heUniform: "he-uniform"
        case .lecunNormal: "lecun-normal"
        case .orthogonal(let gain): gain == 1 ? "orthogonal" : "orthogonal:\(gain)"
        case .lsuv: "lsuv"
        case .pretrained: "pretrained"
        }
    }
}

extension String {
    /// The string without leading and trailing spaces (no Foundation needed).
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

import ArgumentParser
import DeepBelief
import Foundation

/// `dbn inspect`: what a model file holds, without any data.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe a model file: kind, architecture, units, training configuration, tensors.",
        discussion: """
            Reads any safetensors file. For dbn model files it also loads the model to check that \
            the tensors fit the metadata, and reports a problem (exit status 0) when they do not.
            """)

    @Argument(help: "The model file (.safetensors).")
    var path: String

    @Flag(help: "Print one JSON object with the results as the last line of stdout.")
    var json = false

    struct TensorSummary: Encodable {
        let name: String
        let dtype: String
        let shape: [Int]
        let parameters: Int
    }

    struct Report: Encodable {
        let path: String
        let fileSize: Int
        let kind: String?
        let formatVersion: Int?
        let layerSizes: [Int]?
        let rbmLayerSizes: [Int]?
        let visibleUnits: [String]?
        let hiddenUnits: [String]?
        let activation: String?
        let output: String?
        let inputShape: [Int]?
        let metadata: [String: String]
        let tensors: [TensorSummary]
        let parameterCount: Int
        /// Why the file does not load as a dbn model, if it does not.
        let problem: String?
    }

    func run() throws {
        let file = try SafeTensors.read(from: path)
        let report = Self.report(of: file, path: path,
                                 fileSize: (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        let console = Console(quiet: false, json: json)
        for line in Self.render(report, metadata: file.metadata) { console.say(line) }
        try console.emitJSON(report)
    }

    /// The facts about `file`; `problem` says why it does not load as a dbn model.
    static func report(of file: SafeTensors, path: String, fileSize: Int) -> Report {
        let meta = file.metadata
        typealias Key = ModelArchive.Key
        var problem: String?
        var kind: ModelKind?
        do {
            kind = try ModelArchive.kind(of: file)
            if kind == .network { _ = try ModelArchive.network(from: file) }
            if file["rbm.0.weight"] != nil || kind == .rbmStack { _ = try ModelArchive.stack(from: file) }
        } catch {
            problem = String(describing: error)
        }
        let tensors = file.tensors.map { item in
            TensorSummary(name: item.name, dtype: item.tensor.dtype.rawValue, shape: item.tensor.shape,
                          parameters: item.tensor.shape.reduce(1, *))
        }
        return Report(
            path: path, fileSize: fileSize, kind: kind?.rawValue ?? meta[Key.kind],
            formatVersion: meta[Key.formatVersion].flatMap { Int($0) },
            layerSizes: decode(meta[Key.layerSizes]), rbmLayerSizes: decode(meta[Key.rbmLayerSizes]),
            visibleUnits: decode(meta[Key.visibleUnits]), hiddenUnits: decode(meta[Key.hiddenUnits]),
            activation: meta[Key.activation], output: meta[Key.output],
            inputShape: meta[Key.inputShape].flatMap(LoadedModel.parseShape),
            metadata: meta, tensors: tensors, parameterCount: tensors.reduce(0) { $0 + $1.parameters },
            problem: problem)
    }

    /// The report as an aligned list for people.
    static func render(_ report: Report, metadata: [String: String]) -> [String] {
        typealias Key = ModelArchive.Key
        func sizes(_ list: [Int]?) -> String? { list.map { $0.map(String.init).joined(separator: "-") } }
        func units(_ list: [String]?) -> String? { list.map { $0.joined(separator: ", ") } }
        var rows: [(String, String)] = [
            ("file", "\(report.path) (\(byteCount(report.fileSize)))"),
            ("kind", report.kind ?? "(not a dbn model: no '\(Key.kind)' metadata)"),
        ]
        let optional: [(String, String?)] = [
            ("format version", report.formatVersion.map(String.init)),
            ("layer sizes", sizes(report.layerSizes)),
            ("RBM layer sizes", sizes(report.rbmLayerSizes)),
            ("visible units", units(report.visibleUnits)),
            ("hidden units", units(report.hiddenUnits)),
            ("activation", report.activation),
            ("output", report.output),
            ("input shape", report.inputShape.map { $0.map(String.init).joined(separator: "x") }),
        ]
        rows += optional.compactMap { label, value in value.map { (label, $0) } }
        rows.append(("parameters", "\(grouped(report.parameterCount)) in \(report.tensors.count) tensor\(report.tensors.count == 1 ? "" : "s")"))
        // The rest of the metadata (seed, initialisation, training configuration...) as given.
        var shown: Set<String> = [Key.kind, Key.formatVersion, Key.layerSizes, Key.rbmLayerSizes, Key.visibleUnits,
                                  Key.hiddenUnits, Key.activation, Key.output, Key.inputShape]
        // Where the file came from: tool, command line, data files with checksums, seeds.
        if let provenance = Provenance(metadata: metadata) {
            rows.append(("made by", provenance.tool))
            rows.append(("command", provenance.commandText))
            for file in provenance.dataFiles {
                rows.append(("data", "\(file.role): \(file.path), \(grouped(file.bytes)) bytes, SHA-256 \(file.sha256)"))
            }
            rows.append(("seeds", provenance.seeds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
            shown.formUnion(Provenance.Key.all)
        }
        rows += metadata.keys.sorted().filter { !shown.contains($0) }.map { ($0, metadata[$0]!) }
        var lines = TextLayout.aligned(rows)
        if let problem = report.problem { lines.append("problem: \(problem)") }
        lines.append("tensors:")
        let nameWidth = report.tensors.map(\.name.count).max() ?? 0
        let dtypeWidth = report.tensors.map(\.dtype.count).max() ?? 0
        for t in report.tensors {
            lines.append("  " + t.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + "  "
                         + t.dtype.padding(toLength: dtypeWidth, withPad: " ", startingAt: 0) + "  "
                         + "[" + t.shape.map(String.init).joined(separator: ", ") + "]")
        }
        return lines
    }

    private static func decode<T: Decodable>(_ raw: String?) -> T? {
        guard let data = raw?.data(using: .utf8) else { return nil }
        return try? JSONDecoder().decode(T.self, from: data)
    }

    /// 1234567 -> "1,234,567".
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// A file size for people: "1.2 MB, 1,234,567 bytes".
    static func byteCount(_ n: Int) -> String {
        let units = [(1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "kB")]
        for (size, name) in units where n >= size {
            return String(format: "%.1f ", Double(n) / Double(size)) + "\(name), \(grouped(n)) bytes"
        }
        return "\(n) bytes"
    }
}

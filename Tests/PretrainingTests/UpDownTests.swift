import Foundation
import Linalg
import Testing
@testable import Pretraining

/// Up-down fine-tuning written out with loops in double precision, one minibatch at a time, the
/// random draws taken from the same keyed streams as the engine (a state is 1 when the draw u
/// of its unit is below its probability).
struct NaiveUpDown {
    typealias M = [[Double]]
    var recognition: [M], recognitionBias: [[Double]], generative: [M], generativeBias: [[Double]]
    var top: M, topVisibleBias: [Double], topHiddenBias: [Double]
    var velocities: [String: [Double]] = [:]
    /// With a persistent top phase, one fantasy chain per minibatch row of the largest minibatch
    /// (nil until the first step starts them at its data rows).
    var chains: M?
    let labelCount: Int, configuration: UpDownConfiguration, seed: UInt64, capacity: Int

    init(_ model: GenerativeDeepBeliefNetwork, configuration: UpDownConfiguration, seed: UInt64, capacity: Int) {
        func m(_ x: Matrix) -> M { (0..<x.rows).map { r in (0..<x.columns).map { Double(x[r, $0]) } } }
        let directed = model.stack.layers.dropLast()
        recognition = directed.map { m($0.weight) }
        recognitionBias = directed.map { $0.hiddenBias.map(Double.init) }
        generative = model.generativeWeights.map(m)
        generativeBias = directed.map { $0.visibleBias.map(Double.init) }
        top = m(model.top.weight)
        topVisibleBias = model.top.visibleBias.map(Double.init)
        topHiddenBias = model.top.hiddenBias.map(Double.init)
        labelCount = model.labelCount
        self.configuration = configuration
        self.seed = seed
        self.capacity = capacity
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// sigmoid(x A + bias) (A: rows = x's columns), or with `transposed` sigmoid(x A^T + bias).
    static func layer(_ x: M, _ a: M, _ bias: [Double], transposed: Bool = false) -> M {
        x.map { row in
            bias.indices.map { j in
                var s = bias[j]
                for i in row.indices { s += row[i] * (transposed ? a[j][i] : a[i][j]) }
                return sigmoid(s)
            }
        }
    }

    static func sample(_ p: M, _ stream: RandomStream) -> M {
        p.enumerated().map { r, row in
            row.enumerated().map { u, x in stream.uniform(row: r, unit: u) < Float(x) ? 1 : 0 }
        }
    }

    /// a^T b / rows.
    static func statistics(_ a: M, _ b: M) -> M {
        (0..<a[0].count).map { i in
            (0..<b[0].count).map { j in a.indices.reduce(0.0) { $0 + a[$1][i] * b[$1][j] } / Double(a.count) }
        }
    }

    static func means(_ a: M) -> [Double] {
        (0..<a[0].count).map { j in a.reduce(0.0) { $0 + $1[j] } / Double(a.count) }
    }

    /// v = m v + lr (g - cost w), w += v, with the velocity `key` of `velocities`.
    static func ascend(_ w: inout M, _ g: M, _ key: String, _ velocities: inout [String: [Double]],
                       _ configuration: UpDownConfiguration, epoch: Int, decay: Bool) {
        let rate = Double(configuration.learningRate), m = Double(configuration.momentum(forEpoch: epoch))
        let cost = decay ? Double(configuration.weightCost) : 0
        var v = velocities[key] ?? Array(repeating: 0, count: w.count * w[0].count)
        for i in w.indices {
            for j in w[i].indices {
                let k = i * w[i].count + j
                v[k] = m * v[k] + rate * (g[i][j] - cost * w[i][j])
                w[i][j] += v[k]
            }
        }
        velocities[key] = v
    }

    static func ascend(_ b: inout [Double], _ g: [Double], _ key: String, _ velocities: inout [String: [Double]],
                       _ configuration: UpDownConfiguration, epoch: Int) {
        var w = [b]
        ascend(&w, [g], key, &velocities, configuration, epoch: epoch, decay: false)
        b = w[0]
    }

    /// One up-down update on the minibatch `data` with `labels`, minibatch `step` of `epoch`.
    mutating func step(_ data: M, labels: [Int], epoch: Int, step: Int) {
        func stream(_ purpose: RandomPurpose) -> RandomStream {
            RandomStream(seed: seed, purpose: purpose, epoch: epoch, step: step)
        }
        let depth = recognition.count, k = configuration.cdSteps(forEpoch: epoch)
        // Wake.
        var wake = [data]
        for l in 0..<depth {
            wake.append(Self.sample(Self.layer(wake[l], recognition[l], recognitionBias[l]),
                                    stream(.wakeSample(layer: l + 1))))
        }
        // The top RBM: CD-k from the wake states and the clamped label, or PCD-k from the chains.
        let features = wake[depth][0].count
        let v0 = zip(wake[depth], labels).map { row, label in row + (0..<labelCount).map { $0 == label ? 1.0 : 0 } }
        let h0 = Self.layer(v0, top, topHiddenBias)
        var h = Self.sample(h0, stream(.hiddenSample(layer: depth, step: 0)))
        var v1: M = [], h1: M = []
        /// E[v | h] of the top RBM: sigmoid below the labels, the softmax over the labels.
        func visibleMeans(_ h: M) -> M {
            h.map { row in
                var x = topVisibleBias.indices.map { i in
                    topVisibleBias[i] + row.indices.reduce(0.0) { $0 + row[$1] * top[i][$1] }
                }
                for i in 0..<features { x[i] = Self.sigmoid(x[i]) }
                let e = x[features...].map { exp($0) }, total = e.reduce(0, +)
                for c in 0..<labelCount { x[features + c] = e[c] / total }
                return x
            }
        }
        if configuration.persistent {
            let b = data.count
            if chains == nil { chains = (0..<capacity).map { v0[$0 % b] } }
            for s in 1...k {
                let hidden = Self.layer(Array(chains![0..<b]), top, topHiddenBias)
                h = Self.sample(hidden, stream(.hiddenSample(layer: depth, step: s)))
                // Bernoulli states below the labels, one multinomial label drawn with the uniform
                // of the first label unit (the first label whose cumulative probability exceeds it).
                let draws = stream(.visibleSample(layer: depth, step: s))
                for (r, p) in visibleMeans(h).enumerated() {
                    var state = (0..<features).map { draws.uniform(row: r, unit: $0) < Float(p[$0]) ? 1.0 : 0 }
                    let u = draws.uniform(row: r, unit: features)
                    var cumulative: Float = 0, chosen = labelCount - 1
                    for c in 0..<labelCount {
                        cumulative += Float(p[features + c])
                        if u < cumulative { chosen = c; break }
                    }
                    state += (0..<labelCount).map { $0 == chosen ? 1.0 : 0 }
                    chains![r] = state
                }
            }
            v1 = Array(chains![0..<b])
            h1 = Self.layer(v1, top, topHiddenBias)
        } else {
            for s in 1...k {
                v1 = visibleMeans(h)
                h1 = Self.layer(v1, top, topHiddenBias)
                if s < k { h = Self.sample(h1, stream(.hiddenSample(layer: depth, step: s))) }
            }
        }
        // Sleep, from the top's negative visible means below the labels (PCD: the chains' states).
        var sleep = Array(repeating: M(), count: depth + 1)
        sleep[depth] = Self.sample(v1.map { Array($0[0..<features]) }, stream(.sleepSample(layer: depth)))
        for l in stride(from: depth - 1, through: 0, by: -1) {
            let p = Self.layer(sleep[l + 1], generative[l], generativeBias[l], transposed: true)
            sleep[l] = l > 0 ? Self.sample(p, stream(.sleepSample(layer: l))) : p
        }
        // All statistics with the parameters before the update, then the updates.
        var topGradient = Self.statistics(v0, h0)
        let negative = Self.statistics(v1, h1)
        for i in topGradient.indices { for j in topGradient[i].indices { topGradient[i][j] -= negative[i][j] } }
        let topVisibleGradient = zip(Self.means(v0), Self.means(v1)).map { $0 - $1 }
        let topHiddenGradient = zip(Self.means(h0), Self.means(h1)).map { $0 - $1 }
        var generativeGradients: [(M, [Double])] = [], recognitionGradients: [(M, [Double])] = []
        for l in 0..<depth {
            let prediction = Self.layer(wake[l + 1], generative[l], generativeBias[l], transposed: true)
            let e = zip(wake[l], prediction).map { zip($0, $1).map { $0 - $1 } }
            generativeGradients.append((Self.statistics(e, wake[l + 1]), Self.means(e)))
            let inferred = Self.layer(sleep[l], recognition[l], recognitionBias[l])
            let f = zip(sleep[l + 1], inferred).map { zip($0, $1).map { $0 - $1 } }
            recognitionGradients.append((Self.statistics(sleep[l], f), Self.means(f)))
        }
        Self.ascend(&top, topGradient, "top.w", &velocities, configuration, epoch: epoch, decay: true)
        Self.ascend(&topVisibleBias, topVisibleGradient, "top.b", &velocities, configuration, epoch: epoch)
        Self.ascend(&topHiddenBias, topHiddenGradient, "top.c", &velocities, configuration, epoch: epoch)
        for l in 0..<depth {
            Self.ascend(&generative[l], generativeGradients[l].0, "G\(l)", &velocities, configuration, epoch: epoch, decay: true)
            Self.ascend(&generativeBias[l], generativeGradients[l].1, "b\(l)", &velocities, configuration, epoch: epoch)
            Self.ascend(&recognition[l], recognitionGradients[l].0, "R\(l)", &velocities, configuration, epoch: epoch, decay: true)
            Self.ascend(&recognitionBias[l], recognitionGradients[l].1, "c\(l)", &velocities, configuration, epoch: epoch)
        }
    }

    /// The largest difference to the parameters of `model`.
    func maxDifference(to model: GenerativeDeepBeliefNetwork) -> Double {
        var d = 0.0
        func compare(_ a: M, _ b: Matrix) {
            for i in a.indices { for j in a[i].indices { d = max(d, abs(a[i][j] - Double(b[i, j]))) } }
        }
        func compare(_ a: [Double], _ b: [Float]) { for i in a.indices { d = max(d, abs(a[i] - Double(b[i]))) } }
        for l in recognition.indices {
            let rbm = model.stack.layers[l]
            compare(recognition[l], rbm.weight)
            compare(recognitionBias[l], rbm.hiddenBias)
            compare(generative[l], model.generativeWeights[l])
            compare(generativeBias[l], rbm.visibleBias)
        }
        compare(top, model.top.weight)
        compare(topVisibleBias, model.top.visibleBias)
        compare(topHiddenBias, model.top.hiddenBias)
        return d
    }
}

/// A small generative DBN: directed layers `sizes` (pixels first), a top RBM of `topHidden`
/// units with `labels` label units, random weights; generative weights tied or perturbed.
func smallGenerativeDBN(sizes: [Int], topHidden: Int, labels: Int, seed: UInt64, untied: Bool) -> GenerativeDeepBeliefNetwork {
    var g = Xoshiro256StarStar(seed: seed)
    var stack = DeepBeliefNetwork(layerSizes: sizes + [topHidden], initialization: RBMInitialization(weightStandardDeviation: 0.5),
                                  labelCount: labels, generator: &g)
    for i in stack.layers.indices {
        stack.layers[i].visibleBias = Matrix.normal(rows: 1, columns: stack.layers[i].visibleCount, mean: 0,
                                                    standardDeviation: 0.5, using: &g).elements
        stack.layers[i].hiddenBias = Matrix.normal(rows: 1, columns: stack.layers[i].hiddenCount, mean: 0,
                                                   standardDeviation: 0.5, using: &g).elements
    }
    let generative = untied ? stack.layers.dropLast().map {
        Matrix.normal(rows: $0.visibleCount, columns: $0.hiddenCount, mean: 0, standardDeviation: 0.5, using: &g)
    } : nil
    return GenerativeDeepBeliefNetwork(stack: stack, generativeWeights: generative)
}

@Suite("Up-down fine-tuning")
struct UpDownTests {
    @Test("every up-down step equals the naive reference's (two epochs, k from the schedule, momentum switch; CD-k and persistent top phases)",
          arguments: [false, true])
    func matchesNaiveReference(persistent: Bool) throws {
        let model = smallGenerativeDBN(sizes: [6, 5, 4], topHidden: 5, labels: 3, seed: 11, untied: true)
        var g = Xoshiro256StarStar(seed: 12)
        let data = Matrix.uniform(rows: 7, columns: 6, using: &g)
        let labels = [0, 2, 1, 1, 0, 2, 2]
        let configuration = UpDownConfiguration(epochs: 2, batchSize: 3, learningRate: 0.5, initialMomentum: 0.5,
                                                finalMomentum: 0.9, momentumSwitchEpoch: 1, weightCost: 0.01,
                                                cdSchedule: [1, 3], persistent: persistent)
        let seed: UInt64 = 13
        let engine = UpDownEngine(model: model, configuration: configuration, capacity: 3, seed: seed)
        var reference = NaiveUpDown(model, configuration: configuration, seed: seed, capacity: 3)
        var current = model
        var steps = 0
        for epoch in 0..<2 {
            engine.setEpoch(epoch)
            let order = GenerativeDeepBeliefNetwork.minibatchOrder(rows: 7, seed: seed, epoch: epoch)
            for (step, first) in stride(from: 0, to: 7, by: 3).enumerated() {
                let rows = Array(order[first..<min(first + 3, 7)])
                _ = Lanes.withSingleThreadedBLAS {
                    data.elements.withUnsafeBufferPointer { pd in
                        labels.withUnsafeBufferPointer { pl in
                            rows.withUnsafeBufferPointer { engine.step(data: pd.baseAddress!, labels: pl.baseAddress!, rows: $0) }
                        }
                    }
                }
                reference.step(rows.map { r in (0..<6).map { Double(data[r, $0]) } }, labels: rows.map { labels[$0] },
                               epoch: epoch, step: step)
                engine.store(into: &current)
                #expect(reference.maxDifference(to: current) < 1e-4, "epoch \(epoch), step \(step)")
                steps += 1
            }
        }
        #expect(steps == 6)
        // PCD: the engine's chains are the reference's (binary states, labels one-of-K).
        if persistent {
            let chains = try #require(engine.topChains)
            #expect(chains == reference.chains!.flatMap { $0.map(Float.init) })
            #expect(stride(from: 0, to: chains.count, by: 7).allSatisfy { chains[($0 + 4)..<($0 + 7)].reduce(0, +) == 1 })
        } else {
            #expect(engine.topChains == nil)
        }
        // The updates did something: the generative weights moved away from where they started.
        #expect(current.generativeWeights != model.generativeWeights && current.stack != model.stack)
    }

    @Test("the CD schedule splits the epochs into equal parts")
    func schedule() {
        let c = UpDownConfiguration(epochs: 300, cdSchedule: [3, 6, 10])
        #expect([0, 99, 100, 199, 200, 299].map(c.cdSteps(forEpoch:)) == [3, 3, 6, 6, 10, 10])
    }

    @Test("a resumed up-down run ends bit-identical to an uninterrupted one (CD-k and persistent top phases)",
          arguments: [false, true])
    func resume(persistent: Bool) throws {
        let model = smallGenerativeDBN(sizes: [6, 5], topHidden: 4, labels: 2, seed: 21, untied: false)
        var g = Xoshiro256StarStar(seed: 22)
        let data = Matrix.uniform(rows: 9, columns: 6, using: &g)
        let labels = (0..<9).map { $0 % 2 }
        let configuration = UpDownConfiguration(epochs: 3, batchSize: 4, learningRate: 0.1, cdSchedule: [1, 2],
                                                persistent: persistent)
        var whole = model
        var g1 = Xoshiro256StarStar(seed: 5)
        var saved: UpDownProgress?
        try whole.upDown(on: data, labels: labels, configuration: configuration, generator: &g1,
                         onProgress: { if $0.completedEpochs == 1 { saved = $0 } })
        #expect((saved?.topChains?.count ?? 0) == (persistent ? 4 * (5 + 2) : 0))  // 4 chains of 5 units and 2 labels
        var resumed = model
        var g2 = Xoshiro256StarStar(seed: 99)
        try resumed.upDown(on: data, labels: labels, configuration: configuration, generator: &g2, resumeFrom: saved)
        #expect(resumed == whole)
        #expect(whole.isUntied)
        guard persistent, var progress = saved else { return }
        // Chains that do not fit the run, or a persistent run without them, are refused.
        var other = model
        var g3 = Xoshiro256StarStar(seed: 1)
        progress.topChains = Array(progress.topChains!.dropLast(7))
        #expect(throws: PretrainingError.self) {
            try other.upDown(on: data, labels: labels, configuration: configuration, generator: &g3, resumeFrom: progress)
        }
        progress.topChains = nil
        #expect(throws: PretrainingError.self) {
            try other.upDown(on: data, labels: labels, configuration: configuration, generator: &g3, resumeFrom: progress)
        }
        var plain = configuration
        plain.training.persistent = false
        #expect(throws: PretrainingError.self) {
            try other.upDown(on: data, labels: labels, configuration: plain, generator: &g3, resumeFrom: saved)
        }
    }
}

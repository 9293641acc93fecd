import Linalg

/// Per-layer output buffers for evaluation-mode forward passes of up to `capacity` rows.
final class ForwardBuffers {
    let capacity: Int
    /// Layer l's output, capacity x units(l): hidden activations, then the logits.
    let outputs: [FloatBuffer]
    /// Maxout: layer l's pieces, capacity x fanOut(l) (nil for other layers).
    let pieces: [FloatBuffer?]

    init(network: Network, capacity: Int) {
        self.capacity = capacity
        outputs = network.sizes.dropFirst().map { FloatBuffer(count: capacity * $0) }
        pieces = network.layers.indices.map {
            network.pieces(ofLayer: $0) > 1 ? FloatBuffer(count: capacity * network.layers[$0].fanOut) : nil
        }
    }
}

/// The result of evaluating a network on labelled data.
public struct Evaluation: Sendable, Equatable, Codable {
    /// Fraction of misclassified samples (softmax) or of wrong 0/1 outputs (sigmoid, a
    /// Hamming error with a threshold of 0.5).
    public var errorRate: Double
    /// Mean loss per sample (cross-entropy, or binary cross-entropy summed over the outputs).
    public var loss: Double
}

extension Network {
    /// Rows per chunk in evaluation: a fixed number, so that every row's outputs come from the
    /// same single-threaded products whatever the thread count.
    static let evaluationChunk = 250
    /// Chunks run side by side in at most this many groups, each with its own buffers
    /// (4 x 250 x 2000 floats = 8 MB for the widest layer of the MNIST network).
    static let evaluationGroups = 4

    /// Evaluation-mode forward pass (no dropout; batch normalisation with the running
    /// statistics) of `rows` samples at `inputs` (rows x inputCount): fills `buffers.outputs`
    /// with every hidden layer's activations and the logits.
    func forward(_ inputs: UnsafePointer<Float>, rows: Int, into buffers: ForwardBuffers) {
        precondition(rows <= buffers.capacity, "forward: \(rows) rows for a capacity of \(buffers.capacity)")
        var x = inputs
        for (l, layer) in layers.enumerated() {
            let y = buffers.outputs[l].pointer, z = buffers.pieces[l]?.pointer ?? y
            let fanIn = layer.fanIn, fanOut = layer.fanOut
            // Z (rows x fanOut) = X (rows x fanIn) * W (fanIn x fanOut)
            layer.weight.elements.withUnsafeBufferPointer { w in
                sgemm(.none, .none, m: rows, n: fanOut, k: fanIn, alpha: 1, a: x, lda: fanIn,
                      b: w.baseAddress!, ldb: fanOut, beta: 0, c: z, ldc: fanOut)
            }
            // Z = f(Z + b), or f(gamma (Z - running mean) / sqrt(running variance + eps) + b)
            layer.bias.withUnsafeBufferPointer { b in
                if l < batchNorm.count {
                    let norm = batchNorm[l]
                    norm.gamma.withUnsafeBufferPointer { gamma in
                        norm.runningMean.withUnsafeBufferPointer { mean in
                            norm.runningVariance.withUnsafeBufferPointer { variance in
                                FusedKernels.batchNormalizeWithRunningStatistics(
                                    z, rows: rows, columns: fanOut, stride: fanOut, gamma: gamma.baseAddress!,
                                    shift: b.baseAddress!, runningMean: mean.baseAddress!,
                                    runningVariance: variance.baseAddress!, activation: activation(ofLayer: l))
                            }
                        }
                    }
                } else {
                    FusedKernels.addBiasActivate(z, rows: rows, columns: fanOut, bias: b.baseAddress!,
                                                 activation: activation(ofLayer: l))
                }
            }
            if z != y {     // maxout: Y = the maximum of each unit's pieces
                FusedKernels.maxoutPool(z, into: y, rows: rows, units: 0..<units(ofLayer: l), pieces: pieces(ofLayer: l),
                                        inputStride: fanOut, outputStride: units(ofLayer: l))
            }
            x = UnsafePointer(y)
        }
    }

    /// Runs `inputs` through the network in chunks of `evaluationChunk` rows, each one
    /// single-threaded product per layer, and calls `body(chunk, firstRow, rows, buffers)` for
    /// each. Chunks run side by side on the lane threads (chunk c in group c mod G), so `body`
    /// must only write memory of its own chunk. The results do not depend on the thread count.
    func forEachChunk(_ inputs: Matrix, _ body: (Int, Int, Int, ForwardBuffers) -> Void) {
        precondition(inputs.columns == inputCount,
                     "Network: inputs have \(inputs.columns) columns, the network takes \(inputCount)")
        let chunk = Network.evaluationChunk
        let chunks = (inputs.rows + chunk - 1) / chunk
        guard chunks > 0 else { return }
        let groups = min(chunks, Network.evaluationGroups)
        let buffers = (0..<groups).map { _ in ForwardBuffers(network: self, capacity: min(inputs.rows, chunk)) }
        let columns = inputCount
        inputs.elements.withUnsafeBufferPointer { x in
            BLASThreads.singleThreaded {
                Lanes.run(groups) { group in
                    for c in stride(from: group, to: chunks, by: groups) {
                        let start = c * chunk, rows = min(chunk, inputs.rows - start)
                        forward(x.baseAddress! + start * columns, rows: rows, into: buffers[group])
                        body(c, start, rows, buffers[group])
                    }
                }
            }
        }
    }

    /// The output layer's pre-activations (logits), shape (samples x outputs), for inputs of
    /// shape (samples x inputCount). Evaluation mode: no dropout.
    public func predict(_ inputs: Matrix) -> Matrix {
        outputs(inputs, write: .none)
    }

    /// The output probabilities, shape (samples x outputs): softmax rows, or one independent
    /// sigmoid per output.
    public func probabilities(_ inputs: Matrix) -> Matrix {
        outputs(inputs, write: .probabilities)
    }

    /// The most probable class of each sample (argmax of the logits).
    public func classify(_ inputs: Matrix) -> [Int] {
        let logits = predict(inputs)
        return (0..<logits.rows).map { argmax(logits.elements, offset: $0 * logits.columns, count: logits.columns) }
    }

    /// The indices of the samples of `data` whose most probable class is not their label: the
    /// paired data of McNemar's test (softmax output).
    public func misclassified(_ data: LabeledData) -> [Int] {
        let labels = data.labels
        return classify(data.inputs).enumerated().filter { $0.element != labels[$0.offset] }.map(\.offset)
    }

    /// Error rate and mean loss on `data` (evaluation mode): the chunks' sums added in chunk
    /// order.
    public func evaluate(_ data: LabeledData) -> Evaluation {
        precondition(data.targets.columns == outputCount,
                     "evaluate: targets have \(data.targets.columns) columns, the network has \(outputCount) outputs")
        let outputs = outputCount
        let chunks = (data.count + Network.evaluationChunk - 1) / Network.evaluationChunk
        var perChunk = [OutputStatistics](repeating: OutputStatistics(), count: chunks)
        perChunk.withUnsafeMutableBufferPointer { perChunk in
            data.targets.elements.withUnsafeBufferPointer { t in
                forEachChunk(data.inputs) { c, start, rows, buffers in
                    perChunk[c] = output.outputPass(buffers.outputs[layers.count - 1].pointer,
                                                    targets: t.baseAddress! + start * outputs,
                                                    rows: rows, columns: outputs, write: .none)
                }
            }
        }
        var stats = OutputStatistics()
        for s in perChunk {
            stats.lossSum += s.lossSum
            stats.errors += s.errors
        }
        let n = max(data.count, 1)
        return Evaluation(errorRate: Double(stats.errors) / Double(output.errorDenominator(rows: n, outputs: outputs)),
                          loss: stats.lossSum / Double(n))
    }

    /// The activations of every hidden layer (evaluation mode), each of shape
    /// (samples x units): for a sigmoid network unrolled from RBMs, the up-pass probabilities.
    public func hiddenOutputs(_ inputs: Matrix) -> [Matrix] {
        let hidden = layers.indices.dropLast().map { FloatBuffer(count: inputs.rows * units(ofLayer: $0)) }
        forEachChunk(inputs) { _, start, rows, buffers in
            for (l, destination) in hidden.enumerated() {
                let columns = units(ofLayer: l)
                (destination.pointer + start * columns).update(from: buffers.outputs[l].pointer, count: rows * columns)
            }
        }
        return hidden.enumerated().map { Matrix(rows: inputs.rows, columns: units(ofLayer: $0), elements: $1.array) }
    }

    /// The logits written over by `write`, as a (samples x outputs) matrix.
    private func outputs(_ inputs: Matrix, write: OutputWrite) -> Matrix {
        let outputs = outputCount
        let result = FloatBuffer(count: inputs.rows * outputs)
        forEachChunk(inputs) { _, start, rows, buffers in
            let z = buffers.outputs[layers.count - 1].pointer
            _ = output.outputPass(z, targets: nil, rows: rows, columns: outputs, write: write)
            (result.pointer + start * outputs).update(from: z, count: rows * outputs)
        }
        return Matrix(rows: inputs.rows, columns: outputs, elements: result.array)
    }
}

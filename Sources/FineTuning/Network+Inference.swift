import Linalg

/// Per-layer output buffers for evaluation-mode forward passes of up to `capacity` rows.
final class ForwardBuffers {
    let capacity: Int
    /// Layer l's output, capacity x fanOut(l): hidden activations, then the logits.
    let outputs: [FloatBuffer]

    init(sizes: [Int], capacity: Int) {
        self.capacity = capacity
        outputs = sizes.dropFirst().map { FloatBuffer(count: capacity * $0) }
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
    /// Rows per chunk in evaluation, bounding the buffers (1000 x 2000 floats = 8 MB).
    static let evaluationChunk = 1000

    /// Evaluation-mode forward pass (no dropout) of `rows` samples at `inputs` (rows x inputCount):
    /// fills `buffers.outputs` with every hidden layer's activations and the logits.
    func forward(_ inputs: UnsafePointer<Float>, rows: Int, into buffers: ForwardBuffers) {
        precondition(rows <= buffers.capacity, "forward: \(rows) rows for a capacity of \(buffers.capacity)")
        var x = inputs
        for (l, layer) in layers.enumerated() {
            let y = buffers.outputs[l].pointer
            let fanIn = layer.fanIn, fanOut = layer.fanOut
            // Y (rows x fanOut) = X (rows x fanIn) * W (fanIn x fanOut)
            layer.weight.elements.withUnsafeBufferPointer { w in
                sgemm(.none, .none, m: rows, n: fanOut, k: fanIn, alpha: 1, a: x, lda: fanIn,
                      b: w.baseAddress!, ldb: fanOut, beta: 0, c: y, ldc: fanOut)
            }
            // Y = f(Y + b)
            layer.bias.withUnsafeBufferPointer { b in
                FusedKernels.addBiasActivate(y, rows: rows, columns: fanOut, bias: b.baseAddress!,
                                             activation: activation(ofLayer: l))
            }
            x = UnsafePointer(y)
        }
    }

    /// Runs `inputs` through the network in chunks; `body(firstRow, rows, buffers)` sees each.
    func forEachChunk(_ inputs: Matrix, _ body: (Int, Int, ForwardBuffers) -> Void) {
        precondition(inputs.columns == inputCount,
                     "Network: inputs have \(inputs.columns) columns, the network takes \(inputCount)")
        let buffers = ForwardBuffers(sizes: sizes, capacity: min(max(inputs.rows, 1), Network.evaluationChunk))
        inputs.elements.withUnsafeBufferPointer { x in
            var start = 0
            while start < inputs.rows {
                let rows = min(buffers.capacity, inputs.rows - start)
                forward(x.baseAddress! + start * inputCount, rows: rows, into: buffers)
                body(start, rows, buffers)
                start += rows
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

    /// Error rate and mean loss on `data` (evaluation mode).
    public func evaluate(_ data: LabeledData) -> Evaluation {
        precondition(data.targets.columns == outputCount,
                     "evaluate: targets have \(data.targets.columns) columns, the network has \(outputCount) outputs")
        var stats = OutputStatistics()
        let outputs = outputCount
        data.targets.elements.withUnsafeBufferPointer { t in
            forEachChunk(data.inputs) { start, rows, buffers in
                let s = output.outputPass(buffers.outputs[layers.count - 1].pointer,
                                          targets: t.baseAddress! + start * outputs,
                                          rows: rows, columns: outputs, write: .none)
                stats.lossSum += s.lossSum
                stats.errors += s.errors
            }
        }
        let n = max(data.count, 1)
        return Evaluation(errorRate: Double(stats.errors) / Double(output.errorDenominator(rows: n, outputs: outputs)),
                          loss: stats.lossSum / Double(n))
    }

    /// The activations of every hidden layer (evaluation mode), each of shape
    /// (samples x units): for a sigmoid network unrolled from RBMs, the up-pass probabilities.
    public func hiddenOutputs(_ inputs: Matrix) -> [Matrix] {
        var result = layers.dropLast().map { Matrix(rows: inputs.rows, columns: $0.fanOut) }
        forEachChunk(inputs) { start, rows, buffers in
            for l in result.indices {
                let columns = result[l].columns
                result[l].elements.withUnsafeMutableBufferPointer { dst in
                    (dst.baseAddress! + start * columns).update(from: buffers.outputs[l].pointer, count: rows * columns)
                }
            }
        }
        return result
    }

    /// The logits written over by `write`, as a (samples x outputs) matrix.
    private func outputs(_ inputs: Matrix, write: OutputWrite) -> Matrix {
        var result = Matrix(rows: inputs.rows, columns: outputCount)
        let outputs = outputCount
        forEachChunk(inputs) { start, rows, buffers in
            let z = buffers.outputs[layers.count - 1].pointer
            _ = output.outputPass(z, targets: nil, rows: rows, columns: outputs, write: write)
            result.elements.withUnsafeMutableBufferPointer { dst in
                (dst.baseAddress! + start * outputs).update(from: z, count: rows * outputs)
            }
        }
        return result
    }
}

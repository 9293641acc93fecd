import Linalg

extension Network {
    /// The mean loss over `data` and its gradient with respect to every layer's weights
    /// (fanIn x fanOut) and biases, by backpropagation through the training step's own code
    /// (no dropout), and of every batch-normalised layer's gamma (`scaleGradients`, empty
    /// without batch normalisation). Batch normalisation uses the statistics of `data` as one
    /// minibatch (training mode; the running statistics are neither used nor changed). For
    /// checks against finite differences.
    public func lossGradients(on data: LabeledData) -> (loss: Double, gradients: [DenseParameters], scaleGradients: [[Float]]) {
        precondition(data.inputs.columns == inputCount && data.targets.columns == outputCount,
                     "lossGradients: data of shape \(data.inputs.columns) -> \(data.targets.columns) for a \(sizes) network")
        let engine = BackpropEngine(network: self, capacity: max(data.count, 1), configuration: TrainingConfiguration())
        let stats = BLASThreads.singleThreaded { () -> OutputStatistics in
            data.inputs.elements.withUnsafeBufferPointer { x in
                data.targets.elements.withUnsafeBufferPointer { t in
                    Array(0..<data.count).withUnsafeBufferPointer {
                        engine.loadRows($0, inputs: x.baseAddress!, targets: t.baseAddress!)
                    }
                }
            }
            let key = StepKey(seed: 0, epoch: 0, minibatch: 0)
            engine.forward(rows: data.count, key: key)
            let stats = engine.loss(rows: data.count)
            engine.backward(rows: data.count, downTo: 0)
            return stats
        }
        let gradients = (0..<layers.count).map { l in
            DenseParameters(weight: Matrix(rows: sizes[l], columns: layers[l].fanOut, elements: engine.weightGradients[l].array),
                            bias: engine.biasGradients[l].array)
        }
        let scaleGradients = batchNorm.indices.map { engine.gammaGradients[$0].array }
        engine.clearGradients()
        return (stats.lossSum / Double(max(data.count, 1)), gradients, scaleGradients)
    }

    /// The output probabilities of a training-mode forward pass (inverted dropout on, the
    /// masks of minibatch `key`), for checking that dropout is active in training only.
    func trainingModeProbabilities(_ inputs: Matrix, inputDropout: Float, hiddenDropout: Float, key: StepKey) -> Matrix {
        let rows = inputs.rows
        let configuration = TrainingConfiguration(inputDropout: inputDropout, hiddenDropout: hiddenDropout)
        let engine = BackpropEngine(network: self, capacity: max(rows, 1), configuration: configuration)
        inputs.elements.withUnsafeBufferPointer { engine.input.pointer.update(from: $0.baseAddress!, count: $0.count) }
        BLASThreads.singleThreaded { engine.forward(rows: rows, key: key) }
        let z = engine.activations[layers.count - 1].pointer
        _ = output.outputPass(z, targets: nil, rows: rows, columns: outputCount, write: .probabilities)
        return Matrix(rows: rows, columns: outputCount,
                      elements: Array(UnsafeBufferPointer(start: z, count: rows * outputCount)))
    }
}

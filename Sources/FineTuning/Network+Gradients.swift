import Linalg

extension Network {
    /// The mean loss over `data` and its gradient with respect to every layer's weights
    /// (fanIn x fanOut) and biases, by backpropagation through the training loop's own code
    /// (evaluation mode: no dropout). For checks against finite differences.
    public func lossGradients(on data: LabeledData) -> (loss: Double, gradients: [DenseParameters]) {
        precondition(data.inputs.columns == inputCount && data.targets.columns == outputCount,
                     "lossGradients: data of shape \(data.inputs.columns) -> \(data.targets.columns) for a \(sizes) network")
        let rows = max(data.count, 1)
        let state = TrainingState(network: self, capacity: rows, configuration: TrainingConfiguration(), lanes: 1)
        data.inputs.elements.withUnsafeBufferPointer { x in
            data.targets.elements.withUnsafeBufferPointer { t in
                state.loadRows(Array(0..<data.count)[...], inputs: x.baseAddress!, targets: t.baseAddress!)
            }
        }
        var unused = Xoshiro256StarStar(seed: 0)
        state.forward(rows: data.count, generator: &unused)
        let last = layers.count - 1
        let stats = output.outputPass(state.activations[last].pointer, targets: state.target.pointer,
                                      rows: data.count, columns: outputCount, write: .delta)
        state.backward(rows: data.count, downTo: 0)
        var gradients: [DenseParameters] = []
        for l in 0...last {
            state.computeGradient(layer: l, rows: data.count)
            gradients.append(DenseParameters(
                weight: Matrix(rows: sizes[l], columns: sizes[l + 1], elements: state.weightGradients[l].array),
                bias: state.biasGradients[l].array))
        }
        return (stats.lossSum / Double(rows), gradients)
    }

    /// The output probabilities of a training-mode forward pass (inverted dropout on, drawn
    /// from `generator`), for checking that dropout is active in training only.
    func trainingModeProbabilities(_ inputs: Matrix, inputDropout: Float, hiddenDropout: Float,
                                   generator: inout Xoshiro256StarStar) -> Matrix {
        let rows = inputs.rows
        let configuration = TrainingConfiguration(inputDropout: inputDropout, hiddenDropout: hiddenDropout)
        let state = TrainingState(network: self, capacity: max(rows, 1), configuration: configuration, lanes: 1)
        inputs.elements.withUnsafeBufferPointer { state.input.pointer.update(from: $0.baseAddress!, count: $0.count) }
        if inputDropout > 0 {
            FusedKernels.dropout(state.input.pointer, into: state.input.pointer, mask: nil, count: inputs.count,
                                 rate: inputDropout, generator: &generator)
        }
        state.forward(rows: rows, generator: &generator)
        let z = state.activations[layers.count - 1].pointer
        _ = output.outputPass(z, targets: nil, rows: rows, columns: outputCount, write: .probabilities)
        return Matrix(rows: rows, columns: outputCount,
                      elements: Array(UnsafeBufferPointer(start: z, count: rows * outputCount)))
    }
}

import Linalg

// The blocks of each stage of `BackpropEngine`: what block `b` of a stage computes, on its own
// columns or rows, with one single-threaded product each. Blocks of one stage write disjoint
// memory and read nothing another block of the stage writes.
extension BackpropEngine {
    /// Block `block`'s share of the current stage (called by `Lanes.run`).
    func runBlock(_ block: Int) {
        let l = stageLayer
        switch stage {
        case .forward: forward(layer: l, rows: stageRows, block: outputBlocks[l][block])
        case .backward:
            backward(layer: l, rows: stageRows, inputBlock: inputBlocks[l][block], outputBlock: outputBlocks[l][block])
            if stageUpdates { update(layer: l, inputBlock: inputBlocks[l][block], outputBlock: outputBlocks[l][block]) }
        case .update: update(layer: l, inputBlock: inputBlocks[l][block], outputBlock: outputBlocks[l][block])
        case .maxNorm: constrainNorms(layer: l, block: outputBlocks[l][block])
        }
    }

    /// The input of layer l in the training forward pass: the minibatch (after its dropout), or
    /// the previous layer's output after dropout.
    func layerInput(_ l: Int) -> UnsafeMutablePointer<Float> {
        l == 0 ? input.pointer : (dropped[l - 1] ?? activations[l - 1]).pointer
    }

    /// The columns `block` of layer l's output, `Y_l[:, block] = f(X_l W_l[:, block] + b_l[block])`,
    /// and their dropout.
    private func forward(layer l: Int, rows: Int, block: Range<Int>) {
        guard !block.isEmpty else { return }
        let fanIn = sizes[l], fanOut = sizes[l + 1], lo = block.lowerBound
        let y = activations[l].pointer + lo
        // Y_l[:, block] (rows x |block|) = X_l (rows x fanIn) * W_l[:, block] (fanIn x |block|)
        sgemm(.none, .none, m: rows, n: block.count, k: fanIn, alpha: 1, a: layerInput(l), lda: fanIn,
              b: weights[l].pointer + lo, ldb: fanOut, beta: 0, c: y, ldc: fanOut)
        // Y_l = f(Y_l + b_l), fused; the output layer keeps its logits.
        FusedKernels.addBiasActivate(y, rows: rows, columns: block.count, stride: fanOut, bias: biases[l].pointer + lo,
                                     activation: l == layerCount - 1 ? .identity : activation)
        if let d = dropped[l], let mask = masks[l] {
            FusedKernels.dropout(activations[l].pointer, into: d.pointer, mask: mask.pointer, rows: rows, units: block,
                                 stride: fanOut, rate: configuration.hiddenDropout, stream: stageStream)
        }
    }

    /// The rows `inputBlock` of layer l's weight gradient, the entries `outputBlock` of its
    /// bias gradient and (above the lowest layer of the pass) the columns `inputBlock` of the
    /// lower delta.
    private func backward(layer l: Int, rows: Int, inputBlock: Range<Int>, outputBlock: Range<Int>) {
        let fanIn = sizes[l], fanOut = sizes[l + 1], lo = inputBlock.lowerBound
        let inverse = stageScale, delta = deltas[l].pointer
        if !inputBlock.isEmpty {
            // G_l[block, :] (|block| x fanOut) = scale X_l[:, block]^T (|block| x rows) * delta_l (rows x fanOut),
            // accumulated (beta 1) into the zeroed buffer: the same bits as beta 0 without
            // OpenBLAS's separate pass that zeroes its output.
            sgemm(.transposed, .none, m: inputBlock.count, n: fanOut, k: rows, alpha: inverse, a: layerInput(l) + lo,
                  lda: fanIn, b: delta, ldb: fanOut, beta: 1, c: weightGradients[l].pointer + lo * fanOut, ldc: fanOut)
        }
        // g_l[block] = scale * column sums of delta_l[:, block]
        FusedKernels.columnSums(delta + outputBlock.lowerBound, rows: rows, columns: outputBlock.count, stride: fanOut,
                                into: biasGradients[l].pointer + outputBlock.lowerBound, scale: inverse)
        guard l > stageLowest, !inputBlock.isEmpty else { return }
        // delta_{l-1}[:, block] (rows x |block|) = delta_l (rows x fanOut) * W_l[block, :]^T (fanOut x |block|)
        sgemm(.none, .transposed, m: rows, n: inputBlock.count, k: fanOut, alpha: 1, a: delta, lda: fanOut,
              b: weights[l].pointer + lo * fanOut, ldb: fanOut, beta: 0, c: deltas[l - 1].pointer + lo, ldc: fanIn)
        // delta_{l-1} *= mask_{l-1} * f'(y_{l-1}), fused
        FusedKernels.backpropActivation(deltas[l - 1].pointer + lo, output: activations[l - 1].pointer + lo,
                                        mask: masks[l - 1].map { $0.pointer + lo }, rows: rows, columns: inputBlock.count,
                                        stride: fanIn, activation: activation)
    }

    /// The optimiser step on the weight rows `inputBlock` and the bias entries `outputBlock`
    /// of layer l (weight decay on the weights only).
    private func update(layer l: Int, inputBlock: Range<Int>, outputBlock: Range<Int>) {
        let fanOut = sizes[l + 1], t = updateCounts[l]
        func block(_ values: FloatBuffer, _ gradient: FloatBuffer, _ moment: FloatBuffer, _ second: FloatBuffer,
                   _ range: Range<Int>) -> ParameterBlock {
            ParameterBlock(values: values.pointer + range.lowerBound, gradient: gradient.pointer + range.lowerBound,
                           moment: moment.pointer + range.lowerBound,
                           secondMoment: second.count == 0 ? nil : second.pointer + range.lowerBound, count: range.count)
        }
        let weightRange = (inputBlock.lowerBound * fanOut)..<(inputBlock.upperBound * fanOut)
        rule.apply(block(weights[l], weightGradients[l], weightMoments[l], weightSecondMoments[l], weightRange),
                   rate: stageRate, decay: configuration.weightDecay, step: t)
        rule.apply(block(biases[l], biasGradients[l], biasMoments[l], biasSecondMoments[l], outputBlock),
                   rate: stageRate, decay: 0, step: t)
    }

    /// The max-norm constraint on the units `block` of layer l: each column of W_l (a unit's
    /// incoming weights) longer than `configuration.maxNorm` is scaled back to that length.
    private func constrainNorms(layer l: Int, block: Range<Int>) {
        guard let limit = configuration.maxNorm, !block.isEmpty else { return }
        let fanIn = sizes[l], fanOut = sizes[l + 1], lo = block.lowerBound, n = block.count
        let w = weights[l].pointer + lo, scales = columnScales[l].pointer + lo
        scales.update(repeating: 0, count: n)
        for i in 0..<fanIn {
            let row = w + i * fanOut
            for j in 0..<n { scales[j] += row[j] * row[j] }
        }
        var any = false
        for j in 0..<n {
            let length = scales[j].squareRoot()
            scales[j] = length > limit ? limit / length : 1
            any = any || length > limit
        }
        guard any else { return }
        for i in 0..<fanIn {
            let row = w + i * fanOut
            for j in 0..<n { row[j] *= scales[j] }
        }
    }
}

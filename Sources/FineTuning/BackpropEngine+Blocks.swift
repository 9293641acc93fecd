import Linalg

// The blocks of each stage of `BackpropEngine`: what block `b` of a stage computes, on its own
// columns or rows, with one single-threaded product each. Blocks of one stage write disjoint
// memory and read nothing another block of the stage writes.
extension BackpropEngine {
    /// Block `block`'s share of the current stage (called by `Lanes.run`).
    func runBlock(_ block: Int) {
        let l = stageLayer
        switch stage {
        case .forward: forward(layer: l, rows: stageRows, block: block)
        case .normalizeBackward: normalizeBackward(layer: l, rows: stageRows, block: outputBlocks[l][block])
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

    /// Block `b` of layer l's output: the affine columns `outputBlocks[l][b]`,
    /// `Z = X_l W_l[:, block]`, then `Y = f(Z + b_l[block])` (or with batch normalisation
    /// `f(gamma norm(Z) + b_l)`), maxout's pooling of the units `unitBlocks[l][b]`, and their
    /// dropout.
    private func forward(layer l: Int, rows: Int, block b: Int) {
        let block = outputBlocks[l][b], units = unitBlocks[l][b]
        guard !block.isEmpty else { return }
        let fanIn = sizes[l], width = widths[l], lo = block.lowerBound
        let z = (pieceOutputs[l] ?? activations[l]).pointer + lo
        // Z[:, block] (rows x |block|) = X_l (rows x fanIn) * W_l[:, block] (fanIn x |block|)
        sgemm(.none, .none, m: rows, n: block.count, k: fanIn, alpha: 1, a: layerInput(l), lda: fanIn,
              b: weights[l].pointer + lo, ldb: width, beta: 0, c: z, ldc: width)
        // Z = f(Z + b_l), fused; the output layer keeps its logits, maxout's pieces stay linear.
        let f = l == layerCount - 1 ? .identity : activation
        if let normalized = normalized[l] {
            FusedKernels.batchNormalize(z, rows: rows, columns: block.count, stride: width, gamma: gammas[l].pointer + lo,
                                        shift: biases[l].pointer + lo, normalized: normalized.pointer + lo,
                                        mean: batchMeans[l].pointer + lo, inverseDeviation: inverseDeviations[l].pointer + lo,
                                        runningMean: stageRunning ? runningMeans[l].pointer + lo : nil,
                                        runningVariance: stageRunning ? runningVariances[l].pointer + lo : nil, activation: f)
        } else {
            FusedKernels.addBiasActivate(z, rows: rows, columns: block.count, stride: width, bias: biases[l].pointer + lo,
                                         activation: f)
        }
        if let pieceOutputs = pieceOutputs[l] {
            FusedKernels.maxoutPool(pieceOutputs.pointer, into: activations[l].pointer, rows: rows, units: units,
                                    pieces: pieces[l], inputStride: width, outputStride: sizes[l + 1])
        }
        if let d = dropped[l], let mask = masks[l] {
            FusedKernels.dropout(activations[l].pointer, into: d.pointer, mask: mask.pointer, rows: rows, units: units,
                                 stride: sizes[l + 1], rate: configuration.hiddenDropout, stream: stageStream)
        }
    }

    /// The columns `block` of a batch-normalised layer's delta taken through the
    /// normalisation, with the shift's (the bias's) and gamma's gradients of those columns.
    private func normalizeBackward(layer l: Int, rows: Int, block: Range<Int>) {
        guard let normalized = normalized[l], !block.isEmpty else { return }
        let lo = block.lowerBound, width = widths[l]
        FusedKernels.batchNormalizeBackward(deltas[l].pointer + lo, rows: rows, columns: block.count, stride: width,
                                            normalized: normalized.pointer + lo, gamma: gammas[l].pointer + lo,
                                            inverseDeviation: inverseDeviations[l].pointer + lo,
                                            shiftGradient: biasGradients[l].pointer + lo,
                                            gammaGradient: gammaGradients[l].pointer + lo, scale: stageScale)
    }

    /// The rows `inputBlock` of layer l's weight gradient, the entries `outputBlock` of its
    /// bias gradient and (above the lowest layer of the pass) the columns `inputBlock` of the
    /// lower delta.
    private func backward(layer l: Int, rows: Int, inputBlock: Range<Int>, outputBlock: Range<Int>) {
        let fanIn = sizes[l], fanOut = widths[l], lo = inputBlock.lowerBound
        let inverse = stageScale, delta = deltas[l].pointer
        if !inputBlock.isEmpty {
            // G_l[block, :] (|block| x fanOut) = scale X_l[:, block]^T (|block| x rows) * delta_l (rows x fanOut),
            // accumulated (beta 1) into the zeroed buffer: the same bits as beta 0 without
            // OpenBLAS's separate pass that zeroes its output.
            sgemm(.transposed, .none, m: inputBlock.count, n: fanOut, k: rows, alpha: inverse, a: layerInput(l) + lo,
                  lda: fanIn, b: delta, ldb: fanOut, beta: 1, c: weightGradients[l].pointer + lo * fanOut, ldc: fanOut)
        }
        // g_l[block] = scale * column sums of delta_l[:, block] (batch normalisation's stage did it)
        if normalized[l] == nil {
            FusedKernels.columnSums(delta + outputBlock.lowerBound, rows: rows, columns: outputBlock.count, stride: fanOut,
                                    into: biasGradients[l].pointer + outputBlock.lowerBound, scale: inverse)
        }
        guard l > stageLowest, !inputBlock.isEmpty else { return }
        // delta_{l-1}[:, block] (rows x |block|) = delta_l (rows x fanOut) * W_l[block, :]^T (fanOut x |block|)
        // (for maxout the gradient of the pooled output, routed to the winning pieces below)
        let lower = pooledDeltas[l - 1] ?? deltas[l - 1]
        sgemm(.none, .transposed, m: rows, n: inputBlock.count, k: fanOut, alpha: 1, a: delta, lda: fanOut,
              b: weights[l].pointer + lo * fanOut, ldb: fanOut, beta: 0, c: lower.pointer + lo, ldc: fanIn)
        // delta_{l-1} *= mask_{l-1} * f'(y_{l-1}), fused
        FusedKernels.backpropActivation(lower.pointer + lo, output: activations[l - 1].pointer + lo,
                                        mask: masks[l - 1].map { $0.pointer + lo }, rows: rows, columns: inputBlock.count,
                                        stride: fanIn, activation: activation)
        if let pieceOutputs = pieceOutputs[l - 1] {
            FusedKernels.maxoutRoute(lower.pointer, pieces: pieceOutputs.pointer, pooled: activations[l - 1].pointer,
                                     into: deltas[l - 1].pointer, rows: rows, units: inputBlock, pieces: pieces[l - 1],
                                     unitStride: fanIn, pieceStride: widths[l - 1])
        }
    }

    /// The optimiser step on the weight rows `inputBlock` and the bias entries `outputBlock`
    /// of layer l, and batch normalisation's gamma entries `outputBlock` (weight decay on the
    /// weights only).
    private func update(layer l: Int, inputBlock: Range<Int>, outputBlock: Range<Int>) {
        let fanOut = widths[l], t = updateCounts[l]
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
        if gammas[l].count > 0 {
            rule.apply(block(gammas[l], gammaGradients[l], gammaMoments[l], gammaSecondMoments[l], outputBlock),
                       rate: stageRate, decay: 0, step: t)
        }
    }

    /// The max-norm constraint on the units `block` of layer l: each column of W_l (a unit's
    /// incoming weights) longer than `configuration.maxNorm` is scaled back to that length.
    private func constrainNorms(layer l: Int, block: Range<Int>) {
        guard let limit = configuration.maxNorm, !block.isEmpty else { return }
        let fanIn = sizes[l], fanOut = widths[l], lo = block.lowerBound, n = block.count
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

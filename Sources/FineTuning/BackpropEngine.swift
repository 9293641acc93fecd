import Linalg

// Over 300 lines on purpose: the engine's buffers (each with its shape) and the step that uses
// them (forward, loss, backward, optimiser step) stay in one file so that the step reads like the
// algorithm; how each stage is split into blocks is in BackpropEngine+Blocks.swift.

/// Where a minibatch sits in a run: the key of its dropout masks. The mask of unit u of row r
/// of the input of layer l is drawn from
/// `RandomStream(seed: seed, purpose: .dropout(layer: l), epoch: epoch, step: minibatch)` at
/// (row r, unit u), so it does not depend on how the step is split. A process of
/// data-parallel training holds the minibatch rows from `firstRow` on and numbers them from 0.
struct StepKey: Sendable, Equatable {
    var seed: UInt64
    var epoch: Int
    var minibatch: Int
    var firstRow = 0

    func dropoutStream(layer l: Int) -> RandomStream {
        RandomStream(seed: seed, purpose: .dropout(layer: l), epoch: epoch, step: minibatch).offset(rows: firstRow)
    }
}

/// The backprop engine of fine-tuning: the parameters, the optimiser's moments, the gradients
/// and the workspace of a minibatch, all allocated once and reused for every step, and the
/// step itself (`step`), which reads like the algorithm. How each stage is split into blocks
/// and run on the lane threads is below it (BackpropEngine+Blocks.swift).
///
/// Shapes (B = rows of the current minibatch, at most `capacity`; n_l = sizes[l]):
/// - `weights[l]` n_l x n_{l+1}, `biases[l]` n_{l+1}; gradients and moments alike;
/// - `input` B x n_0, `target` B x n_L;
/// - `activations[l]` B x n_{l+1}: hidden outputs f(X W + b); for the last layer the logits,
///   which the loss overwrites with the output delta (so `deltas[L-1]` is the same buffer);
/// - `dropped[l]`, `masks[l]` B x n_{l+1} for hidden layers when hidden dropout is on;
/// - `deltas[l]` B x n_{l+1}: the gradient of the summed loss w.r.t. layer l's pre-activation.
///
/// Maxout hidden layers have k n_{l+1} affine columns (`widths[l]`; weights, their gradients
/// and moments n_l x widths[l]): `pieceOutputs[l]` B x widths[l] holds the pieces, pooled into
/// `activations[l]`; `deltas[l]` is B x widths[l] and the layer above writes the gradient of
/// the pooled output into `pooledDeltas[l]` (B x n_{l+1}), which it routes to the winning
/// pieces. Batch-normalised hidden layers keep the normalised affine output in
/// `normalized[l]` (B x widths[l]), the minibatch's means and 1/sigma, the scales gamma with
/// their gradients and moments, and the running statistics (updated by `step` only).
///
/// Every stage is split into blocks whose number is fixed by the layer's shape
/// (`Lanes.blockCount`), each block one single-threaded product (the caller runs the step
/// inside `BLASThreads.singleThreaded`), the random draws are keyed by (row, unit) and sums
/// run in a fixed order: the results do not depend on `Lanes.threads`.
final class BackpropEngine: LaneTask {
    let sizes: [Int]
    /// Per layer, its affine columns: sizes[l + 1], times the pieces for a maxout hidden layer.
    let widths: [Int]
    /// Maxout's pieces per unit of the hidden layers (1 without maxout).
    let pieces: [Int]
    let layerCount: Int
    let activation: Activation
    let output: OutputKind
    let configuration: TrainingConfiguration
    let capacity: Int
    /// The update rule; the stepper replaces it when the epoch's momentum changes.
    var rule: any OptimizerStep
    /// Per layer: the blocks of its output columns (forward, bias gradient, max-norm) and of
    /// its input units, the rows of its weight matrix (gradient, lower delta, update); both
    /// `Lanes.blockCount(productSize: n_l n_{l+1})` blocks.
    let outputBlocks: [[Range<Int>]]
    let inputBlocks: [[Range<Int>]]
    /// Per layer, the units of each output block (the same as `outputBlocks` without maxout;
    /// a maxout block holds whole units, all their pieces).
    let unitBlocks: [[Range<Int>]]

    let weights: [FloatBuffer]
    let biases: [FloatBuffer]
    /// The processes of the run (one unless data-parallel; see `step`).
    let collective: any Collective
    /// The reproducible mode's row groups (see `groupedStep`), or nil; and the gradients of this
    /// process's groups, one slab (`gradientSlab`'s layout) each.
    let rowGroups: RowGroups?
    let groupSlabs: FloatBuffer
    /// The gradients of all layers (weights, then biases) and the minibatch's summed loss and
    /// error count, adjacent: what data-parallel training sums across processes in one call.
    let gradientSlab: FloatBuffer
    /// The gradient of the minibatch's mean loss (without weight decay), views into
    /// `gradientSlab`. Zero between steps: `backward` accumulates into it, the optimiser step
    /// clears what it reads, and readers that do not update (`gradientNorms`,
    /// `Network.lossGradients`) call `clearGradients`.
    let weightGradients: [FloatBuffer]
    let biasGradients: [FloatBuffer]
    /// (2): the summed loss and the error count of the minibatch, summed across processes.
    let statisticsSlot: FloatBuffer
    /// SGD's velocity, or Adam's first moment.
    let weightMoments: [FloatBuffer]
    let biasMoments: [FloatBuffer]
    /// Adam's second moment (empty buffers for SGD).
    let weightSecondMoments: [FloatBuffer]
    let biasSecondMoments: [FloatBuffer]
    /// Updates applied to each layer (Adam's t).
    var updateCounts: [Int]

    let input: FloatBuffer
    let target: FloatBuffer
    let activations: [FloatBuffer]
    let dropped: [FloatBuffer?]
    let masks: [FloatBuffer?]
    let deltas: [FloatBuffer]
    /// Per layer, the max-norm scale of each unit's incoming weights (empty without max-norm).
    let columnScales: [FloatBuffer]
    /// Maxout: per hidden layer the pieces (B x widths[l]) and the gradient of the pooled
    /// output (B x n_{l+1}); nil elsewhere.
    let pieceOutputs: [FloatBuffer?]
    let pooledDeltas: [FloatBuffer?]
    /// Batch normalisation: per hidden layer the normalised affine output (nil elsewhere), and
    /// per layer (empty buffers where there is none) the scales, their gradients and moments,
    /// the minibatch's means and 1/sigma and the running mean and variance.
    let normalized: [FloatBuffer?]
    let gammas: [FloatBuffer]
    let gammaGradients: [FloatBuffer]
    let gammaMoments: [FloatBuffer]
    let gammaSecondMoments: [FloatBuffer]
    let batchMeans: [FloatBuffer]
    let inverseDeviations: [FloatBuffer]
    let runningMeans: [FloatBuffer]
    let runningVariances: [FloatBuffer]

    /// What the blocks run next and its settings, written between stages (the task form of
    /// `Lanes.run` allocates nothing, unlike a closure per stage).
    enum Stage { case forward, normalizeBackward, backward, update, maxNorm }
    var stage = Stage.forward
    var stageLayer = 0, stageRows = 0, stageLowest = 0, stageRate: Float = 0, stageUpdates = false
    /// Whether the forward pass updates the running statistics of batch normalisation.
    var stageRunning = false
    /// The gradients' scale: 1 / the rows of the whole minibatch (all processes).
    var stageScale: Float = 1
    var stageStream = RandomStream(seed: 0, purpose: .other(0, 0))

    /// An engine for `network` with room for `capacity` rows per minibatch, training with the
    /// processes of `collective`.
    /// `rowGroups`: the reproducible mode's number of row groups (`Collectives.rowGroups`), or nil.
    init(network: Network, capacity: Int, configuration: TrainingConfiguration,
         collective: any Collective = SingleProcess(), rowGroups: Int? = nil) {
        precondition(capacity >= 1, "BackpropEngine: capacity must be positive")
        let sizes = network.sizes, layerCount = network.layers.count
        let widths = network.layers.map(\.fanOut), pieces = (0..<layerCount).map(network.pieces(ofLayer:))
        self.sizes = sizes
        self.widths = widths
        self.pieces = pieces
        self.layerCount = layerCount
        activation = network.hiddenActivation
        output = network.output
        self.configuration = configuration
        self.capacity = capacity
        rule = configuration.optimizerStep
        let counts = (0..<layerCount).map { Lanes.blockCount(productSize: sizes[$0] * widths[$0]) }
        let unitBlocks = (0..<layerCount).map { Lanes.blocks(of: sizes[$0 + 1], count: counts[$0]) }
        self.unitBlocks = unitBlocks
        outputBlocks = (0..<layerCount).map { l in unitBlocks[l].map { (pieces[l] * $0.lowerBound)..<(pieces[l] * $0.upperBound) } }
        inputBlocks = (0..<layerCount).map { Lanes.blocks(of: sizes[$0], count: counts[$0]) }

        func perLayer(_ count: (Int) -> Int) -> [FloatBuffer] { (0..<layerCount).map { FloatBuffer(count: count($0)) } }
        let weightCount = { (l: Int) in sizes[l] * widths[l] }
        let biasCount = { (l: Int) in widths[l] }
        let second = configuration.usesSecondMoment
        weights = network.layers.map { FloatBuffer($0.weight.elements) }
        biases = network.layers.map { FloatBuffer($0.bias) }
        self.collective = collective
        let slab = FloatBuffer.slab((0..<layerCount).map(weightCount) + (0..<layerCount).map(biasCount) + [2])
        gradientSlab = slab.whole
        weightGradients = Array(slab.parts[0..<layerCount])
        biasGradients = Array(slab.parts[layerCount..<(2 * layerCount)])
        statisticsSlot = slab.parts[2 * layerCount]
        let groups = rowGroups.map { RowGroups(count: $0, capacity: capacity) }
        self.rowGroups = groups
        groupSlabs = FloatBuffer(count: (groups?.groups(ofRank: collective.rank, size: collective.size).count ?? 0)
                                     * slab.whole.count)
        weightMoments = perLayer(weightCount)
        biasMoments = perLayer(biasCount)
        weightSecondMoments = perLayer { second ? weightCount($0) : 0 }
        biasSecondMoments = perLayer { second ? biasCount($0) : 0 }
        updateCounts = Array(repeating: 0, count: layerCount)

        input = FloatBuffer(count: capacity * sizes[0])
        target = FloatBuffer(count: capacity * sizes[layerCount])
        let activations = perLayer { capacity * sizes[$0 + 1] }
        self.activations = activations
        func maxoutBuffer(_ l: Int, _ columns: Int) -> FloatBuffer? { pieces[l] > 1 ? FloatBuffer(count: capacity * columns) : nil }
        pieceOutputs = (0..<layerCount).map { maxoutBuffer($0, widths[$0]) }
        pooledDeltas = (0..<layerCount).map { maxoutBuffer($0, sizes[$0 + 1]) }
        let norms = network.batchNorm
        func normalizedWidth(_ l: Int) -> Int { l < norms.count ? widths[l] : 0 }
        normalized = (0..<layerCount).map { normalizedWidth($0) > 0 ? FloatBuffer(count: capacity * widths[$0]) : nil }
        gammas = (0..<layerCount).map { FloatBuffer($0 < norms.count ? norms[$0].gamma : []) }
        runningMeans = (0..<layerCount).map { FloatBuffer($0 < norms.count ? norms[$0].runningMean : []) }
        runningVariances = (0..<layerCount).map { FloatBuffer($0 < norms.count ? norms[$0].runningVariance : []) }
        gammaGradients = perLayer(normalizedWidth)
        gammaMoments = perLayer(normalizedWidth)
        gammaSecondMoments = perLayer { second ? normalizedWidth($0) : 0 }
        batchMeans = perLayer(normalizedWidth)
        inverseDeviations = perLayer(normalizedWidth)
        let hiddenDropout = configuration.hiddenDropout > 0
        func hiddenBuffer(_ l: Int) -> FloatBuffer? {
            hiddenDropout && l < layerCount - 1 ? FloatBuffer(count: capacity * sizes[l + 1]) : nil
        }
        dropped = (0..<layerCount).map(hiddenBuffer)
        masks = (0..<layerCount).map(hiddenBuffer)
        deltas = (0..<layerCount).map { $0 == layerCount - 1 ? activations[$0] : FloatBuffer(count: capacity * widths[$0]) }
        columnScales = perLayer { configuration.maxNorm == nil ? 0 : widths[$0] }
    }

    // MARK: - One minibatch

    /// One training step on the `rows` samples in `input`/`target`: forward (with dropout
    /// keyed by `key`), loss, backward into the gradient buffers, the optimiser step, then the
    /// max-norm constraint. Only the output layer is trained (and backpropagated to) unless
    /// `trainHidden`. Returns the summed loss and errors of the minibatch (before the update).
    ///
    /// Data-parallel: each process holds its `rows` of a minibatch of `batchRows` (default
    /// `rows`) in the buffers, from minibatch row `key.firstRow` on; the gradients are scaled
    /// by 1/`batchRows` and summed across the processes (with the loss and errors) in ONE
    /// in-place all-reduce, so every process applies the same update. At each epoch's first
    /// minibatch the processes check that they hold the same parameters.
    func step(rows: Int, batchRows: Int? = nil, learningRate: Float, trainHidden: Bool, key: StepKey) -> OutputStatistics {
        let trained = trainHidden ? 0 : layerCount - 1
        checkAgreement(key)
        var statistics = OutputStatistics()
        let scale = 1 / Float(batchRows ?? rows)
        if collective.size == 1 && rows > 0 {
            forward(rows: rows, key: key, updatingRunningStatistics: true)
            statistics = loss(rows: rows)
            // Nothing to sum between backward and update: each block applies the optimiser
            // step to its rows right after computing their gradient (while it is in cache),
            // the same arithmetic on the same values as the separate stage below, so the same
            // bits (FusedUpdateTests).
            backward(rows: rows, downTo: trained, scale: scale, updatingWith: learningRate)
        } else {
            if rows > 0 {
                forward(rows: rows, key: key, updatingRunningStatistics: true)
                statistics = loss(rows: rows)
                backward(rows: rows, downTo: trained, scale: scale)
            } else {                        // a short last minibatch left this process no rows
                gradientSlab.fill(0)
            }
            if collective.size > 1 {        // the sums across processes, in one call
                statisticsSlot.pointer[0] = Float(statistics.lossSum)
                statisticsSlot.pointer[1] = Float(statistics.errors)
                collective.allReduceSum(gradientSlab)
                statistics = OutputStatistics(lossSum: Double(statisticsSlot.pointer[0]),
                                              errors: Int(statisticsSlot.pointer[1].rounded()))
            }
            for l in trained..<layerCount { update(layer: l, learningRate: learningRate) }
        }
        constrainNorms(from: trained)
        return statistics
    }

    /// The reproducible mode (`rowGroups`): `step` on each of this process's row groups of the
    /// minibatch `indices` of `inputs`/`targets` on its own (loaded, forward, loss, backward on
    /// the group's rows only, the gradients set aside in `groupSlabs`), then the groups'
    /// gradients, losses and errors added in group order across the processes
    /// (`Collective.orderedSum`) and the update of the whole minibatch. The bits depend on the
    /// groups alone, not on the number of processes. Returns the minibatch's statistics.
    func groupedStep(_ groups: RowGroups, indices: UnsafeBufferPointer<Int>, inputs: UnsafePointer<Float>,
                     targets: UnsafePointer<Float>, learningRate: Float, trainHidden: Bool,
                     key: StepKey) -> OutputStatistics {
        let trained = trainHidden ? 0 : layerCount - 1, n = gradientSlab.count
        checkAgreement(key)
        let mine = groups.groups(ofRank: collective.rank, size: collective.size)
        for (part, group) in mine.enumerated() {
            let range = groups.rows(ofGroup: group, batchRows: indices.count)
            gradientSlab.fill(0)
            if !range.isEmpty {
                loadRows(UnsafeBufferPointer(rebasing: indices[range]), inputs: inputs, targets: targets)
                var groupKey = key
                groupKey.firstRow = range.lowerBound
                forward(rows: range.count, key: groupKey)
                let statistics = loss(rows: range.count)
                backward(rows: range.count, downTo: trained, scale: 1 / Float(indices.count))
                statisticsSlot.pointer[0] = Float(statistics.lossSum)
                statisticsSlot.pointer[1] = Float(statistics.errors)
            }
            (groupSlabs.pointer + part * n).update(from: gradientSlab.pointer, count: n)
        }
        collective.orderedSum(groupSlabs.pointer, partCount: mine.count, count: n, into: gradientSlab.pointer)
        let statistics = OutputStatistics(lossSum: Double(statisticsSlot.pointer[0]),
                                          errors: Int(statisticsSlot.pointer[1].rounded()))
        for l in trained..<layerCount { update(layer: l, learningRate: learningRate) }
        constrainNorms(from: trained)
        return statistics
    }

    /// With several processes, at each epoch's first minibatch: checks that all hold the same
    /// parameters (else the job stops).
    private func checkAgreement(_ key: StepKey) {
        if collective.size > 1 && key.minibatch == 0 {
            collective.verifyAgreement(weights + biases + weightMoments + biasMoments,
                                       what: "network parameters at the start of epoch \(key.epoch)")
        }
    }

    /// The max-norm constraint (if any) on layers `trained` and above, after their update.
    private func constrainNorms(from trained: Int) {
        if configuration.maxNorm != nil {
            for l in trained..<layerCount { constrainNorms(layer: l) }
        }
    }

    /// The norm of each layer's weight gradient on the `rows` samples in `input`/`target`
    /// with the current weights and the dropout masks of `key` (all layers, frozen or not).
    /// An observer: it overwrites the workspace and the gradients, which the next `step`
    /// rewrites before reading, and leaves the parameters and moments alone.
    func gradientNorms(rows: Int, key: StepKey) -> [Double] {
        forward(rows: rows, key: key)
        _ = loss(rows: rows)
        backward(rows: rows, downTo: 0)
        defer { clearGradients() }
        return weightGradients.map(\.norm)
    }

    /// Sets the weight gradients back to zero after a `backward` that no update consumed.
    func clearGradients() {
        for g in weightGradients { g.pointer.update(repeating: 0, count: g.count) }
    }

    /// Whether the hidden layers are batch-normalised.
    var isBatchNormalized: Bool { normalized.contains { $0 != nil } }

    // MARK: - Stages

    /// Forward pass in training mode: the input's dropout (in place), then per layer
    /// `Y_l = f(X_l W_l + b_l)` into `activations[l]` followed by the hidden dropout into
    /// `dropped[l]` (remembering `masks[l]`); the output layer's logits stay un-normalised.
    /// Batch normalisation uses the minibatch's statistics and, with
    /// `updatingRunningStatistics` (a training step), moves the running ones towards them.
    func forward(rows: Int, key: StepKey, updatingRunningStatistics: Bool = false) {
        stageRunning = updatingRunningStatistics
        if configuration.inputDropout > 0 {
            FusedKernels.dropout(input.pointer, into: input.pointer, mask: nil, rows: rows, units: 0..<sizes[0],
                                 stride: sizes[0], rate: configuration.inputDropout, stream: key.dropoutStream(layer: 0))
        }
        for l in 0..<layerCount {
            (stage, stageLayer, stageRows) = (.forward, l, rows)
            stageStream = key.dropoutStream(layer: l + 1)
            Lanes.run(outputBlocks[l].count, task: self)
        }
    }

    /// The loss: the summed loss and errors of the minibatch, the output delta `p - t` written
    /// over the logits.
    func loss(rows: Int) -> OutputStatistics {
        output.outputPass(activations[layerCount - 1].pointer, targets: target.pointer,
                          rows: rows, columns: sizes[layerCount], write: .delta)
    }

    /// Backward pass from the output delta: per layer l from the top down to `lowest`, the
    /// gradient of the mean loss into `weightGradients[l]`, `biasGradients[l]` and (above
    /// `lowest`) the lower delta `deltas[l-1]`. No gradient w.r.t. the network's input. The
    /// gradients are the sums over the rows times `scale` (default 1/`rows`: the mean). With
    /// `rate`, each block then applies the optimiser step to the rows and entries whose
    /// gradient it has just computed (after computing the lower delta from the old weights).
    func backward(rows: Int, downTo lowest: Int, scale: Float? = nil, updatingWith rate: Float? = nil) {
        stageScale = scale ?? 1 / Float(rows)
        for l in stride(from: layerCount - 1, through: lowest, by: -1) {
            if normalized[l] != nil {       // through the normalisation first: the shift's and gamma's gradients
                (stage, stageLayer, stageRows) = (.normalizeBackward, l, rows)
                Lanes.run(outputBlocks[l].count, task: self)
            }
            (stage, stageLayer, stageRows, stageLowest) = (.backward, l, rows, lowest)
            if let rate {
                updateCounts[l] += 1
                (stageUpdates, stageRate) = (true, rate)
            } else {
                stageUpdates = false
            }
            Lanes.run(inputBlocks[l].count, task: self)
        }
    }

    /// The optimiser step of layer l from its gradient.
    func update(layer l: Int, learningRate: Float) {
        updateCounts[l] += 1
        (stage, stageLayer, stageRate) = (.update, l, learningRate)
        Lanes.run(inputBlocks[l].count, task: self)
    }

    /// The max-norm constraint on layer l (after its update).
    func constrainNorms(layer l: Int) {
        (stage, stageLayer) = (.maxNorm, l)
        Lanes.run(outputBlocks[l].count, task: self)
    }

    // MARK: - Loading and storing

    /// Copies the samples `indices` of `inputs` (N x n_0) and `targets` (N x n_L) into the
    /// minibatch buffers.
    func loadRows(_ indices: UnsafeBufferPointer<Int>, inputs: UnsafePointer<Float>, targets: UnsafePointer<Float>) {
        precondition(indices.count <= capacity, "loadRows: \(indices.count) rows for a capacity of \(capacity)")
        let n0 = sizes[0], nL = sizes[layerCount]
        for (row, index) in indices.enumerated() {
            (input.pointer + row * n0).update(from: inputs + index * n0, count: n0)
            (target.pointer + row * nL).update(from: targets + index * nL, count: nL)
        }
    }

    /// Copies the parameters back into `network` (same architecture).
    func store(into network: inout Network) {
        for l in 0..<layerCount {
            network.layers[l].weight.elements = weights[l].array
            network.layers[l].bias = biases[l].array
            if l < network.batchNorm.count {
                network.batchNorm[l] = BatchNormalization(gamma: gammas[l].array, runningMean: runningMeans[l].array,
                                                          runningVariance: runningVariances[l].array)
            }
        }
    }

    /// Whether every weight and bias is finite.
    var parametersAreFinite: Bool {
        weights.allSatisfy(\.isFinite) && biases.allSatisfy(\.isFinite) && gammas.allSatisfy(\.isFinite)
    }
}

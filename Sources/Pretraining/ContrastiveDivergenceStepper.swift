import Linalg

/// Contrastive-divergence training one minibatch at a time: the engine of `RBM.train`, for
/// callers that drive the loop themselves (benchmarks, custom schedules, online data).
///
/// All buffers (parameters, velocities, the minibatch's visible and hidden stacks, the lanes'
/// generators) are allocated once by `init`; `step` copies the minibatch's rows in and updates
/// the parameters in place without allocating. The update is `RBM.train`'s, bit for bit (see
/// `RBMTrainingConfiguration` for the recipe): one epoch of `train` is
///
///     _ = generator.split()                       // train's monitor generator
///     let stepper = try ContrastiveDivergenceStepper(rbm: rbm, configuration: c,
///                                                    batchSize: min(c.batchSize, n), generator: &generator)
///     var order = Array(0..<n); generator.shuffle(&order)
///     stepper.setEpoch(e)                         // k and the rate of epoch e (growCDSteps)
///     for each minibatch `order[first..<last]` of epoch e:
///         stepper.step(on: data, rows: order[first..<last], momentum: c.momentum(forEpoch: e),
///                      nextMomentum: last < n ? c.momentum(forEpoch: e) : c.momentum(forEpoch: e + 1))
///
/// Threads: with `lanes > 1` each step splits its work into lanes that call single-threaded
/// BLAS side by side. `step` sets the OpenBLAS thread count to 1 for the call and restores it
/// afterwards when it is not 1 already (two `openblas_set_num_threads` calls, far below a
/// microsecond each; call `BLASThreads.set(1)` around a loop of steps to skip them).
///
/// Not thread-safe: one caller at a time. Results depend on the lane count (each lane samples
/// from its own generator), never on thread scheduling.
public final class ContrastiveDivergenceStepper {
    private let workspace: CDWorkspace
    /// The RBM the stepper was made from; `rbm` and `store(into:)` copy the parameters into it.
    private let template: RBM
    /// The training hyper-parameters (`epochs`, `batchSize` and `seed` are not used by `step`).
    public let configuration: RBMTrainingConfiguration

    /// A stepper for `rbm` with the update rule of `configuration`, for minibatches of at most
    /// `batchSize` rows (default `configuration.batchSize`) split into `lanes` lanes (default:
    /// the BLAS thread count, or 1 for RBMs with fewer than 32,768 weights; at most
    /// min(visible, hidden)). The lanes' generators are split off `generator`; the velocities
    /// start at zero.
    ///
    /// Throws `PretrainingError.invalidConfiguration` for a bad configuration or batch size.
    public init(rbm: RBM, configuration: RBMTrainingConfiguration, batchSize: Int? = nil, lanes: Int? = nil,
                generator: inout Xoshiro256StarStar) throws {
        try configuration.validate()
        let batchSize = batchSize ?? configuration.batchSize
        guard batchSize >= 1 else {
            throw PretrainingError.invalidConfiguration("batchSize must be >= 1, got \(batchSize)")
        }
        if let lanes, lanes < 1 { throw PretrainingError.invalidConfiguration("lanes must be >= 1, got \(lanes)") }
        let laneCount = CDWorkspace.laneCount(requested: lanes, visibleCount: rbm.visibleCount,
                                              hiddenCount: rbm.hiddenCount)
        workspace = CDWorkspace(rbm: rbm, configuration: configuration, batchSize: batchSize, lanes: laneCount,
                                generator: &generator)
        template = rbm
        self.configuration = configuration
    }

    /// Uses the learning rate and k of CD-k of `epoch` (0-based) from here on: they change
    /// from epoch to epoch only with `configuration.growCDSteps` (a new stepper starts at
    /// epoch 0's).
    public func setEpoch(_ epoch: Int) {
        workspace.setEpoch(epoch, of: configuration)
    }

    /// The number of visible units V (the columns of the data).
    public var visibleCount: Int { workspace.visibleCount }
    /// The number of hidden units H.
    public var hiddenCount: Int { workspace.hiddenCount }
    /// The largest minibatch `step` accepts.
    public var batchSize: Int { workspace.batchSize }
    /// The number of lanes a step's work is split into.
    public var lanes: Int { workspace.lanes }

    /// One CD-k (or PCD) update on the rows `rows` (1 ... `batchSize` of them) of `data`,
    /// row-major with `visibleCount` columns (only read; indices are not checked). Allocates
    /// nothing. Returns the summed squared reconstruction error of the minibatch (before the
    /// update): the sum over rows and pixels of (v0 - E[v | h])^2 with h ~ p(h | v0).
    ///
    /// `momentum` is the momentum of this update; `nextMomentum` (default: the same) that of
    /// the following one: the weight velocity is kept pre-multiplied by it, so pass the next
    /// epoch's momentum on the last minibatch before a momentum switch, as `RBM.train` does.
    @discardableResult
    public func step(data: UnsafePointer<Float>, rows: UnsafeBufferPointer<Int>, momentum: Float,
                     nextMomentum: Float? = nil) -> Double {
        precondition(rows.count >= 1 && rows.count <= batchSize,
                     "ContrastiveDivergenceStepper.step: \(rows.count) rows for a batch size of \(batchSize)")
        return Lanes.withSingleThreadedBLAS {
            workspace.step(data: data, rows: rows, momentum: momentum, nextMomentum: nextMomentum ?? momentum)
        }
    }

    /// `step` on the rows `rows` of `data` (shape (n, visibleCount)); the indices are checked.
    /// Allocates nothing.
    @discardableResult
    public func step(on data: Matrix, rows: ArraySlice<Int>, momentum: Float, nextMomentum: Float? = nil) -> Double {
        precondition(data.columns == visibleCount,
                     "ContrastiveDivergenceStepper.step: data has \(data.columns) columns, the RBM \(visibleCount)")
        return rows.withUnsafeBufferPointer { indices in
            for index in indices {
                precondition(index >= 0 && index < data.rows, "ContrastiveDivergenceStepper.step: row \(index) of \(data.rows)")
            }
            return data.elements.withUnsafeBufferPointer { elements in
                step(data: elements.baseAddress!, rows: indices, momentum: momentum, nextMomentum: nextMomentum)
            }
        }
    }

    /// Whether every weight and bias is finite (false once training has diverged).
    public var parametersAreFinite: Bool { workspace.parametersAreFinite }

    /// The RBM with the current parameters (a new copy; allocates).
    public var rbm: RBM {
        var rbm = template
        workspace.store(into: &rbm)
        return rbm
    }

    /// Copies the current parameters into `rbm`, which must have the stepper's shape (no
    /// allocation when `rbm`'s storage is not shared).
    public func store(into rbm: inout RBM) {
        precondition(rbm.visibleCount == visibleCount && rbm.hiddenCount == hiddenCount,
                     "ContrastiveDivergenceStepper.store: \(rbm.visibleCount)x\(rbm.hiddenCount) RBM for a "
                     + "\(visibleCount)x\(hiddenCount) stepper")
        workspace.store(into: &rbm)
    }
}

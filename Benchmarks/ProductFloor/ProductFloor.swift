import DeepBelief

/// The matrix products of a benchmark epoch alone, with no elementwise work in between: the
/// floor that BLAS sets under `dbn bench`'s times. Each product has the shape, transposes and
/// lane split of the training code (CDWorkspace, TrainingState); the buffers hold constant
/// small values (no denormals), and the results are discarded.
enum ProductFloor {
    /// Seconds for the products of one CD-1 epoch of a visible x hidden RBM over `images`
    /// images in minibatches of `batch`, in `lanes` lanes (1: one call per product, threaded
    /// by OpenBLAS): v0 W, h W^T, v1 W and [v0; v1]^T [h0; -h1] per minibatch.
    static func cd1(images: Int, visible nv: Int, hidden nh: Int, batch b: Int, lanes: Int) -> Double {
        let visibleStack = constant(2 * b * nv, 0.5), hiddenStack = constant(2 * b * nh, 0.5)
        let weight = constant(nv * nh, 0.01), velocity = constant(nv * nh, 0)
        defer { for p in [visibleStack, hiddenStack, weight, velocity] { p.deallocate() } }
        let hiddenBlocks = Lanes.blocks(of: nh, count: lanes, aligned: false)
        let visibleBlocks = Lanes.blocks(of: nv, count: lanes, aligned: false)
        let v1 = visibleStack + b * nv, h1 = hiddenStack + b * nh
        return timed(lanes: lanes) {
            for _ in 0..<(images / b) {
                Lanes.run(lanes) { lane in
                    let hr = hiddenBlocks[lane]
                    // h0[:, hr] = v0 W[:, hr] : (b, V) * (V, |hr|)
                    sgemm(.none, .none, m: b, n: hr.count, k: nv, alpha: 1, a: visibleStack, lda: nv,
                          b: weight + hr.lowerBound, ldb: nh, beta: 0, c: hiddenStack + hr.lowerBound, ldc: nh)
                }
                Lanes.run(lanes) { lane in
                    let vr = visibleBlocks[lane]
                    // v1[:, vr] = h W[vr, :]^T : (b, H) * (H, |vr|)
                    sgemm(.none, .transposed, m: b, n: vr.count, k: nh, alpha: 1, a: hiddenStack, lda: nh,
                          b: weight + vr.lowerBound * nh, ldb: nh, beta: 0, c: v1 + vr.lowerBound, ldc: nv)
                }
                Lanes.run(lanes) { lane in
                    let hr = hiddenBlocks[lane]
                    // h1[:, hr] = v1 W[:, hr] : (b, V) * (V, |hr|)
                    sgemm(.none, .none, m: b, n: hr.count, k: nv, alpha: 1, a: v1, lda: nv,
                          b: weight + hr.lowerBound, ldb: nh, beta: 0, c: h1 + hr.lowerBound, ldc: nh)
                    // dW[:, hr] += [v0; v1]^T [h0; -h1][:, hr] : (V, 2b) * (2b, |hr|)
                    sgemm(.transposed, .none, m: nv, n: hr.count, k: 2 * b, alpha: 1e-6, a: visibleStack, lda: nv,
                          b: hiddenStack + hr.lowerBound, ldb: nh, beta: 1, c: velocity + hr.lowerBound, ldc: nh)
                }
            }
        }
    }

    /// Seconds for the products of one fine-tuning epoch of a network with layer `sizes` over
    /// `images` images: per layer X W forward; from the top, delta W^T (all but the first
    /// layer) and the velocity's X^T delta, split in lanes as `TrainingState.step` splits them.
    static func finetune(images: Int, sizes: [Int], batch b: Int, lanes: Int) -> Double {
        let layers = sizes.count - 1
        let weights = (0..<layers).map { constant(sizes[$0] * sizes[$0 + 1], 0.01) }
        let velocities = (0..<layers).map { constant(sizes[$0] * sizes[$0 + 1], 0) }
        let outputs = (0...layers).map { constant(b * sizes[$0], 0.5) }  // outputs[0] is the input
        let deltas = (0...layers).map { constant(b * sizes[$0], 0.01) }
        defer { for p in weights + velocities + outputs + deltas { p.deallocate() } }
        let outputBlocks = (0..<layers).map { Lanes.blocks(of: sizes[$0 + 1], count: lanes) }
        let inputBlocks = (0..<layers).map { Lanes.blocks(of: sizes[$0], count: lanes) }
        return timed(lanes: lanes) {
            for _ in 0..<(images / b) {
                for l in 0..<layers {
                    let fanIn = sizes[l], fanOut = sizes[l + 1]
                    Lanes.run(l == layers - 1 ? 1 : lanes) { lane in
                        let block = l == layers - 1 ? 0..<fanOut : outputBlocks[l][lane]
                        // Y_l[:, block] = X_l W_l[:, block] : (b, fanIn) * (fanIn, |block|)
                        sgemm(.none, .none, m: b, n: block.count, k: fanIn, alpha: 1, a: outputs[l], lda: fanIn,
                              b: weights[l] + block.lowerBound, ldb: fanOut, beta: 0,
                              c: outputs[l + 1] + block.lowerBound, ldc: fanOut)
                    }
                }
                for l in stride(from: layers - 1, through: 0, by: -1) {
                    let fanIn = sizes[l], fanOut = sizes[l + 1]
                    Lanes.run(lanes) { lane in
                        let block = inputBlocks[l][lane], lo = block.lowerBound
                        if l > 0 {
                            // delta_{l-1}[:, block] = delta_l W_l[block, :]^T : (b, fanOut) * (fanOut, |block|)
                            sgemm(.none, .transposed, m: b, n: block.count, k: fanOut, alpha: 1, a: deltas[l + 1],
                                  lda: fanOut, b: weights[l] + lo * fanOut, ldb: fanOut, beta: 0, c: deltas[l] + lo,
                                  ldc: fanIn)
                        }
                        // V_l[block, :] = 0.9 V_l[block, :] - X_l[:, block]^T delta_l : (|block|, b) * (b, fanOut)
                        sgemm(.transposed, .none, m: block.count, n: fanOut, k: b, alpha: -1e-6, a: outputs[l] + lo,
                              lda: fanIn, b: deltas[l + 1], ldb: fanOut, beta: 0.9, c: velocities[l] + lo * fanOut,
                              ldc: fanOut)
                    }
                }
            }
        }
    }

    private static func constant(_ count: Int, _ value: Float) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        p.initialize(repeating: value, count: max(count, 1))
        return p
    }

    /// Runs `body` once (single-threaded BLAS when lanes > 1) and returns its seconds.
    private static func timed(lanes: Int, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        Lanes.withSingleThreadedBLAS(body)
        let (s, attoseconds) = (clock.now - start).components
        return Double(s) + Double(attoseconds) * 1e-18
    }
}

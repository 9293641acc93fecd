import CKernels

/// What a random draw is for. Folded into the key of a `RandomStream`, so that draws made for
/// different purposes (or layers, or Gibbs steps) never share bits.
public enum RandomPurpose: Sendable, Hashable {
    /// Initial weights of layer `layer` (an RBM of a stack, or a layer of a network).
    case initialization(layer: Int)
    /// The minibatch order of an epoch (`layer`: the RBM of a stack; -1 for fine-tuning, -2 for
    /// up-down fine-tuning).
    case shuffle(layer: Int)
    /// A fresh binary sample of the training minibatch (resampled binarisation).
    case dataSample(layer: Int)
    /// Hidden states sampled at Gibbs step `step` (0: the positive phase).
    case hiddenSample(layer: Int, step: Int)
    /// Visible states sampled at Gibbs step `step` (1-based).
    case visibleSample(layer: Int, step: Int)
    /// Dropout masks of the input of layer `layer` (0: the network's input).
    case dropout(layer: Int)
    /// The held-out validation rows.
    case validationSplit
    /// The stochastic binarisation of data set `set` (0: training, 1: test, 2: validation...).
    case binarization(set: Int)
    /// A monitor's draws (held-out subsets, AIS chains).
    case monitor(layer: Int)
    /// Up-down fine-tuning (contrastive wake-sleep): the states of layer `layer` sampled in the
    /// wake (bottom-up) pass.
    case wakeSample(layer: Int)
    /// Up-down fine-tuning: the states of layer `layer` sampled in the sleep (top-down) pass.
    case sleepSample(layer: Int)
    /// The Gibbs chains of generation and label settling (`GibbsChains`: `dbn sample`,
    /// `dbn dream`) in RBM `layer` at step `step` (hidden states: `hidden` true; visible: false).
    case gibbsChain(layer: Int, step: Int, hidden: Bool)
    /// The uniforms that accept or reject the replica swaps of parallel tempering after Gibbs
    /// step `step` (row: the minibatch row, unit: the lower chain of the pair).
    case temperingSwap(layer: Int, step: Int)
    /// Hidden states of tempered chain `chain` sampled at Gibbs step `step` (parallel tempering).
    case temperedHiddenSample(layer: Int, chain: Int, step: Int)
    /// Visible states of tempered chain `chain` sampled at Gibbs step `step`.
    case temperedVisibleSample(layer: Int, chain: Int, step: Int)
    /// The paired bootstrap of a comparison (`Statistics.pairedBootstrap`): the seeds and test
    /// samples drawn with replacement by resample `step` (the stream's step).
    case bootstrap
    /// Anything else: two numbers chosen by the caller.
    case other(UInt32, UInt32)

    /// The purpose as three words (kind, and two indices).
    @usableFromInline var words: (UInt32, UInt32, UInt32) {
        func w(_ x: Int) -> UInt32 { UInt32(truncatingIfNeeded: x) }
        switch self {
        case .initialization(let l): return (1, w(l), 0)
        case .shuffle(let l): return (2, w(l), 0)
        case .dataSample(let l): return (3, w(l), 0)
        case .hiddenSample(let l, let s): return (4, w(l), w(s))
        case .visibleSample(let l, let s): return (5, w(l), w(s))
        case .dropout(let l): return (6, w(l), 0)
        case .validationSplit: return (7, 0, 0)
        case .binarization(let s): return (8, w(s), 0)
        case .monitor(let l): return (9, w(l), 0)
        case .other(let a, let b): return (10, a, b)
        case .wakeSample(let l): return (11, w(l), 0)
        case .sleepSample(let l): return (12, w(l), 0)
        case .temperingSwap(let l, let s): return (14, w(l), w(s))
        case .temperedHiddenSample(let l, let c, let s): return (15, w(l), w(c) << 20 | (w(s) & 0xF_FFFF))
        case .temperedVisibleSample(let l, let c, let s): return (16, w(l), w(c) << 20 | (w(s) & 0xF_FFFF))
        case .bootstrap: return (17, 0, 0)
        case .gibbsChain(let l, let s, let hidden): return (18, w(l), w(s) << 1 | (hidden ? 1 : 0))
        }
    }
}

/// A stream of random draws keyed by what they are for, not by who computes them: the draw
/// for unit `unit` of row `row` is a pure function of (seed, purpose, epoch, step, row, unit),
/// computed by Philox4x32-10 from the counter (unit group, row, step, epoch) under a key
/// derived from (seed, purpose). Work split into lanes, threads or processes in any way draws
/// exactly the same numbers, so results do not depend on the split.
///
/// Units map to Philox outputs in groups of 32: unit u = 32 G + 8 i + j takes word i of the
/// block for counter word c0 = 8 G + j, so eight consecutive units are one vector lane-wise.
public struct RandomStream: Sendable, Hashable {
    public let key0: UInt32, key1: UInt32
    public let step: UInt32, epoch: UInt32
    /// Added to every row index (see `offset(rows:)`); 0 for a new stream.
    public private(set) var firstRow: UInt32 = 0

    /// The stream for `purpose` in minibatch `step` of `epoch` of the run seeded with `seed`.
    public init(seed: UInt64, purpose: RandomPurpose, epoch: Int = 0, step: Int = 0) {
        let (kind, a, b) = purpose.words
        func mix(_ x: UInt64) -> UInt64 { var m = SplitMix64(seed: x); return m.next() }
        let key = mix(mix(mix(seed) ^ (UInt64(kind) << 32 | UInt64(a))) ^ UInt64(b))
        key0 = UInt32(truncatingIfNeeded: key)
        key1 = UInt32(truncatingIfNeeded: key >> 32)
        self.step = UInt32(truncatingIfNeeded: step)
        self.epoch = UInt32(truncatingIfNeeded: epoch)
    }

    /// The 32 random bits of `unit` in row `row` (the scalar reference of the bulk draws).
    @inlinable
    public func bits(row: Int, unit: Int) -> UInt32 {
        let group = UInt32(truncatingIfNeeded: unit >> 5), within = unit & 31
        let c0 = group &* 8 &+ UInt32(within & 7)
        let out = Philox.block(counter: (c0, UInt32(truncatingIfNeeded: row) &+ firstRow, step, epoch), key: (key0, key1))
        switch within >> 3 {
        case 0: return out.0
        case 1: return out.1
        case 2: return out.2
        default: return out.3
        }
    }

    /// A uniform draw in [0, 1) with 24 random bits, for `unit` of `row`.
    @inlinable
    public func uniform(row: Int, unit: Int) -> Float { Float(bits(row: row, unit: unit) >> 8) * 0x1p-24 }

    /// The stream whose bits are independent of this one's (the second uniform of Box-Muller).
    @inlinable
    var companion: RandomStream {
        RandomStream(key0: key0 ^ 0x5BD1_E995, key1: key1 ^ 0x2545_F491, step: step, epoch: epoch, firstRow: firstRow)
    }

    /// The same stream with row r of the caller meaning row `rows + r` of this one: a process
    /// that holds the rows `rows ..< rows + k` of a minibatch (a rank of data-parallel
    /// training) numbers them from 0 and draws exactly what the whole minibatch would.
    public func offset(rows: Int) -> RandomStream {
        var s = self
        s.firstRow = firstRow &+ UInt32(truncatingIfNeeded: rows)
        return s
    }

    @usableFromInline
    init(key0: UInt32, key1: UInt32, step: UInt32, epoch: UInt32, firstRow: UInt32 = 0) {
        self.key0 = key0; self.key1 = key1; self.step = step; self.epoch = epoch; self.firstRow = firstRow
    }

    /// A standard normal draw for `unit` of `row` (Box-Muller in double precision from this
    /// stream's uniform and its companion's).
    @inlinable
    public func normal(row: Int, unit: Int) -> Float {
        let u1 = 1 - Double(bits(row: row, unit: unit) >> 8) * 0x1p-24  // (0, 1]
        let u2 = Double(companion.bits(row: row, unit: unit) >> 8) * 0x1p-24
        return boxMuller(u1, u2).0
    }

    /// A sequential generator seeded from this stream (for draws that one thread makes in
    /// order: shuffles, initial weights, subsets).
    public func generator() -> Xoshiro256StarStar {
        let out = Philox.block(counter: (0xFFFF_FFFF, 0xFFFF_FFFF, step, epoch), key: (key0, key1))
        let high = UInt64(out.0) << 32 | UInt64(out.1), low = UInt64(out.2) << 32 | UInt64(out.3)
        return Xoshiro256StarStar(seed: high ^ (low << 29 | low >> 35))
    }

    /// `values` in a random order: a Fisher-Yates shuffle with this stream's sequential
    /// generator (the minibatch order of an epoch, a held-out subset).
    public func shuffled(_ values: [Int]) -> [Int] {
        var values = values
        var generator = self.generator()
        generator.shuffle(&values)
        return values
    }

    // MARK: - Bulk draws

    /// The random bits of the 32 units 32 `group` ..< 32 `group` + 32 of `row`: word i, lane j
    /// belongs to unit 32 group + 8 i + j (one Philox block per lane).
    /// Computed by the C kernel `dbn_philox_group` (AVX2 where the CPU has it, else portable C:
    /// integer code, the same bits either way; `Philox.block` is the reference in the tests).
    @inlinable @inline(__always)
    public func group(_ group: Int, row: Int) -> (SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>) {
        var words = (SIMD8<UInt32>(), SIMD8<UInt32>(), SIMD8<UInt32>(), SIMD8<UInt32>())
        withUnsafeMutableBytes(of: &words) { raw in
            dbn_philox_group(UInt32(truncatingIfNeeded: group), UInt32(truncatingIfNeeded: row) &+ firstRow, step, epoch, key0, key1,
                             raw.baseAddress!.assumingMemoryBound(to: UInt32.self))
        }
        return words
    }

    /// Uniforms in [0, 1) with 24 random bits from 32 random bits (the same as `uniform`); the
    /// signed conversion is one instruction on every x86-64, the unsigned one is not.
    @inlinable @inline(__always)
    public static func uniforms(_ bits: SIMD8<UInt32>) -> SIMD8<Float> {
        SIMD8<Float>(SIMD8<Int32>(truncatingIfNeeded: bits &>> 8)) * 0x1p-24
    }

    /// Calls `body(first, u)` with the uniforms of the units `units` of `row`, eight at a time:
    /// `u[j]` belongs to unit `first + j`; lanes outside `units` hold uniforms too and must be
    /// ignored (the caller masks the first and last chunk).
    @inlinable @inline(__always)
    public func forEachChunk(row: Int, units: Range<Int>, _ body: (Int, SIMD8<Float>) -> Void) {
        guard !units.isEmpty else { return }
        for g in (units.lowerBound >> 5)...((units.upperBound - 1) >> 5) {
            let (w0, w1, w2, w3) = group(g, row: row)
            let base = g << 5
            if base + 8 > units.lowerBound && base < units.upperBound { body(base, RandomStream.uniforms(w0)) }
            if base + 16 > units.lowerBound && base + 8 < units.upperBound { body(base + 8, RandomStream.uniforms(w1)) }
            if base + 24 > units.lowerBound && base + 16 < units.upperBound { body(base + 16, RandomStream.uniforms(w2)) }
            if base + 32 > units.lowerBound && base + 24 < units.upperBound { body(base + 24, RandomStream.uniforms(w3)) }
        }
    }

    /// `out[u - units.lowerBound]` = 1 with probability `p[u - units.lowerBound]`, else 0, for
    /// the units `units` of `row` (a draw u < p with 24-bit uniforms, as `uniform`).
    @inlinable
    public func sampleBernoulli(row: Int, units: Range<Int>, probabilities p: UnsafePointer<Float>,
                                into out: UnsafeMutablePointer<Float>) {
        let lo = units.lowerBound, hi = units.upperBound
        forEachChunk(row: row, units: units) { first, u in
            if first >= lo && first + 8 <= hi {
                store8(SIMD8<Float>.zero.replacing(with: 1, where: u .< load8(p + (first - lo))), out + (first - lo))
            } else {
                for j in 0..<8 where first + j >= lo && first + j < hi {
                    out[first + j - lo] = u[j] < p[first + j - lo] ? 1 : 0
                }
            }
        }
    }

    /// `out[u - units.lowerBound]` = a uniform draw in [0, 1) for the units `units` of `row`.
    @inlinable
    public func fillUniform(row: Int, units: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let lo = units.lowerBound, hi = units.upperBound
        forEachChunk(row: row, units: units) { first, u in
            if first >= lo && first + 8 <= hi {
                store8(u, out + (first - lo))
            } else {
                for j in 0..<8 where first + j >= lo && first + j < hi { out[first + j - lo] = u[j] }
            }
        }
    }

    /// `out[u - units.lowerBound]` = a standard normal draw (as `normal`) for the units `units`.
    public func fillNormal(row: Int, units: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        for u in units { out[u - units.lowerBound] = normal(row: row, unit: u) }
    }
}

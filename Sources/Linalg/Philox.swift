/// Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers: as easy as
/// 1, 2, 3"): a counter-based generator. The output for a 128-bit counter under a 64-bit key
/// is a pure function of the two: ten rounds of two 32 x 32 -> 64-bit multiplications, with
/// the key bumped by Weyl constants between rounds. It passes TestU01's BigCrush and is the
/// generator behind cuRAND's, NumPy's and JAX's counter-based streams.
///
/// Checked against the known-answer vectors of the Random123 distribution (`tests/kat_vectors`).
public enum Philox {
    public static let multiplier0: UInt32 = 0xD251_1F53
    public static let multiplier1: UInt32 = 0xCD9E_8D57
    public static let weyl0: UInt32 = 0x9E37_79B9
    public static let weyl1: UInt32 = 0xBB67_AE85

    /// The four output words for `counter` under `key` (the scalar reference).
    @inlinable
    public static func block(counter: (UInt32, UInt32, UInt32, UInt32), key: (UInt32, UInt32))
        -> (UInt32, UInt32, UInt32, UInt32) {
        var (x0, x1, x2, x3) = counter
        var (k0, k1) = key
        for round in 0..<10 {
            if round > 0 { k0 &+= weyl0; k1 &+= weyl1 }
            let p0 = UInt64(multiplier0) &* UInt64(x0)
            let p1 = UInt64(multiplier1) &* UInt64(x2)
            (x0, x1, x2, x3) = (UInt32(truncatingIfNeeded: p1 >> 32) ^ x1 ^ k0, UInt32(truncatingIfNeeded: p1),
                                UInt32(truncatingIfNeeded: p0 >> 32) ^ x3 ^ k1, UInt32(truncatingIfNeeded: p0))
        }
        return (x0, x1, x2, x3)
    }

    /// `block` for eight counters at once that differ only in their first word `c0` (the
    /// others and the key are shared): lane j of result word i is word i of the block for
    /// counter (c0[j], c1, c2, c3). The same bits as `block`, lane by lane.
    @inlinable @inline(__always)
    public static func block8(c0: SIMD8<UInt32>, c1: UInt32, c2: UInt32, c3: UInt32, key: (UInt32, UInt32))
        -> (SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>, SIMD8<UInt32>) {
        var x0 = c0
        var x1 = SIMD8<UInt32>(repeating: c1), x2 = SIMD8<UInt32>(repeating: c2), x3 = SIMD8<UInt32>(repeating: c3)
        var (k0, k1) = key
        let m0 = SIMD8<UInt64>(repeating: UInt64(multiplier0)), m1 = SIMD8<UInt64>(repeating: UInt64(multiplier1))
        for round in 0..<10 {
            if round > 0 { k0 &+= weyl0; k1 &+= weyl1 }
            let p0 = m0 &* SIMD8<UInt64>(truncatingIfNeeded: x0)
            let p1 = m1 &* SIMD8<UInt64>(truncatingIfNeeded: x2)
            let hi0 = SIMD8<UInt32>(truncatingIfNeeded: p0 &>> 32), lo0 = SIMD8<UInt32>(truncatingIfNeeded: p0)
            let hi1 = SIMD8<UInt32>(truncatingIfNeeded: p1 &>> 32), lo1 = SIMD8<UInt32>(truncatingIfNeeded: p1)
            x0 = hi1 ^ x1 ^ k0
            x1 = lo1
            x2 = hi0 ^ x3 ^ k1
            x3 = lo0
        }
        return (x0, x1, x2, x3)
    }
}

/// Philox4x32-10 (Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers: as easy as
/// 1, 2, 3"): a counter-based generator. The output for a 128-bit counter under a 64-bit key
/// is a pure function of the two: ten rounds of two 32 x 32 -> 64-bit multiplications, with
/// the key bumped by Weyl constants between rounds. It passes TestU01's BigCrush and is the
/// generator behind cuRAND's, NumPy's and JAX's counter-based streams.
///
/// Checked against the known-answer vectors of the Random123 distribution (`tests/kat_vectors`).
/// This scalar form is the reference; the bulk draws use the C kernel `dbn_philox_group` (eight
/// counters at once, AVX2 where available), tested to give the same bits.
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
}

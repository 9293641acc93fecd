/// SplitMix64 (Steele, Lea & Flood 2014): expands one 64-bit seed into well-mixed words.
/// Used to seed `Xoshiro256StarStar`.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    @inlinable public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman & Vigna 2018): the project's generator. Fast, 256 bits of state,
/// seeded through SplitMix64 so that every seed (0 included) gives a good state.
///
/// Randomness is always passed in explicitly (`inout`); nothing in the library uses a global
/// or system generator.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable, Equatable {
    public var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// A generator seeded from `seed` through SplitMix64.
    public init(seed: UInt64) {
        var mix = SplitMix64(seed: seed)
        s0 = mix.next(); s1 = mix.next(); s2 = mix.next(); s3 = mix.next()
    }

    /// A generator with an explicit state (e.g. restored from a checkpoint). Must not be all zero.
    public init(state: (UInt64, UInt64, UInt64, UInt64)) {
        precondition(state != (0, 0, 0, 0), "xoshiro256**: all-zero state")
        (s0, s1, s2, s3) = state
    }

    /// The state as four words (for checkpoints).
    public var state: [UInt64] { [s0, s1, s2, s3] }

    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A uniform `Float` in [0, 1) with 24 random bits.
    @inlinable @inline(__always)
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// A uniform `Double` in [0, 1) with 53 random bits.
    @inlinable @inline(__always)
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// 1 with probability `p`, else 0 (a 24-bit uniform u < p).
    @inlinable @inline(__always)
    public mutating func bernoulli(_ p: Float) -> Float { nextFloat() < p ? 1 : 0 }

    /// A standard normal draw (Box-Muller in double precision; one value per call).
    @inlinable
    public mutating func nextNormal() -> Float {
        let u1 = 1 - nextDouble()  // (0, 1]
        return boxMuller(u1, nextDouble()).0
    }

    /// A new generator whose stream is independent of this one (seeded from this one's output),
    /// for giving each component its own stream.
    public mutating func split() -> Xoshiro256StarStar {
        Xoshiro256StarStar(seed: next())
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.s0 == b.s0 && a.s1 == b.s1 && a.s2 == b.s2 && a.s3 == b.s3
    }
}

// MARK: - Bulk draws

extension Xoshiro256StarStar {
    /// Fills `buffer` with uniform draws from [low, high).
    public mutating func fillUniform(_ buffer: inout [Float], low: Float = 0, high: Float = 1) {
        let width = high - low
        buffer.withUnsafeMutableBufferPointer { b in
            for i in b.indices { b[i] = low + width * nextFloat() }
        }
    }

    /// Fills `buffer` with normal draws of the given mean and standard deviation
    /// (Box-Muller, both values of each pair used).
    public mutating func fillNormal(_ buffer: inout [Float], mean: Float = 0, standardDeviation: Float = 1) {
        buffer.withUnsafeMutableBufferPointer { b in
            var i = 0
            while i < b.count {
                let u1 = 1 - nextDouble()
                let (z0, z1) = boxMuller(u1, nextDouble())
                b[i] = mean + standardDeviation * z0
                if i + 1 < b.count { b[i + 1] = mean + standardDeviation * z1 }
                i += 2
            }
        }
    }

    /// A random permutation of 0..<n (Fisher-Yates), written into `indices`.
    public mutating func shuffle(_ indices: inout [Int]) {
        guard indices.count > 1 else { return }
        for i in stride(from: indices.count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            indices.swapAt(i, j)
        }
    }
}

extension Matrix {
    /// A matrix of normal draws.
    public static func normal(rows: Int, columns: Int, mean: Float = 0, standardDeviation: Float = 1,
                              using generator: inout Xoshiro256StarStar) -> Matrix {
        var m = Matrix(rows: rows, columns: columns)
        generator.fillNormal(&m.elements, mean: mean, standardDeviation: standardDeviation)
        return m
    }

    /// A matrix of uniform draws from [low, high).
    public static func uniform(rows: Int, columns: Int, low: Float = 0, high: Float = 1,
                               using generator: inout Xoshiro256StarStar) -> Matrix {
        var m = Matrix(rows: rows, columns: columns)
        generator.fillUniform(&m.elements, low: low, high: high)
        return m
    }
}

/// Two independent standard normal draws from uniforms u1 in (0, 1] and u2 in [0, 1) (Box &
/// Muller 1958), in double precision: r = sqrt(-2 ln u1), (r cos 2 pi u2, r sin 2 pi u2).
@inlinable
public func boxMuller(_ u1: Double, _ u2: Double) -> (Float, Float) {
    let radius = (-2 * Libm.log(u1)).squareRoot(), angle = 2 * Double.pi * u2
    return (Float(radius * Libm.cos(angle)), Float(radius * Libm.sin(angle)))
}

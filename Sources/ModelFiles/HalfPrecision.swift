/// Conversions between `Float` and the narrow float formats, done on bit patterns so that they
/// behave the same on every platform (Swift's `Float16` is missing on some).
enum HalfPrecision {
    /// The `Float` value of IEEE half-precision bits (exact: every half is a float).
    static func float(fromHalf h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x03FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa * 2^-24, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 31:
            // Infinity (mantissa 0) or NaN (payload kept in the top mantissa bits).
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
        }
    }

    /// IEEE half-precision bits of `value`, rounded to nearest, ties to even. Values of
    /// magnitude 65520 and above become infinities; NaN stays NaN (quiet).
    static func halfBits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let floatExponent = Int((bits >> 23) & 0xFF)
        let floatMantissa = bits & 0x007F_FFFF
        if floatExponent == 0xFF {
            // Infinity or NaN; a NaN keeps its top payload bits and gets the quiet bit.
            if floatMantissa == 0 { return sign | 0x7C00 }
            return sign | 0x7E00 | UInt16(truncatingIfNeeded: floatMantissa >> 13)
        }
        let exponent = floatExponent - 127 + 15  // the biased half exponent
        if exponent >= 31 { return sign | 0x7C00 }
        if exponent <= 0 {
            // A half subnormal (or zero): the significand with its implicit bit, shifted.
            // Float subnormals (floatExponent 0) are far below half's range and give zero.
            if floatExponent == 0 { return sign }
            let significand = floatMantissa | 0x0080_0000
            let shift = 14 - exponent  // 14 ... : the value is significand * 2^-(shift + 10)
            if shift > 24 { return sign }  // below half the smallest subnormal: rounds to 0
            return sign | UInt16(truncatingIfNeeded: roundShift(significand, by: shift))
        }
        // Normal: keep 10 mantissa bits; a rounding carry may move into the exponent, which
        // is exactly right (and turns 65520... into infinity).
        let combined = UInt32(exponent) << 23 | floatMantissa
        return sign | UInt16(truncatingIfNeeded: roundShift(combined, by: 13))
    }

    /// `value >> shift`, rounded to nearest, ties to even (shift in 1...31).
    private static func roundShift(_ value: UInt32, by shift: Int) -> UInt32 {
        let kept = value >> UInt32(shift)
        let remainder = value & ((1 << UInt32(shift)) - 1)
        let half: UInt32 = 1 << UInt32(shift - 1)
        if remainder > half || (remainder == half && kept & 1 == 1) { return kept + 1 }
        return kept
    }

    /// The `Float` value of bfloat16 bits (exact).
    static func float(fromBFloat16 b: UInt16) -> Float {
        Float(bitPattern: UInt32(b) << 16)
    }

    /// bfloat16 bits of `value`, rounded to nearest, ties to even; NaN stays NaN (quiet).
    static func bfloat16Bits(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// The value of an `F8_E5M2` byte: the top byte of a half.
    static func float(fromF8E5M2 b: UInt8) -> Float {
        float(fromHalf: UInt16(b) << 8)
    }

    /// The value of an `F8_E4M3` ("fn": no infinities) byte.
    static func float(fromF8E4M3 b: UInt8) -> Float {
        let negative = b & 0x80 != 0
        let exponent = Int((b >> 3) & 0x0F)
        let mantissa = Int(b & 0x07)
        let magnitude: Float
        if exponent == 15 && mantissa == 7 {
            magnitude = .nan
        } else if exponent == 0 {
            magnitude = Float(mantissa) * 0x1p-9  // subnormal: m/8 * 2^(1-7)
        } else {
            magnitude = Float(8 + mantissa) * Float(sign: .plus, exponent: exponent - 10, significand: 1)
        }
        return negative ? -magnitude : magnitude
    }

    /// The value of an `F8_E8M0` byte: 2^(b - 127), 0xFF being NaN.
    static func float(fromF8E8M0 b: UInt8) -> Float {
        if b == 0xFF { return .nan }
        return Float(sign: .plus, exponent: Int(b) - 127, significand: 1)
    }
}

import Testing
@testable import ModelFiles

@Suite("half, bfloat16 and float8 conversions")
struct HalfPrecisionTests {
    /// The value of half bits by the textbook formula, in Double (independent reference).
    static func referenceHalf(_ h: UInt16) -> Double {
        let sign: Double = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = Double(h & 0x3FF)
        switch exponent {
        case 0: return sign * mantissa * 0x1p-24
        case 31: return mantissa == 0 ? sign * .infinity : .nan
        default: return sign * (1 + mantissa / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    @Test("all 65536 half patterns decode as the formula says and encode back to themselves")
    func exhaustiveHalf() {
        var failures = 0
        for bits in 0...UInt16.max {
            let value = HalfPrecision.float(fromHalf: bits)
            let reference = Self.referenceHalf(bits)
            if reference.isNaN {
                if !value.isNaN || !HalfPrecision.float(fromHalf: HalfPrecision.halfBits(from: value)).isNaN { failures += 1 }
                continue
            }
            if Double(value) != reference || HalfPrecision.halfBits(from: value) != bits { failures += 1 }
        }
        #expect(failures == 0)
    }

    @Test("rounding to half: nearest, ties to even, at every pair of neighbours")
    func halfRounding() {
        var failures = 0
        for bits in UInt16(0)..<0x7BFF {  // positive finite halves with a finite successor
            let low = HalfPrecision.float(fromHalf: bits), high = HalfPrecision.float(fromHalf: bits + 1)
            let middle = (low + high) / 2  // exact: halves have 11 significant bits
            let even = bits & 1 == 0 ? bits : bits + 1
            if HalfPrecision.halfBits(from: middle) != even { failures += 1 }
            if HalfPrecision.halfBits(from: middle.nextDown) != bits { failures += 1 }
            if HalfPrecision.halfBits(from: middle.nextUp) != bits + 1 { failures += 1 }
            if HalfPrecision.halfBits(from: -middle.nextUp) != (bits + 1) | 0x8000 { failures += 1 }
        }
        #expect(failures == 0)
    }

    @Test("half known answers: limits, overflow, underflow, NaN")
    func halfKnownAnswers() {
        #expect(HalfPrecision.halfBits(from: 1) == 0x3C00)
        #expect(HalfPrecision.halfBits(from: -2) == 0xC000)
        #expect(HalfPrecision.halfBits(from: 65504) == 0x7BFF)
        #expect(HalfPrecision.halfBits(from: 65519.996) == 0x7BFF)
        #expect(HalfPrecision.halfBits(from: 65520) == 0x7C00)  // halfway to 65536: rounds to infinity
        #expect(HalfPrecision.halfBits(from: 1e10) == 0x7C00)
        #expect(HalfPrecision.halfBits(from: -.infinity) == 0xFC00)
        #expect(HalfPrecision.halfBits(from: 0x1p-24) == 0x0001)
        #expect(HalfPrecision.halfBits(from: 0x1p-25) == 0x0000)  // tie with 0: even
        #expect(HalfPrecision.halfBits(from: 0x1.8p-25) == 0x0001)
        #expect(HalfPrecision.halfBits(from: 0x1p-14) == 0x0400)  // smallest normal
        #expect(HalfPrecision.halfBits(from: .leastNonzeroMagnitude) == 0)
        #expect(HalfPrecision.halfBits(from: -0.0) == 0x8000)
        #expect(HalfPrecision.float(fromHalf: HalfPrecision.halfBits(from: .nan)).isNaN)
    }

    @Test("bfloat16: exact widening, rounding to nearest even, NaN")
    func bfloat16() {
        #expect(HalfPrecision.bfloat16Bits(from: 1) == 0x3F80)
        #expect(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie: even
        #expect(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie: even
        #expect(HalfPrecision.bfloat16Bits(from: Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(HalfPrecision.bfloat16Bits(from: .greatestFiniteMagnitude) == 0x7F80)  // rounds to infinity
        #expect(HalfPrecision.float(fromBFloat16: HalfPrecision.bfloat16Bits(from: .nan)).isNaN)
        // Every bfloat16 (non-NaN) widens and narrows back to itself.
        var failures = 0
        for bits in 0...UInt16.max {
            let value = HalfPrecision.float(fromBFloat16: bits)
            if value.isNaN { continue }
            if HalfPrecision.bfloat16Bits(from: value) != bits || value.bitPattern != UInt32(bits) << 16 { failures += 1 }
        }
        #expect(failures == 0)
    }

    @Test("float8 known answers")
    func float8() {
        // E5M2 is the top byte of a half.
        for b in 0...UInt8.max {
            let v = HalfPrecision.float(fromF8E5M2: b), h = HalfPrecision.float(fromHalf: UInt16(b) << 8)
            #expect(v == h || (v.isNaN && h.isNaN))
        }
        #expect(HalfPrecision.float(fromF8E5M2: 0x7B) == 57344)  // largest finite
        // E4M3 (fn): bias 7, no infinities.
        #expect(HalfPrecision.float(fromF8E4M3: 0x38) == 1)
        #expect(HalfPrecision.float(fromF8E4M3: 0xB8) == -1)
        #expect(HalfPrecision.float(fromF8E4M3: 0x7E) == 448)
        #expect(HalfPrecision.float(fromF8E4M3: 0x7F).isNaN)
        #expect(HalfPrecision.float(fromF8E4M3: 0x01) == 0x1p-9)
        #expect(HalfPrecision.float(fromF8E4M3: 0x08) == 0x1p-6)  // smallest normal
        #expect(HalfPrecision.float(fromF8E4M3: 0x78) == 256)  // exponent 15 is finite in "fn"
        // E8M0: powers of two.
        #expect(HalfPrecision.float(fromF8E8M0: 127) == 1)
        #expect(HalfPrecision.float(fromF8E8M0: 0) == 0x1p-127)
        #expect(HalfPrecision.float(fromF8E8M0: 254) == 0x1p127)
        #expect(HalfPrecision.float(fromF8E8M0: 255).isNaN)
    }
}

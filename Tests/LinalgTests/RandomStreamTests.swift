import Foundation
import CKernels
import Linalg
import Testing

@Suite struct RandomStreamTests {
    /// Random123's `tests/kat_vectors`, the three `philox4x32 10` lines: counter, key, result.
    @Test func philoxMatchesRandom123KnownAnswers() {
        let vectors: [((UInt32, UInt32, UInt32, UInt32), (UInt32, UInt32), [UInt32])] = [
            ((0, 0, 0, 0), (0, 0), [0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8]),
            ((0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF), (0xFFFF_FFFF, 0xFFFF_FFFF),
             [0x408F_276D, 0x41C8_3B0E, 0xA20B_C7C6, 0x6D54_51FD]),
            ((0x243F_6A88, 0x85A3_08D3, 0x1319_8A2E, 0x0370_7344), (0xA409_3822, 0x299F_31D0),
             [0xD16C_FE09, 0x94FD_CCEB, 0x5001_E420, 0x2412_6EA1]),
        ]
        for (counter, key, expected) in vectors {
            let out = Philox.block(counter: counter, key: key)
            #expect([out.0, out.1, out.2, out.3] == expected)
        }
    }

    /// The C kernel of the bulk draws (AVX2 when the CPU has it, and the portable C code) gives
    /// the bits of the scalar Swift reference, lane by lane.
    @Test func groupKernelEqualsTheScalarReference() {
        for (group, row, step, epoch, k0, k1) in [(0, 0, 0, 0, 0, 0), (7, 5, 6, 7, 11, 13),
                                                  (0x1FFF_FFFF, 0xFFFF_FFFF, 3, 0xFFFF_FFFF, 0xFFFF_FFFF, 1)]
            as [(UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)] {
            var fast = [UInt32](repeating: 0, count: 32), portable = fast
            dbn_philox_group(group, row, step, epoch, k0, k1, &fast)
            dbn_philox_group_portable(group, row, step, epoch, k0, k1, &portable)
            #expect(fast == portable)
            for j in 0..<8 {
                let s = Philox.block(counter: (group &* 8 &+ UInt32(j), row, step, epoch), key: (k0, k1))
                #expect([fast[j], fast[8 + j], fast[16 + j], fast[24 + j]] == [s.0, s.1, s.2, s.3])
            }
        }
        print("Philox group kernel: AVX2 \(dbn_philox_uses_avx2() == 1 ? "in use" : "not available")")
    }

    /// The draws of a row do not depend on how its units are split into blocks.
    @Test func bulkDrawsDoNotDependOnTheSplit() {
        let stream = RandomStream(seed: 7, purpose: .hiddenSample(layer: 1, step: 2), epoch: 3, step: 4)
        let n = 203
        var whole = [Float](repeating: -1, count: n)
        whole.withUnsafeMutableBufferPointer { stream.fillUniform(row: 9, units: 0..<n, into: $0.baseAddress!) }
        for u in 0..<n { #expect(whole[u] == stream.uniform(row: 9, unit: u)) }
        for cuts in [[0, 1, n], [0, 5, 37, 64, 65, 100, n], [0, 101, n], [0, 8, 16, 24, 32, 40, n]] {
            var pieces = [Float](repeating: -1, count: n)
            pieces.withUnsafeMutableBufferPointer { p in
                for i in 0..<(cuts.count - 1) {
                    stream.fillUniform(row: 9, units: cuts[i]..<cuts[i + 1], into: p.baseAddress! + cuts[i])
                }
            }
            #expect(pieces == whole)
        }
        let p = (0..<n).map { Float($0) / Float(n) }
        var a = [Float](repeating: -1, count: n), b = a
        p.withUnsafeBufferPointer { pp in
            a.withUnsafeMutableBufferPointer { stream.sampleBernoulli(row: 2, units: 0..<n, probabilities: pp.baseAddress!, into: $0.baseAddress!) }
            b.withUnsafeMutableBufferPointer { out in
                stream.sampleBernoulli(row: 2, units: 0..<70, probabilities: pp.baseAddress!, into: out.baseAddress!)
                stream.sampleBernoulli(row: 2, units: 70..<n, probabilities: pp.baseAddress! + 70, into: out.baseAddress! + 70)
            }
        }
        #expect(a == b)
        for u in 0..<n { #expect(a[u] == (stream.uniform(row: 2, unit: u) < p[u] ? 1 : 0)) }
    }

    @Test func streamsForDifferentKeysDiffer() {
        let base = RandomStream(seed: 1, purpose: .hiddenSample(layer: 0, step: 0), epoch: 0, step: 0)
        let others = [
            RandomStream(seed: 2, purpose: .hiddenSample(layer: 0, step: 0), epoch: 0, step: 0),
            RandomStream(seed: 1, purpose: .hiddenSample(layer: 1, step: 0), epoch: 0, step: 0),
            RandomStream(seed: 1, purpose: .hiddenSample(layer: 0, step: 1), epoch: 0, step: 0),
            RandomStream(seed: 1, purpose: .visibleSample(layer: 0, step: 0), epoch: 0, step: 0),
            RandomStream(seed: 1, purpose: .hiddenSample(layer: 0, step: 0), epoch: 1, step: 0),
            RandomStream(seed: 1, purpose: .hiddenSample(layer: 0, step: 0), epoch: 0, step: 1),
        ]
        let draws = (0..<64).map { base.bits(row: 0, unit: $0) }
        for other in others { #expect((0..<64).map { other.bits(row: 0, unit: $0) } != draws) }
        #expect((0..<64).map { base.bits(row: 1, unit: $0) } != draws)
    }

    /// Uniforms: mean 1/2, variance 1/12, and a chi-square test of 16 equal bins (15 degrees
    /// of freedom: 37.7 is the 0.999 quantile); normals: mean 0, variance 1.
    @Test func drawsHaveTheRightDistribution() {
        let stream = RandomStream(seed: 3, purpose: .other(1, 2), epoch: 5, step: 6)
        var bins = [Int](repeating: 0, count: 16)
        var sum = 0.0, squares = 0.0
        let rows = 100, units = 1000
        var row = [Float](repeating: 0, count: units)
        for r in 0..<rows {
            row.withUnsafeMutableBufferPointer { stream.fillUniform(row: r, units: 0..<units, into: $0.baseAddress!) }
            for u in row {
                #expect(u >= 0 && u < 1)
                bins[Int(u * 16)] += 1
                sum += Double(u); squares += Double(u) * Double(u)
            }
        }
        let n = Double(rows * units), expected = n / 16
        let chiSquare = bins.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        #expect(chiSquare < 37.7)
        #expect(abs(sum / n - 0.5) < 0.003)
        #expect(abs(squares / n - sum * sum / (n * n) - 1.0 / 12) < 0.002)
        var nsum = 0.0, nsquares = 0.0
        for u in 0..<20_000 { let z = Double(stream.normal(row: 0, unit: u)); nsum += z; nsquares += z * z }
        #expect(abs(nsum / 20_000) < 0.03)
        #expect(abs(nsquares / 20_000 - 1) < 0.04)
    }
}

@Suite struct VectorKernelTests {
    /// The SIMD8 forms and the scalar forms used on loop tails give the same bits, and both
    /// are within their stated error of libm.
    @Test func vectorAndScalarFormsAgreeBitForBit() {
        var x: Float = -90
        while x < 90 {
            let v = SIMD8<Float>(x, x + 0.01, x + 0.02, x + 0.03, -x, x / 2, x / 3, x / 7)
            let e = exp8(v), s = sigmoid8(v), t = tanh8(v), l = elu8(v, alpha: 1)
            for j in 0..<8 {
                #expect(e[j].bitPattern == fastExp(v[j]).bitPattern)
                #expect(s[j].bitPattern == sigmoid(v[j]).bitPattern)
                #expect(t[j].bitPattern == fastTanh(v[j]).bitPattern)
                #expect(l[j].bitPattern == fastELU(v[j], alpha: 1).bitPattern)
                let reference = 1 / (1 + exp(-Double(v[j])))
                #expect(abs(Double(s[j]) - reference) < 2e-7)
                #expect(abs(Double(t[j]) - tanh(Double(v[j]))) < 3e-7)
            }
            x += 0.37
        }
        let roots = sqrt8(SIMD8<Float>(0, 1e-30, 1e-6, 0.25, 1, 2, 1e6, 3e38))
        for (j, r) in [0, 1e-30, 1e-6, 0.25, 1, 2, 1e6, 3e38].enumerated() {
            #expect(abs(Double(roots[j]) - Double(r).squareRoot()) <= 2e-7 * Double(r).squareRoot())
        }
    }

    @Test func bufferKernelsEqualTheScalarFormsAtEveryLength() {
        for n in [0, 1, 7, 8, 9, 31, 100] {
            let values = (0..<n).map { Float($0) * 0.37 - 12 }
            var y = values
            y.withUnsafeMutableBufferPointer { Kernels.sigmoid($0) }
            #expect(y.map(\.bitPattern) == values.map { sigmoid($0).bitPattern })
            y = values
            y.withUnsafeMutableBufferPointer { Kernels.tanh($0) }
            #expect(y.map(\.bitPattern) == values.map { fastTanh($0).bitPattern })
        }
    }
}

import Foundation
import Testing
import Linalg
@testable import FineTuning

@Suite struct KernelTests {
    @Test func simdExpMatchesLibm() {
        var worst = 0.0
        var x: Float = -87
        while x < 88 {
            let v = SIMD8<Float>((0..<8).map { x + Float($0) * 0.013 })
            let e = exp8(v)
            for lane in 0..<8 {
                let reference = exp(Double(v[lane]))
                worst = max(worst, abs(Double(e[lane]) - reference) / reference)
            }
            x += 0.37
        }
        #expect(worst < 1e-6, "largest relative error \(worst)")
        let extreme = exp8(SIMD8<Float>(-1000, 1000, -.infinity, .infinity, 0, 1, -1, 88.3))
        #expect(extreme[0] > 0 && extreme[0] < 1e-37 && extreme[1].isFinite && extreme[2] >= 0 && extreme[3].isFinite)
        #expect(extreme[4] == 1 && exp8(SIMD8<Float>(repeating: .nan))[0].isNaN)
    }

    @Test func simdSquareRootMatchesLibm() {
        var worst = 0.0
        var x: Float = 1.2e-38
        while x < 3e38 {
            let v = SIMD8<Float>((0..<8).map { min(x * (1 + Float($0) * 0.11), .greatestFiniteMagnitude) })
            let r = sqrt8(v)
            for lane in 0..<8 {
                let reference = Double(v[lane]).squareRoot()
                worst = max(worst, abs(Double(r[lane]) - reference) / reference)
            }
            x *= 1.7
        }
        #expect(worst < 4e-7, "largest relative error \(worst)")
        #expect(sqrt8(SIMD8<Float>(repeating: 0)) == SIMD8<Float>(repeating: 0))
        let subnormal = Float.leastNormalMagnitude / 100  // about 1.2e-40
        #expect(abs(sqrt8(SIMD8<Float>(repeating: subnormal))[0]) < 1.1e-19)
    }

    /// The fused bias + activation over rows of 21 columns (two SIMD blocks and a tail).
    @Test(arguments: Activation.allCases)
    func addBiasActivateMatchesTheNaiveFormula(activation: Activation) {
        let rows = 3, columns = 21
        var g = Xoshiro256StarStar(seed: 1)
        var y = (0..<(rows * columns)).map { _ in 4 * g.nextNormal() }
        let bias = (0..<columns).map { _ in g.nextNormal() }
        let before = y
        y.withUnsafeMutableBufferPointer { yb in
            bias.withUnsafeBufferPointer { FusedKernels.addBiasActivate(yb.baseAddress!, rows: rows, columns: columns,
                                                                        bias: $0.baseAddress!, activation: activation) }
        }
        for r in 0..<rows {
            for c in 0..<columns {
                let expected = naiveActivation(activation, Double(before[r * columns + c]) + Double(bias[c]))
                #expect(abs(Double(y[r * columns + c]) - expected) < 1e-6 * max(1, abs(expected)))
            }
        }
    }

    @Test func dropoutKeepsTheRightFractionAndScales() {
        let stream = RandomStream(seed: 3, purpose: .dropout(layer: 1), epoch: 2, step: 5)
        let rows = 101, columns = 1001, n = rows * columns
        let input = [Float](repeating: 1, count: n)
        var output = [Float](repeating: 0, count: n), mask = output
        input.withUnsafeBufferPointer { i in
            output.withUnsafeMutableBufferPointer { o in
                mask.withUnsafeMutableBufferPointer { m in
                    FusedKernels.dropout(i.baseAddress!, into: o.baseAddress!, mask: m.baseAddress!, rows: rows,
                                         units: 0..<columns, stride: columns, rate: 0.3, stream: stream)
                }
            }
        }
        #expect(output == mask)
        #expect(output.allSatisfy { $0 == 0 || abs($0 - 1 / 0.7) < 1e-6 })
        let kept = Double(output.count(where: { $0 != 0 })) / Double(n)
        #expect(abs(kept - 0.7) < 0.005)
        // Inverted dropout keeps the mean.
        #expect(abs(output.reduce(0.0) { $0 + Double($1) } / Double(n) - 1) < 0.01)
        // Each factor is the scalar reference's draw for its (row, unit).
        for r in 0..<rows {
            for u in 0..<columns {
                let expected: Float = stream.uniform(row: r, unit: u) < 0.7 ? 1 / 0.7 : 0
                if mask[r * columns + u] != expected { Issue.record("row \(r), unit \(u)"); return }
            }
        }
    }

    @Test("dropout on blocks of units (in place, any split) draws the masks of the whole rows")
    func dropoutOnBlocksMatchesWholeRows() {
        let stream = RandomStream(seed: 4, purpose: .dropout(layer: 0), epoch: 1, step: 0)
        let rows = 7, columns = 83
        let input = randomInputs(rows: rows, columns: columns, seed: 5).elements
        var whole = [Float](repeating: 0, count: rows * columns)
        input.withUnsafeBufferPointer { i in
            whole.withUnsafeMutableBufferPointer { o in
                FusedKernels.dropout(i.baseAddress!, into: o.baseAddress!, mask: nil, rows: rows, units: 0..<columns,
                                     stride: columns, rate: 0.4, stream: stream)
            }
        }
        for blocks in [[0..<83], [0..<3, 3..<40, 40..<41, 41..<83], Lanes.blocks(of: columns, count: 4)] {
            var inPlace = input
            inPlace.withUnsafeMutableBufferPointer { x in
                for block in blocks {
                    FusedKernels.dropout(x.baseAddress!, into: x.baseAddress!, mask: nil, rows: rows, units: block,
                                         stride: columns, rate: 0.4, stream: stream)
                }
            }
            #expect(inPlace == whole, "blocks \(blocks)")
        }
    }
}

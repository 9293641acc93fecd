import Linalg
import Testing

@Suite struct CollectiveTests {
    @Test func slabPartsAreConsecutiveViews() {
        let (whole, parts) = FloatBuffer.slab([3, 0, 2])
        #expect(whole.count == 5 && parts.map(\.count) == [3, 0, 2])
        parts[0].pointer[2] = 7
        parts[2].pointer[0] = 9
        #expect(whole.array == [0, 0, 7, 9, 0])
        whole.fill(1)
        #expect(parts[2].array == [1, 1])
    }

    @Test func anOffsetStreamDrawsTheRowsOfTheWholeMinibatch() {
        let stream = RandomStream(seed: 3, purpose: .hiddenSample(layer: 0, step: 1), epoch: 2, step: 5)
        let shifted = stream.offset(rows: 7)
        for row in 0..<4 {
            for unit in [0, 5, 31, 40] {
                #expect(shifted.bits(row: row, unit: unit) == stream.bits(row: row + 7, unit: unit))
                #expect(shifted.normal(row: row, unit: unit) == stream.normal(row: row + 7, unit: unit))
            }
            var a = [Float](repeating: 0, count: 50), b = a
            shifted.fillUniform(row: row, units: 3..<53, into: &a)
            stream.fillUniform(row: row + 7, units: 3..<53, into: &b)
            #expect(a == b)
        }
        #expect(shifted.offset(rows: 2).bits(row: 0, unit: 1) == stream.bits(row: 9, unit: 1))
    }

    @Test func oneProcessIsANoOp() {
        let one = Collectives.current
        #expect(one.rank == 0 && one.size == 1 && one.isRoot)
        let b = FloatBuffer([1, 2, 3])
        one.allReduceSum(b)
        one.broadcast([b])
        one.verifyAgreement([b], what: "b")
        #expect(b.array == [1, 2, 3])
    }

    @Test func hashSeesEveryBit() {
        let a = FloatBuffer([1, 2, 3]), b = FloatBuffer([1, 2, 3])
        #expect(FloatBuffer.hash([a]) == FloatBuffer.hash([b]))
        b.pointer[1] = Float(bitPattern: b.pointer[1].bitPattern ^ 1)
        #expect(FloatBuffer.hash([a]) != FloatBuffer.hash([b]))
        #expect(FloatBuffer.hash([FloatBuffer([-0.0])]) != FloatBuffer.hash([FloatBuffer([0.0])]))
    }
}

import Testing
import Linalg
@testable import FineTuning

@Suite struct InitializerTests {
    /// (initialiser, expected variance) for a 400 x 300 layer (fanIn 400, fanOut 300).
    static let expectations: [(WeightInitializer, Double)] = [
        (.uniform(0.2), 0.04 / 3),
        (.normal(0.05), 0.0025),
        (.xavierNormal, 2.0 / 700),
        (.xavierUniform, 2.0 / 700),
        (.lecture, 1.0 / 400),
        (.heNormal, 2.0 / 400),
        (.heUniform, 2.0 / 400),
        (.lecunNormal, 1.0 / 400),
        (.orthogonal(), 1.0 / 400),
        (.orthogonal(gain: 2), 4.0 / 400),
        (.lsuv(), 1.0 / 400),  // its single-layer form is the orthogonal start
    ]

    @Test(arguments: expectations)
    func sampleMomentsMatchTheFormula(initializer: WeightInitializer, variance: Double) throws {
        var g = Xoshiro256StarStar(seed: 2024)
        let layer = try initializer.makeLayer(fanIn: 400, fanOut: 300, generator: &g)
        #expect(layer.weight.rows == 400 && layer.weight.columns == 300)
        #expect(layer.bias.allSatisfy { $0 == 0 })
        let (mean, sampleVariance) = meanAndVariance(layer.weight.elements)
        let n = Double(layer.weight.count)
        #expect(abs(mean) < 4 * (variance / n).squareRoot(), "mean \(mean)")
        #expect(abs(sampleVariance / variance - 1) < 0.03, "variance \(sampleVariance), expected \(variance)")
    }

    @Test func uniformStartsStayInsideTheirLimits() throws {
        var g = Xoshiro256StarStar(seed: 1)
        let cases: [(WeightInitializer, Float)] = [
            (.uniform(0.2), 0.2), (.xavierUniform, (6.0 / 700).squareRoot()), (.heUniform, (6.0 / 400).squareRoot()),
        ]
        for (initializer, limit) in cases {
            let w = try initializer.makeLayer(fanIn: 400, fanOut: 300, generator: &g).weight.elements
            #expect(w.allSatisfy { abs($0) <= limit })
            #expect(w.contains { abs($0) > 0.95 * limit })
        }
    }

    @Test func normalStartsAreNotTruncated() throws {
        var g = Xoshiro256StarStar(seed: 9)
        let w = try WeightInitializer.heNormal.makeLayer(fanIn: 400, fanOut: 300, generator: &g).weight.elements
        let sigma = Float((2.0 / 400).squareRoot())
        let beyondTwoSigma = Double(w.count(where: { abs($0) > 2 * sigma })) / Double(w.count)
        #expect(abs(beyondTwoSigma - 0.0455) < 0.004, "fraction beyond 2 sigma: \(beyondTwoSigma)")
    }

    @Test func zerosAndConstantFillEveryWeight() throws {
        var g = Xoshiro256StarStar(seed: 1)
        #expect(try WeightInitializer.zeros.makeLayer(fanIn: 3, fanOut: 2, generator: &g).weight.elements.allSatisfy { $0 == 0 })
        let c = try WeightInitializer.constant(-0.25).makeLayer(fanIn: 3, fanOut: 2, generator: &g)
        #expect(c.weight.elements == [Float](repeating: -0.25, count: 6) && c.bias == [0, 0])
    }

    @Test(arguments: [(60, 40), (40, 60), (30, 30)])
    func orthogonalIsOrthonormal(fanIn: Int, fanOut: Int) throws {
        var g = Xoshiro256StarStar(seed: 5)
        for gain: Float in [1, 1.5] {
            let w = try WeightInitializer.orthogonal(gain: gain).makeLayer(fanIn: fanIn, fanOut: fanOut, generator: &g).weight
            // W^T W (fanOut x fanOut) for tall or square, W W^T (fanIn x fanIn) for wide.
            let gram = fanIn >= fanOut ? naiveProduct(w.transposed(), w) : naiveProduct(w, w.transposed())
            var worst = 0.0
            for i in gram.indices {
                for j in gram.indices {
                    worst = max(worst, abs(gram[i][j] - (i == j ? Double(gain * gain) : 0)))
                }
            }
            #expect(worst < 1e-5, "largest deviation from gain^2 I: \(worst)")
        }
    }

    @Test(arguments: [Activation.tanh, .relu, .sigmoid])
    func lsuvGivesUnitPreActivationVariance(activation: Activation) throws {
        var g = Xoshiro256StarStar(seed: 8)
        let batch = randomInputs(rows: 200, columns: 20, seed: 9)
        let network = try Network(sizes: [20, 30, 25, 4], hiddenActivation: activation, initializer: .lsuv(),
                                  calibrationData: batch, generator: &g)
        // Pre-activations layer by layer with the naive reference.
        let layers = doubleLayers(network)
        var perLayer = [[Double]](repeating: [], count: layers.count)
        for r in 0..<batch.rows {
            var h = batch.row(r).map(Double.init)
            for (l, layer) in layers.enumerated() {
                let z = naiveAffine(h, layer)
                perLayer[l] += z
                h = z.map { naiveActivation(activation, $0) }
            }
        }
        for (l, values) in perLayer.enumerated() {
            let (_, variance) = meanAndVariance(values.map(Float.init))
            #expect(abs(variance - 1) < 0.1, "layer \(l): variance \(variance)")
        }
        // Without data, LSUV cannot calibrate.
        #expect(throws: FineTuningError.missingCalibrationData) {
            try Network(sizes: [20, 4], initializer: .lsuv(), generator: &g)
        }
    }

    @Test func parserKnowsEveryName() throws {
        let expected: [(String, WeightInitializer)] = [
            ("zeros", .zeros), ("xavier-normal", .xavierNormal), ("xavier-uniform", .xavierUniform),
            ("he-normal", .heNormal), ("he-uniform", .heUniform), ("lecun", .lecunNormal),
            ("lecun-normal", .lecunNormal), ("orthogonal", .orthogonal()), ("orthogonal:2", .orthogonal(gain: 2)),
            ("lsuv", .lsuv()), ("normal:0.01", .normal(0.01)), ("uniform:0.5", .uniform(0.5)),
            ("constant:-1", .constant(-1)), ("constant:0", .constant(0)), ("lecture", .lecture),
            ("dbn", .pretrained([])), ("pretrained", .pretrained([])), ("He-Normal", .heNormal),
        ]
        for (name, initializer) in expected {
            #expect(try WeightInitializer(parsing: name) == initializer, "\(name)")
        }
        // Names round-trip.
        for (_, initializer) in expected {
            #expect(try WeightInitializer(parsing: initializer.name) == initializer)
        }
        #expect(try WeightInitializer(parsing: "dbn").isPretrained)
    }

    @Test func parserRejectsBadNamesClearly() {
        #expect(throws: FineTuningError.unknownInitializer(name: "gaussian")) { try WeightInitializer(parsing: "gaussian") }
        #expect(throws: FineTuningError.invalidInitializerArgument(name: "normal", argument: "abc")) {
            try WeightInitializer(parsing: "normal:abc")
        }
        #expect(throws: FineTuningError.invalidInitializerArgument(name: "normal", argument: "")) {
            try WeightInitializer(parsing: "normal")
        }
        #expect(throws: FineTuningError.invalidInitializerArgument(name: "uniform", argument: "-1")) {
            try WeightInitializer(parsing: "uniform:-1")
        }
        let message = FineTuningError.unknownInitializer(name: "gaussian").description
        #expect(message.contains("gaussian") && message.contains("xavier-uniform") && message.contains("normal:STD"))
    }
}

import Linalg

extension Network {
    /// A network of the given layer `sizes` (input first, outputs last) started from `initializer`.
    ///
    /// - `calibrationData` (samples x sizes[0]) is needed by `.lsuv` only (e.g. the first 1000
    ///   training rows); it is ignored otherwise.
    /// - `.pretrained(layers, outputLayer:)` takes the hidden layers as given (they must match
    ///   `sizes`) and draws only the output layer.
    ///
    /// - Maxout (`hiddenActivation == .maxout`): every hidden layer has `maxoutPieces` columns
    ///   per unit, each drawn as a unit of its own (fanOut = pieces x units); no pre-trained start.
    ///
    /// Throws `FineTuningError` for sizes, pre-trained layers or calibration data that do not
    /// fit, and `LinearAlgebraError` if LAPACK fails in the orthogonal start.
    public init(sizes: [Int], hiddenActivation: Activation = .sigmoid, output: OutputKind = .softmax,
                maxoutPieces: Int = 2, initializer: WeightInitializer, calibrationData: Matrix? = nil,
                generator: inout Xoshiro256StarStar) throws {
        try Network.validate(sizes: sizes)
        let layerCount = sizes.count - 1
        let pieces = hiddenActivation == .maxout ? maxoutPieces : 1
        guard pieces >= 1 else { throw FineTuningError.invalidArchitecture("maxout needs at least one piece per unit, got \(maxoutPieces)") }
        if pieces > 1 && initializer.isPretrained {
            throw FineTuningError.pretrainedMismatch("a pre-trained stack has one column per unit, maxout needs \(pieces)")
        }
        var layers: [DenseParameters] = []
        switch initializer {
        case .pretrained(let hidden, let outputLayer):
            guard !hidden.isEmpty else { throw FineTuningError.missingPretrainedLayers }
            guard hidden.count == layerCount - 1 else {
                throw FineTuningError.pretrainedMismatch(
                    "\(hidden.count) pre-trained layers for \(layerCount - 1) hidden layers (sizes \(sizes))")
            }
            for (l, layer) in hidden.enumerated() where layer.fanIn != sizes[l] || layer.fanOut != sizes[l + 1] {
                throw FineTuningError.pretrainedMismatch(
                    "layer \(l) is \(layer.fanIn)x\(layer.fanOut), expected \(sizes[l])x\(sizes[l + 1])")
            }
            if outputLayer.isPretrained || isLSUV(outputLayer) {
                throw FineTuningError.pretrainedMismatch("the output layer needs a plain start, not \(outputLayer.name)")
            }
            layers = hidden
            layers.append(try outputLayer.makeLayer(fanIn: sizes[layerCount - 1], fanOut: sizes[layerCount],
                                                    generator: &generator))
        default:
            for l in 0..<layerCount {
                let columns = sizes[l + 1] * (l < layerCount - 1 ? pieces : 1)
                layers.append(try initializer.makeLayer(fanIn: sizes[l], fanOut: columns, generator: &generator))
            }
        }
        self.init(layers: layers, hiddenActivation: hiddenActivation, output: output, maxoutPieces: pieces)

        if case .lsuv(let tolerance, let maxIterations) = initializer {
            guard let calibrationData, calibrationData.rows > 0 else { throw FineTuningError.missingCalibrationData }
            guard calibrationData.columns == sizes[0] else {
                throw FineTuningError.invalidData(
                    "calibration batch has \(calibrationData.columns) columns, the network takes \(sizes[0])")
            }
            applyLSUV(calibrationData, tolerance: tolerance, maxIterations: maxIterations)
        }
    }

    /// A network whose hidden layers are a pre-trained stack's (`pretrained[l].weight` is
    /// visible x hidden, `pretrained[l].bias` the hidden biases) with a fresh output layer of
    /// `outputCount` units drawn from `outputInitializer`.
    public init(pretrained: [DenseParameters], outputCount: Int, hiddenActivation: Activation = .sigmoid,
                output: OutputKind = .softmax, outputInitializer: WeightInitializer = .xavierUniform,
                generator: inout Xoshiro256StarStar) throws {
        guard let first = pretrained.first else { throw FineTuningError.missingPretrainedLayers }
        try self.init(sizes: [first.fanIn] + pretrained.map(\.fanOut) + [outputCount],
                      hiddenActivation: hiddenActivation, output: output,
                      initializer: .pretrained(pretrained, outputLayer: outputInitializer), generator: &generator)
    }

    /// LSUV's rescaling (Mishkin & Matas 2016, Algorithm 1, without the batch-norm-free
    /// variants): layer by layer, divide W by the standard deviation of `X W + b` on the batch
    /// until its variance is within `tolerance` of 1 (at most `maxIterations` rescalings).
    /// The variance is taken over all entries of the (batch x units) pre-activation.
    mutating func applyLSUV(_ batch: Matrix, tolerance: Float, maxIterations: Int) {
        var x = batch
        var z = Matrix(rows: 0, columns: 0)
        for l in layers.indices {
            for iteration in 0...maxIterations {
                preActivation(layer: l, input: x, into: &z)
                let variance = Float(Network.variance(of: z.elements))
                guard variance.isFinite, variance > 0, abs(variance - 1) >= tolerance,
                      iteration < maxIterations else { break }
                scale(&layers[l].weight.elements, by: 1 / variance.squareRoot())
            }
            x = nonlinearity(ofLayer: l, z)
        }
    }

    /// z = x W_l + b_l, shape (rows x fanOut).
    func preActivation(layer l: Int, input x: Matrix, into z: inout Matrix) {
        // z (rows x fanOut) = x (rows x fanIn) * W_l (fanIn x fanOut)
        gemm(x, .none, layers[l].weight, .none, into: &z)
        z.addRowVector(layers[l].bias)
    }

    /// The population variance of `values`, in double precision.
    static func variance(of values: [Float]) -> Double {
        guard !values.isEmpty else { return 0 }
        var sum = 0.0, sumOfSquares = 0.0
        for v in values { sum += Double(v); sumOfSquares += Double(v) * Double(v) }
        let mean = sum / Double(values.count)
        return max(sumOfSquares / Double(values.count) - mean * mean, 0)
    }
}

private func isLSUV(_ initializer: WeightInitializer) -> Bool {
    if case .lsuv = initializer { return true }
    return false
}

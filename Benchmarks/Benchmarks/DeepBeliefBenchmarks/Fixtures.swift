import DeepBelief

/// Setup state of the CD-1 benchmarks: a 784 -> 500 RBM's stepper and a shuffled order of
/// the training rows, walked in minibatches of 100 (allocated outside the measured region).
final class CDFixture {
    let stepper: ContrastiveDivergenceStepper
    let data: Matrix
    let order: [Int]
    var position = 0
    static let batchSize = 100

    init(threads: Int) throws {
        Lanes.setThreads(threads)
        data = TrainingData.labeled.inputs
        var g = Xoshiro256StarStar(seed: 1)
        let rbm = RBM(visibleCount: 784, hiddenCount: 500, initialization: .hintonSalakhutdinov2006, data: data,
                      generator: &g)
        stepper = try ContrastiveDivergenceStepper(rbm: rbm, configuration: RBMTrainingConfiguration(),
                                                   batchSize: CDFixture.batchSize, generator: &g)
        stepper.setEpoch(5)  // momentum 0.9
        var order = Array(0..<data.rows)
        g.shuffle(&order)
        self.order = order
    }

    /// One CD-1 update (momentum 0.9) on the next minibatch; the summed reconstruction error.
    func step() -> Double {
        if position + CDFixture.batchSize > order.count { position = 0; stepper.setEpoch(5) }
        let rows = order[position..<(position + CDFixture.batchSize)]
        position += CDFixture.batchSize
        return stepper.step(on: data, rows: rows)
    }
}

/// Setup state of the fine-tuning benchmark: a 784-500-500-2000-10 sigmoid network (softmax
/// output) trained by SGD with momentum 0.9 on minibatches of 100.
final class FineTuningFixture {
    let stepper: FineTuningStepper
    let data: LabeledData
    let order: [Int]
    var position = 0
    var generator = Xoshiro256StarStar(seed: 2)
    static let batchSize = 100

    /// The 784-500-500-2000-10 sigmoid network, or with `batchNormMaxout` a batch-normalised
    /// maxout network of 2 pieces per unit (784-500-500-10: the allocation check of those layers).
    init(batchNormMaxout: Bool = false) throws {
        data = TrainingData.labeled
        let network = batchNormMaxout
            ? try Network(sizes: [784, 500, 500, 10], hiddenActivation: .maxout, output: .softmax, maxoutPieces: 2,
                          initializer: .heNormal, generator: &generator).withBatchNormalization()
            : try Network(sizes: [784, 500, 500, 2000, 10], hiddenActivation: .sigmoid, output: .softmax,
                          initializer: .xavierUniform, generator: &generator)
        let configuration = TrainingConfiguration(batchSize: FineTuningFixture.batchSize, optimizer: .sgd,
                                                  learningRate: 0.05, momentum: 0.9)
        stepper = try FineTuningStepper(network: network, configuration: configuration)
        var order = Array(0..<data.count)
        generator.shuffle(&order)
        self.order = order
    }

    /// One forward-backward-update step on the next minibatch; the summed loss.
    func step() -> Double {
        if position + FineTuningFixture.batchSize > order.count { position = 0 }
        let rows = order[position..<(position + FineTuningFixture.batchSize)]
        position += FineTuningFixture.batchSize
        return stepper.step(on: data, rows: rows, epoch: 1, minibatch: position / FineTuningFixture.batchSize).lossSum
    }
}

/// Setup state of the elementwise kernels: a 100 x 500 buffer (a minibatch of hidden units),
/// its bias, and probabilities with their Bernoulli destination.
final class KernelFixture {
    static let rows = 100, columns = 500
    let values: UnsafeMutableBufferPointer<Float>
    let bias: UnsafeMutableBufferPointer<Float>
    let probabilities: UnsafeMutableBufferPointer<Float>
    let samples: UnsafeMutableBufferPointer<Float>
    var generator = Xoshiro256StarStar(seed: 3)

    var draws = 0

    init() {
        let count = KernelFixture.rows * KernelFixture.columns
        values = .allocate(capacity: count)
        bias = .allocate(capacity: KernelFixture.columns)
        probabilities = .allocate(capacity: count)
        samples = .allocate(capacity: count)
        for i in 0..<count {
            values[i] = 4 * generator.nextFloat() - 2
            probabilities[i] = generator.nextFloat()
            samples[i] = 0
        }
        for j in 0..<KernelFixture.columns { bias[j] = generator.nextFloat() - 0.5 }
    }

    deinit {
        values.deallocate()
        bias.deallocate()
        probabilities.deallocate()
        samples.deallocate()
    }

    /// values = sigmoid(values + bias) row by row. Repeated in place, the values stay in
    /// (-0.5, 1.5), where the kernel's cost does not depend on them.
    func addBiasSigmoid() {
        Kernels.addBiasSigmoid(values, bias: UnsafeBufferPointer(bias))
    }

    /// samples[r, j] = 1 with probability probabilities[r, j], else 0: the counter-based draws
    /// of the training steps (one Philox4x32-10 block per 4 values).
    func sampleBernoulli() {
        let stream = RandomStream(seed: 1, purpose: .hiddenSample(layer: 0, step: 0), epoch: 0, step: draws)
        draws += 1
        let columns = KernelFixture.columns
        for r in 0..<KernelFixture.rows {
            stream.sampleBernoulli(row: r, units: 0..<columns, probabilities: probabilities.baseAddress! + r * columns,
                                   into: samples.baseAddress! + r * columns)
        }
    }
}

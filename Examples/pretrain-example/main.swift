// Pre-train a small RBM stack on your own data with the DeepBelief library, read its weights,
// save them as safetensors, and fine-tune a classifier from them.
import DeepBelief

var generator = Xoshiro256StarStar(seed: 42)

// Your data: samples are rows, values in [0, 1] (here 200 random 8x8 "images").
let images = Matrix.uniform(rows: 200, columns: 64, using: &generator)
let labels = (0..<200).map { $0 % 4 }

// Greedy layer-wise pre-training of 64-32-16 with CD-1.
var stack = DeepBeliefNetwork(layerSizes: [64, 32, 16], generator: &generator)
let recipe = RBMTrainingConfiguration(epochs: 5, batchSize: 20, learningRate: 0.1)
try stack.pretrain(on: images, configuration: recipe, generator: &generator) { layer, report in
    print("layer \(layer + 1): \(report.summary)")
}

// The weights, for other Swift code: visible x hidden, plus the biases.
let first = stack.layers[0]
print("first RBM: \(first.weight.rows)x\(first.weight.columns) weights, \(first.hiddenBias.count) hidden biases")

// For NumPy / PyTorch users: a safetensors file (rbm.0.weight, rbm.0.hidden_bias, ...).
try ModelArchive.archive(stack: stack).write(to: "/tmp/pretrained-stack.safetensors")

// Or fine-tune here: unroll the stack, add a softmax layer, backpropagate.
let data = try LabeledData(inputs: images, labels: labels, classCount: 4)
let start = try Network(pretrained: stack, outputCount: 4, generator: &generator)
let result = try Trainer(configuration: TrainingConfiguration(epochs: 5, batchSize: 20, learningRate: 0.1))
    .train(start, data: data, generator: &generator)
print("training error after fine-tuning: \(result.network.evaluate(data).errorRate)")

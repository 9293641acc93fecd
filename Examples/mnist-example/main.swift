// The DeepBelief library on a slice of MNIST: load the IDX files, pre-train a stack of RBMs,
// save it, load it back, fine-tune a classifier from it, and classify the test images.
// Run from the package folder: swift run mnist-example [MNIST folder]
import DeepBelief
import Foundation

let folder = CommandLine.arguments.dropFirst().first ?? "datasets/mnist"
let mnist = try DataSet.load(folder: folder)  // u8 pixels become floats in [0, 1]
// A slice: the first 2,000 training and 1,000 test images.
let trainImages = mnist.trainImages.rows(in: 0..<2000), trainLabels = Array(mnist.trainLabels[0..<2000])
let testImages = mnist.testImages.rows(in: 0..<1000), testLabels = Array(mnist.testLabels[0..<1000])
print("data: \(trainImages.rows) training and \(testImages.rows) test images of \(mnist.pixelCount) pixels")

// Greedy pre-training of 784-256-128: CD-1, 5 epochs per layer. Every random draw derives from
// the seed: the same seed gives the same weights on any number of threads.
var generator = Xoshiro256StarStar(seed: 1)
var stack = DeepBeliefNetwork(layerSizes: [784, 256, 128], generator: &generator)
let recipe = RBMTrainingConfiguration(epochs: 5, batchSize: 50, learningRate: 0.1, seed: 1)
try stack.pretrain(on: trainImages, configuration: recipe, generator: &generator) { layer, report in
    if report.epoch + 1 == recipe.epochs { print("RBM \(layer + 1): \(report.summary)") }
}

// Save the stack (safetensors: rbm.0.weight, ...) and load it back.
let path = FileManager.default.temporaryDirectory.appendingPathComponent("mnist-example-\(getpid()).safetensors").path
defer { try? FileManager.default.removeItem(atPath: path) }
try ModelArchive.archive(stack: stack).write(to: path)
let loaded = try ModelArchive.stack(from: try SafeTensors.read(from: path))
print("saved and loaded back: RBM layer sizes \(loaded.layerSizes)")

// Fine-tune: unroll the loaded stack, add a softmax layer for the 10 digits, backpropagate.
let training = try LabeledData(inputs: trainImages, labels: trainLabels, classCount: 10)
let start = try Network(pretrained: loaded, outputCount: 10, generator: &generator)
let configuration = TrainingConfiguration(epochs: 10, batchSize: 50, learningRate: 0.5, momentum: 0.9, seed: 1)
let result = try Trainer(configuration: configuration).train(start, data: training, generator: &generator)
print("fine-tuned \(result.network.sizes): training error \(String(format: "%.2f%%", 100 * result.reports.last!.trainError))")

// Classify the test images.
let report = result.network.classificationReport(images: testImages, labels: testLabels)
print("test error: \(String(format: "%.2f%%", 100 * report.errorRate)) (\(report.errors) of \(testLabels.count))")
print("first ten predictions: \(report.predictions.prefix(10).map(String.init).joined(separator: " "))")
print("their labels:          \(testLabels.prefix(10).map(String.init).joined(separator: " "))")

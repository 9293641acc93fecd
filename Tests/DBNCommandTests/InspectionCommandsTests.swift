import DeepBelief
import Foundation
import Testing

/// Tiny data and models, written once to a temporary folder and shared by the tests below:
/// 40 training and 20 test images of 4x4 pixels in 3 classes, an RBM stack 16-8-6, networks
/// 16-8-6-3 with and without their stack, and misfits for the error paths.
struct InspectionFixture: Sendable {
    let folder: String
    let data: DataSet
    let stack: DeepBeliefNetwork
    let network: Network
    let otherNetwork: Network
    let shapedNetwork: Network

    /// Built on first use; a failure shows up in every test that uses it.
    static let shared = Result { try InspectionFixture() }

    func path(_ name: String) -> String { folder + "/" + name }

    static let folderPrefix = "dbn-inspection-tests-"

    /// Removes the folders earlier runs left (a static fixture has no teardown), once they are
    /// an hour old, so that runs in parallel keep theirs.
    static func removeStaleFolders(in temporary: String) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: temporary)) ?? [] where name.hasPrefix(folderPrefix) {
            let path = temporary + "/" + name
            let modified = (try? fm.attributesOfItem(atPath: path)[.modificationDate]) as? Date
            if let modified, modified.timeIntervalSinceNow < -3600 { try? fm.removeItem(atPath: path) }
        }
    }

    init() throws {
        let temporary = FileManager.default.temporaryDirectory.path
        Self.removeStaleFolders(in: temporary)
        folder = temporary + "/" + Self.folderPrefix + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

        // Data: class c lights a pattern (top half, left half, diagonal), with pixel noise.
        var generator = Xoshiro256StarStar(seed: 2024)
        func images(_ count: Int) -> (pixels: [UInt8], labels: [UInt8]) {
            var pixels: [UInt8] = [], labels: [UInt8] = []
            for i in 0..<count {
                let label = i % 3
                labels.append(UInt8(label))
                for y in 0..<4 {
                    for x in 0..<4 {
                        let on = [y < 2, x < 2, x == y][label]
                        let noise = Int(generator.next() % 60)
                        pixels.append(UInt8(on ? 255 - noise : noise))
                    }
                }
            }
            return (pixels, labels)
        }
        let train = images(40), test = images(20)
        try IDXFile.write(IDXArray(shape: [40, 4, 4], uint8: train.pixels), to: folder + "/train-images-idx3-ubyte")
        try IDXFile.write(IDXArray(shape: [40], uint8: train.labels), to: folder + "/train-labels-idx1-ubyte")
        try IDXFile.write(IDXArray(shape: [20, 4, 4], uint8: test.pixels), to: folder + "/t10k-images-idx3-ubyte")
        try IDXFile.write(IDXArray(shape: [20], uint8: test.labels), to: folder + "/t10k-labels-idx1-ubyte")
        data = try DataSet.load(folder: folder)

        // Models.
        var stack = DeepBeliefNetwork(layerSizes: [16, 8, 6], generator: &generator)
        try stack.pretrain(on: data.trainImages, configuration: RBMTrainingConfiguration(epochs: 100, batchSize: 10, learningRate: 0.3),
                           generator: &generator)
        self.stack = stack
        network = try Network(pretrained: stack, outputCount: 3, generator: &generator)
        otherNetwork = try Network(pretrained: stack, outputCount: 3, generator: &generator)
        shapedNetwork = Network(layers: [DenseParameters(weight: .normal(rows: 10, columns: 4, mean: 0, standardDeviation: 1,
                                                                          using: &generator),
                                                         bias: [0, 0, 0, 0]),
                                         DenseParameters(fanIn: 4, fanOut: 3)])
        try ModelArchive.archive(stack: stack).write(to: folder + "/stack.safetensors")
        try ModelArchive.archive(network: network, stack: stack).write(to: folder + "/net.safetensors")
        try ModelArchive.archive(network: network).write(to: folder + "/net-nostack.safetensors")
        try ModelArchive.archive(network: otherNetwork).write(to: folder + "/other.safetensors")
        try ModelArchive.archive(network: shapedNetwork, metadata: [ModelArchive.Key.inputShape: "[2,5]"])
            .write(to: folder + "/shaped.safetensors")
        try ModelArchive.archive(network: shapedNetwork).write(to: folder + "/odd.safetensors")
        let wide = Network(layers: [DenseParameters(fanIn: 784, fanOut: 3)])
        try ModelArchive.archive(network: wide).write(to: folder + "/wide.safetensors")
        let gaussian = DeepBeliefNetwork(layerSizes: [16, 5], visibleUnits: .gaussian, generator: &generator)
        try ModelArchive.archive(stack: gaussian).write(to: folder + "/gaussian.safetensors")
        let whole = fileBytes(folder + "/net.safetensors")
        try Data(whole[0..<(whole.count / 2)]).write(to: URL(fileURLWithPath: folder + "/corrupt.safetensors"))
    }
}

/// Runs the built `dbn` on the fixture's data (`--data` the fixture folder where the command reads data).
private func dbn(_ arguments: [String], fixture: InspectionFixture) throws -> CommandResult {
    try DBNExecutable.run(arguments, in: fixture.folder)
}

@Suite("dbn evaluate, loglik, filters, reconstruct, sample, inspect (end to end)")
struct InspectionCommandsTests {
    let f: InspectionFixture

    init() throws { f = try InspectionFixture.shared.get() }

    // MARK: evaluate

    @Test func evaluateReportsTheLibrarysTestError() throws {
        let result = try dbn(["evaluate", "--model", f.path("net.safetensors"), "--data", f.folder, "--json"], fixture: f)
        #expect(result.status == 0, "\(result)")
        let json = try result.json()
        let test = try LabeledData(inputs: f.data.testImages, labels: f.data.testLabels, classCount: 3)
        let reference = f.network.evaluate(test)
        let error = try #require(json["test_error"] as? Double)
        #expect(abs(error - reference.errorRate) < 1e-12)
        #expect(json["ensemble_test_error"] == nil)
        let matrix = try #require(json["confusion_matrix"] as? [[Int]])
        #expect(matrix.count == 3 && matrix.allSatisfy { $0.count == 3 })
        #expect(matrix.joined().reduce(0, +) == 20)
        // Row sums are the class counts; off-diagonal counts are the errors.
        let classCounts = (0..<3).map { c in f.data.testLabels.filter { $0 == c }.count }
        #expect(matrix.map { $0.reduce(0, +) } == classCounts)
        let offDiagonal = (0..<3).reduce(0) { $0 + matrix[$1].reduce(0, +) - matrix[$1][$1] }
        #expect(Double(offDiagonal) / 20 == error)
        let models = try #require(json["models"] as? [[String: Any]])
        #expect(models.count == 1)
        #expect(models.first?["path"] as? String == f.path("net.safetensors"))
        let loss = try #require(models.first?["loss"] as? Double)
        #expect(abs(loss - reference.loss) <= 1e-3 * max(1, abs(reference.loss)))
        #expect(result.stdout.contains("test error"))
        #expect(result.stdout.contains("confusion matrix"))
    }

    @Test func evaluateEnsembles() throws {
        // A model with itself (saved with and without its stack) is the model.
        let same = try dbn(["evaluate", "--model", f.path("net.safetensors"), "--model", f.path("net-nostack.safetensors"),
                            "--data", f.folder, "--json", "--quiet"], fixture: f)
        #expect(same.status == 0, "\(same)")
        let json = try same.json()
        let models = try #require(json["models"] as? [[String: Any]])
        #expect(models.count == 2)
        let single = try #require(models.first?["test_error"] as? Double)
        #expect(json["ensemble_test_error"] as? Double == single)
        #expect(json["test_error"] as? Double == single)
        #expect(same.stdout.split(separator: "\n").count == 1, "--quiet prints only the JSON line: \(same)")

        // Two different models: the argmax of the averaged class probabilities.
        let pair = try dbn(["evaluate", "--model", f.path("net.safetensors"), "--model", f.path("other.safetensors"),
                            "--data", f.folder, "--json"], fixture: f)
        #expect(pair.status == 0, "\(pair)")
        let a = f.network.probabilities(f.data.testImages), b = f.otherNetwork.probabilities(f.data.testImages)
        var errors = 0
        for r in 0..<20 {
            let mean = (0..<3).map { (Double(a[r, $0]) + Double(b[r, $0])) / 2 }
            if mean.indices.max(by: { mean[$0] < mean[$1] }) != f.data.testLabels[r] { errors += 1 }
        }
        let ensemble = try #require(try pair.json()["ensemble_test_error"] as? Double)
        #expect(ensemble == Double(errors) / 20)
        #expect(try pair.json()["test_error"] as? Double == ensemble)
        #expect(pair.stdout.contains("ensemble of 2 models"))
    }

    @Test func evaluateRejectsMisfits() throws {
        let stack = try dbn(["evaluate", "--model", f.path("stack.safetensors"), "--data", f.folder], fixture: f)
        expectCleanFailure(stack, naming: f.path("stack.safetensors"),
                           containing: "holds a rbm-stack, expected a network (train or finetune one")
        let wide = try dbn(["evaluate", "--model", f.path("wide.safetensors"), "--data", f.folder], fixture: f)
        expectCleanFailure(wide, naming: f.path("wide.safetensors"),
                           containing: "the model takes 784 inputs but the images have 16 pixels")
        let corrupt = try dbn(["evaluate", "--model", f.path("corrupt.safetensors"), "--data", f.folder], fixture: f)
        expectCleanFailure(corrupt, naming: f.path("corrupt.safetensors"))
        let missing = try dbn(["evaluate", "--model", f.path("missing.safetensors"), "--data", f.folder], fixture: f)
        expectCleanFailure(missing, naming: f.path("missing.safetensors"), containing: "no such file")
        let none = try dbn(["evaluate", "--data", f.folder], fixture: f)
        #expect(none.status != 0)
        #expect(none.stderr.contains("--model"), "\(none)")
    }

    // MARK: loglik

    @Test func loglikMatchesTheExactPartitionFunction() throws {
        let result = try dbn(["loglik", "--model", f.path("stack.safetensors"), "--data", f.folder, "--runs", "100",
                              "--temperatures", "2000", "--binarize", "threshold", "--json"], fixture: f)
        #expect(result.status == 0, "\(result)")
        let json = try result.json()
        let rbm = f.stack.layers[0]
        let exact = try rbm.exactLogPartition()
        let logZ = try #require(json["log_z"] as? Double)
        let low = try #require(json["log_z_low"] as? Double), high = try #require(json["log_z_high"] as? Double)
        #expect(abs(logZ - exact) < 0.1, "AIS \(logZ) vs exact \(exact)")
        #expect(low <= logZ && logZ <= high)
        // The averages are -F(v) - log Z over the thresholded images.
        let test = f.data.testImages.binarized(.threshold), train = f.data.trainImages.binarized(.threshold)
        let testLL = try #require(json["test_log_likelihood"] as? Double)
        let trainLL = try #require(json["train_log_likelihood"] as? Double)
        #expect(abs(testLL - rbm.averageLogLikelihood(test, logPartition: logZ)) < 1e-9)
        #expect(abs(trainLL - rbm.averageLogLikelihood(train, logPartition: logZ)) < 1e-9)
        #expect(json["runs"] as? Int == 100)
        #expect(json["temperatures"] as? Int == 2000)
        #expect(json["seconds"] is Double)
        #expect(result.stdout.contains("log Z"))
        // Reverse AIS: log Z from the other side, close to exact on this small model; the test
        // log-probability moves by the difference of the two estimates.
        let reverse = try #require(json["reverse_log_z"] as? Double)
        #expect(abs(reverse - exact) < 0.1, "reverse AIS \(reverse) vs exact \(exact)")
        let testReverse = try #require(json["test_log_likelihood_reverse"] as? Double)
        #expect(abs(testReverse - (testLL + logZ - reverse)) < 1e-9)
        #expect(json["reverse_gibbs_steps"] as? Int == 1000)
        #expect(result.stdout.contains("reverse AIS log Z"))
        let one = try dbn(["loglik", "--model", f.path("stack.safetensors"), "--data", f.folder, "--runs", "10",
                           "--temperatures", "20", "--no-reverse", "--json"], fixture: f)
        #expect(one.status == 0, "\(one)")
        let oneJSON = try one.json()
        #expect(oneJSON["reverse_log_z"] == nil && oneJSON["log_z"] is Double)
    }

    @Test func loglikBinarizesWithTheSeedAndReadsHigherLayersOfNetworkFiles() throws {
        // Stochastic binarization (the default) is `DataSet.binarize(.stochastic, seed:)`.
        let result = try dbn(["loglik", "--model", f.path("stack.safetensors"), "--data", f.folder, "--runs", "20",
                              "--temperatures", "300", "--seed", "7", "--json", "--quiet"], fixture: f)
        #expect(result.status == 0, "\(result)")
        var binary = f.data
        binary.binarize(.stochastic, seed: 7)
        let json = try result.json()
        let logZ = try #require(json["log_z"] as? Double)
        let testLL = try #require(json["test_log_likelihood"] as? Double)
        #expect(abs(testLL - f.stack.layers[0].averageLogLikelihood(binary.testImages, logPartition: logZ)) < 1e-9)

        // Layer 1 of a network file that carries its stack: the up-pass of the images.
        let upper = try dbn(["loglik", "--model", f.path("net.safetensors"), "--layer", "1", "--data", f.folder,
                             "--runs", "100", "--temperatures", "1000", "--binarize", "none", "--json"], fixture: f)
        #expect(upper.status == 0, "\(upper)")
        let upperJSON = try upper.json()
        let exact = try f.stack.layers[1].exactLogPartition()
        let upperLogZ = try #require(upperJSON["log_z"] as? Double)
        #expect(abs(upperLogZ - exact) < 0.1, "AIS \(upperLogZ) vs exact \(exact)")
        let hidden = f.stack.layers[0].hiddenProbabilities(f.data.testImages)
        let upperLL = try #require(upperJSON["test_log_likelihood"] as? Double)
        #expect(abs(upperLL - f.stack.layers[1].averageLogLikelihood(hidden, logPartition: upperLogZ)) < 1e-6)
    }

    @Test func loglikRejectsMisfits() throws {
        let noStack = try dbn(["loglik", "--model", f.path("net-nostack.safetensors"), "--data", f.folder], fixture: f)
        expectCleanFailure(noStack, naming: f.path("net-nostack.safetensors"), containing: "RBM stack")
        let gaussian = try dbn(["loglik", "--model", f.path("gaussian.safetensors"), "--data", f.folder], fixture: f)
        expectCleanFailure(gaussian, naming: f.path("gaussian.safetensors"), containing: "Bernoulli")
        let layer = try dbn(["loglik", "--model", f.path("stack.safetensors"), "--layer", "2", "--data", f.folder], fixture: f)
        expectCleanFailure(layer, naming: f.path("stack.safetensors"), containing: "2 RBMs")
        let runs = try dbn(["loglik", "--model", f.path("stack.safetensors"), "--runs", "1"], fixture: f)
        #expect(runs.status != 0)
        #expect(runs.stderr.contains("--runs must be between 2 and 1000000"), "\(runs)")
    }

    // MARK: filters

    @Test func filtersDrawsTheFirstLayersColumns() throws {
        let output = f.path("filters-\(UUID().uuidString).png")
        let result = try dbn(["filters", "--model", f.path("stack.safetensors"), "--output", output, "--count", "8",
                              "--columns", "4", "--upscale", "2", "--json"], fixture: f)
        #expect(result.status == 0, "\(result)")
        let bytes = fileBytes(output)
        let size = try #require(pngSize(bytes))
        #expect(size.width == 4 * (4 * 2 + 1) + 1 && size.height == 2 * (4 * 2 + 1) + 1)
        let expected = ImageGrid(tileWidth: 4, tileHeight: 4, columns: 4, scaling: .eachTileMinMax, upscale: 2)
            .image(columnsOf: f.stack.layers[0].weight, limit: 8).pngData()
        #expect(bytes == expected)
        let picture = try #require(try result.json()["picture"] as? [String: Any])
        #expect(picture["width"] as? Int == size.width && picture["height"] as? Int == size.height)

        // A network without its stack, shaped by its input_shape metadata: 4 filters of 2x5.
        let shapedOutput = f.path("shaped-\(UUID().uuidString).png")
        let shaped = try dbn(["filters", "--model", f.path("shaped.safetensors"), "--output", shapedOutput], fixture: f)
        #expect(shaped.status == 0, "\(shaped)")
        let shapedExpected = ImageGrid(tileWidth: 5, tileHeight: 2, columns: 4, scaling: .eachTileMinMax, upscale: 2)
            .image(columnsOf: f.shapedNetwork.layers[0].weight).pngData()
        #expect(fileBytes(shapedOutput) == shapedExpected)
    }

    @Test func filtersNeedsAnImageShape() throws {
        let output = f.path("odd-\(UUID().uuidString).png")
        let result = try dbn(["filters", "--model", f.path("odd.safetensors"), "--output", output], fixture: f)
        expectCleanFailure(result, naming: f.path("odd.safetensors"), containing: "not a square")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    // MARK: reconstruct

    @Test func reconstructDrawsPairsOfRows() throws {
        let output = f.path("recon-\(UUID().uuidString).png")
        let result = try dbn(["reconstruct", "--model", f.path("net.safetensors"), "--output", output, "--count", "5",
                              "--columns", "3", "--upscale", "1", "--data", f.folder, "--json"], fixture: f)
        #expect(result.status == 0, "\(result)")
        // Reference: up through both RBMs, down through both, with probabilities.
        let layers = f.stack.layers
        let reconstruction = layers[0].visibleProbabilities(layers[1].visibleProbabilities(
            layers[1].hiddenProbabilities(layers[0].hiddenProbabilities(f.data.testImages))))
        var squared = 0.0
        for i in reconstruction.elements.indices {
            let d = Double(reconstruction.elements[i]) - Double(f.data.testImages.elements[i])
            squared += d * d
        }
        let json = try result.json()
        let reported = try #require(json["squared_error"] as? Double)
        #expect(abs(reported - squared / 20) < 1e-5 * max(1, squared / 20))
        // Rows: inputs 0-2, reconstructions 0-2, inputs 3-4 + a blank, reconstructions 3-4 + a blank.
        let blank = [Float](repeating: 128.0 / 255.0, count: 16)
        let input = { (i: Int) in f.data.testImages.row(i) }, recon = { (i: Int) in reconstruction.row(i) }
        let tiles = [input(0), input(1), input(2), recon(0), recon(1), recon(2),
                     input(3), input(4), blank, recon(3), recon(4), blank]
        let expected = ImageGrid(tileWidth: 4, tileHeight: 4, columns: 3, scaling: .clampedToUnit).image(tiles: tiles)
        let bytes = fileBytes(output)
        let size = try #require(pngSize(bytes))
        #expect(size.width == 3 * 5 + 1 && size.height == 4 * 5 + 1)
        #expect(bytes == expected.pngData())

        let noStack = try dbn(["reconstruct", "--model", f.path("net-nostack.safetensors"), "--output", output,
                               "--data", f.folder], fixture: f)
        expectCleanFailure(noStack, naming: f.path("net-nostack.safetensors"), containing: "RBM stack")
    }

    // MARK: sample

    @Test func sampleIsSeededAndDrawsTheRequestedGrid() throws {
        func run(_ seed: Int, layer: String) throws -> (CommandResult, [UInt8]) {
            let output = f.path("samples-\(UUID().uuidString).png")
            let result = try dbn(["sample", "--model", f.path("stack.safetensors"), "--output", output, "--count", "6",
                                  "--steps", "20", "--layer", layer, "--seed", String(seed), "--data", f.folder, "--json"],
                                 fixture: f)
            return (result, fileBytes(output))
        }
        let (top, topBytes) = try run(1, layer: "top")
        #expect(top.status == 0, "\(top)")
        let size = try #require(pngSize(topBytes))
        #expect(size.width == 6 * (4 * 2 + 1) + 1 && size.height == 1 * (4 * 2 + 1) + 1)
        let json = try top.json()
        #expect(json["layer"] as? Int == 1)
        let mean = try #require(json["mean_pixel"] as? Double)
        #expect(mean > 0 && mean < 1)
        #expect((json["start_images"] as? [Int])?.count == 6)
        let (again, againBytes) = try run(1, layer: "top")
        #expect(again.status == 0 && againBytes == topBytes, "the same seed gives the same picture")
        let (other, otherBytes) = try run(2, layer: "top")
        #expect(other.status == 0 && otherBytes != topBytes, "another seed gives another picture")
        let (first, firstBytes) = try run(1, layer: "0")
        #expect(first.status == 0 && pngSize(firstBytes) != nil, "\(first)")
        #expect(try first.json()["layer"] as? Int == 0)
        let (bad, _) = try run(1, layer: "middle")
        #expect(bad.status != 0 && bad.stderr.contains("--layer"), "\(bad)")
    }

    // MARK: inspect

    @Test func inspectDescribesANetworkWithItsStack() throws {
        let result = try dbn(["inspect", f.path("net.safetensors"), "--json"], fixture: f)
        #expect(result.status == 0, "\(result)")
        let json = try result.json()
        #expect(json["kind"] as? String == "network")
        #expect(json["layer_sizes"] as? [Int] == [16, 8, 6, 3])
        #expect(json["rbm_layer_sizes"] as? [Int] == [16, 8, 6])
        #expect(json["activation"] as? String == "sigmoid")
        #expect(json["output"] as? String == "softmax")
        #expect(json["format_version"] as? Int == 1)
        #expect(json["problem"] == nil)
        let expectedParameters = f.network.parameterCount
            + f.stack.layers.reduce(0) { $0 + $1.weight.count + $1.visibleBias.count + $1.hiddenBias.count }
        #expect(json["parameter_count"] as? Int == expectedParameters)
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        #expect(tensors.count == 3 * 2 + 2 * 3)
        let first = try #require(tensors.first { $0["name"] as? String == "layers.0.weight" })
        #expect(first["shape"] as? [Int] == [16, 8] && first["dtype"] as? String == "F32")
        let size = try FileManager.default.attributesOfItem(atPath: f.path("net.safetensors"))[.size] as? Int
        #expect(json["file_size"] as? Int == size)
        // For people: an aligned list.
        #expect(result.stdout.contains("16-8-6-3"))
        #expect(result.stdout.contains("layers.0.weight"))
        #expect(result.stdout.contains("rbm.1.hidden_bias"))

        let stack = try dbn(["inspect", f.path("stack.safetensors")], fixture: f)
        #expect(stack.status == 0 && stack.stdout.contains("rbm-stack") && stack.stdout.contains("16-8-6"), "\(stack)")
    }

    // MARK: errors shared by every command

    @Test(arguments: ["evaluate", "loglik", "filters", "reconstruct", "sample", "inspect"])
    func missingAndCorruptModelFiles(command: String) throws {
        for name in ["missing.safetensors", "corrupt.safetensors"] {
            let model = f.path(name)
            var arguments = command == "inspect" ? [command, model] : [command, "--model", model]
            if ["filters", "reconstruct", "sample"].contains(command) { arguments += ["--output", f.path("never.png")] }
            if command != "inspect" && command != "filters" { arguments += ["--data", f.folder] }
            let result = try dbn(arguments, fixture: f)
            expectCleanFailure(result, naming: model, containing: name.hasPrefix("missing") ? "no such file" : nil)
        }
        #expect(!FileManager.default.fileExists(atPath: f.path("never.png")))
    }
}

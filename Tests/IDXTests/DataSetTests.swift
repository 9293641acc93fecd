import Testing
import Zlib
import Linalg
@testable import IDX

/// A small synthetic data set on disk: `train` and `test` images of `imageShape` (u8), labels u8.
private struct SyntheticData {
    let imageShape: [Int]
    let trainPixels: [UInt8], trainLabels: [UInt8]
    let testPixels: [UInt8], testLabels: [UInt8]

    init(imageShape: [Int] = [5, 7], trainCount: Int = 6, testCount: Int = 4, seed: UInt64 = 1) {
        var generator = Xoshiro256StarStar(seed: seed)
        let pixels = imageShape.reduce(1, *)
        self.imageShape = imageShape
        trainPixels = (0..<trainCount * pixels).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        testPixels = (0..<testCount * pixels).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        trainLabels = (0..<trainCount).map { UInt8($0 % 3) }
        testLabels = (0..<testCount).map { UInt8(($0 * 2) % 5) }
    }

    var trainImageFile: [UInt8] { idxU8(shape: [trainLabels.count] + imageShape, values: trainPixels) }
    var testImageFile: [UInt8] { idxU8(shape: [testLabels.count] + imageShape, values: testPixels) }
    var trainLabelFile: [UInt8] { idxU8(shape: [trainLabels.count], values: trainLabels) }
    var testLabelFile: [UInt8] { idxU8(shape: [testLabels.count], values: testLabels) }

    /// Writes the four files with names `stem-of-role` + `separator` + suffix, gzipped or not.
    func write(into folder: TemporaryFolder, separator: String, gzip: Bool, skip: DataFileRole? = nil) throws {
        let files: [(DataFileRole, String, [UInt8])] = [
            (.trainImages, "train-images\(separator)idx3-ubyte", trainImageFile),
            (.trainLabels, "train-labels\(separator)idx1-ubyte", trainLabelFile),
            (.testImages, "t10k-images\(separator)idx3-ubyte", testImageFile),
            (.testLabels, "t10k-labels\(separator)idx1-ubyte", testLabelFile),
        ]
        for (role, name, bytes) in files where role != skip {
            try folder.write(gzip ? ZlibCodec.gzip(bytes) : bytes, to: gzip ? name + ".gz" : name)
        }
    }

    /// Checks `data` against the bytes written, converted independently (byte / 255).
    func check(_ data: DataSet, sourceLocation: SourceLocation = #_sourceLocation) {
        let pixels = imageShape.reduce(1, *)
        #expect(data.imageShape == imageShape, sourceLocation: sourceLocation)
        #expect(data.pixelCount == pixels, sourceLocation: sourceLocation)
        #expect(data.trainImages.rows == trainLabels.count && data.trainImages.columns == pixels,
                sourceLocation: sourceLocation)
        #expect(data.testImages.rows == testLabels.count && data.testImages.columns == pixels,
                sourceLocation: sourceLocation)
        #expect(data.trainImages.elements == trainPixels.map { Float($0) / 255 }, sourceLocation: sourceLocation)
        #expect(data.testImages.elements == testPixels.map { Float($0) / 255 }, sourceLocation: sourceLocation)
        #expect(data.trainLabels == trainLabels.map(Int.init), sourceLocation: sourceLocation)
        #expect(data.testLabels == testLabels.map(Int.init), sourceLocation: sourceLocation)
        #expect(data.classCount == Int(max(trainLabels.max()!, testLabels.max()!)) + 1, sourceLocation: sourceLocation)
    }
}

@Suite("Data sets")
struct DataSetTests {
    @Test("a folder with either spelling, plain or gzipped, 5x7 images",
          arguments: [("-", false), ("-", true), (".", false), (".", true)])
    func loadFolder(separator: String, gzip: Bool) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let synthetic = SyntheticData()
        try synthetic.write(into: folder, separator: separator, gzip: gzip)
        let data = try DataSet.load(folder: folder.path)
        synthetic.check(data)
        #expect(data.classCount == 5)
        #expect(data.files.map(\.role) == DataFileRole.allCases)
        #expect(data.files.allSatisfy { $0.gzipped == gzip && $0.dataType == .uint8 })
        #expect(data.files.map(\.shape) == [[6, 5, 7], [6], [4, 5, 7], [4]])
        let suffix = gzip ? ".gz" : ""
        #expect(data.files[0].path == folder.file("train-images\(separator)idx3-ubyte\(suffix)"))
        #expect(data.files[3].path == folder.file("t10k-labels\(separator)idx1-ubyte\(suffix)"))
        #expect(data.files[0].description
                == "training images: \(data.files[0].path)\(gzip ? " (gzip)" : ""), u8, 6 x 5 x 7")
    }

    @Test("four explicit paths, with any names; images of rank 3 after the sample dimension")
    func loadExplicitPaths() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let synthetic = SyntheticData(imageShape: [3, 2, 4], trainCount: 5, testCount: 3, seed: 9)
        let data = try DataSet.load(
            trainImages: folder.write(ZlibCodec.gzip(synthetic.trainImageFile), to: "a"),
            trainLabels: folder.write(synthetic.trainLabelFile, to: "b"),
            testImages: folder.write(synthetic.testImageFile, to: "c"),
            testLabels: folder.write(synthetic.testLabelFile, to: "d.gz"))
        synthetic.check(data)
        #expect(data.files.map(\.gzipped) == [true, false, false, false])
    }

    @Test("training images only, without label or test files")
    func trainingImagesOnly() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let synthetic = SyntheticData()
        try folder.write(ZlibCodec.gzip(synthetic.trainImageFile), to: "train-images.idx3-ubyte.gz")
        let set = try DataSet.loadTrainingImages(folder: folder.path)
        #expect(set.images.elements == synthetic.trainPixels.map { Float($0) / 255 })
        #expect(set.images.rows == 6 && set.images.columns == 35)
        #expect(set.imageShape == [5, 7])
        #expect(set.file.role == .trainImages && set.file.gzipped)
    }

    @Test("a missing file names the folder and every name tried")
    func missingFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try SyntheticData().write(into: folder, separator: "-", gzip: true, skip: .testLabels)
        let error = caught { () throws(IDXError) in try DataSet.load(folder: folder.path) }
        let tried = ["t10k-labels-idx1-ubyte", "t10k-labels-idx1-ubyte.gz", "t10k-labels.idx1-ubyte", "t10k-labels.idx1-ubyte.gz"]
        #expect(error == .missingDataFile(folder: folder.path, role: .testLabels, tried: tried))
        #expect(error?.description == "\(folder.path): no test labels file: tried \(tried.joined(separator: ", "))")
    }

    @Test("a missing folder, and a file given as the folder")
    func badFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let missing = folder.file("nothing")
        #expect(caught { () throws(IDXError) in try DataSet.load(folder: missing) } == .folderNotFound(path: missing))
        let file = try folder.write([1], to: "file")
        let error = caught { () throws(IDXError) in try DataSet.loadTrainingImages(folder: file) }
        #expect(error == .notAFolder(path: file))
        #expect(error?.description == "\(file): expected a data folder, found a file")
    }

    @Test("label counts that differ from image counts name both files and both counts")
    func countMismatch() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let synthetic = SyntheticData()
        try synthetic.write(into: folder, separator: "-", gzip: false)
        let labels = try folder.write(idxU8(shape: [5], values: [0, 1, 2, 0, 1]), to: "train-labels-idx1-ubyte")
        let error = caught { () throws(IDXError) in try DataSet.load(folder: folder.path) }
        let images = folder.file("train-images-idx3-ubyte")
        #expect(error == .labelCountMismatch(imageFile: images, imageCount: 6, labelFile: labels, labelCount: 5))
        #expect(error?.description
                == "\(images): 6 images, but \(labels) holds 5 labels: expected one label per image")
    }

    @Test("labels outside 0..<256 report the file, the first bad index and its value")
    func labelOutOfRange() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let wide = try folder.write(IDXFile.encode(IDXArray(shape: [4], int16: [3, 255, 300, 999])), to: "wide")
        let error = caught { () throws(IDXError) in try DataSet.loadLabels(wide) }
        #expect(error == .labelOutOfRange(file: wide, index: 2, value: 300))
        #expect(error?.description == "\(wide): label 300 at index 2: expected labels in 0..<256")

        let negative = try folder.write(IDXFile.encode(IDXArray(shape: [3], int8: [1, 2, -1])), to: "negative")
        #expect(caught { () throws(IDXError) in try DataSet.loadLabels(negative) }
                == .labelOutOfRange(file: negative, index: 2, value: -1))

        // 255 in an i32 file is fine.
        let edge = try folder.write(IDXFile.encode(IDXArray(shape: [2], int32: [0, 255])), to: "edge")
        #expect(try DataSet.loadLabels(edge).labels == [0, 255])
    }

    @Test("label files need rank 1 and an integer type")
    func labelShapeAndType() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let float = try folder.write(IDXFile.encode(IDXArray(shape: [2], float32: [0, 1])), to: "float")
        let e1 = caught { () throws(IDXError) in try DataSet.loadLabels(float) }
        #expect(e1 == .labelNotInteger(file: float, dataType: .float32))
        #expect(e1?.description.hasPrefix("\(float): label file of type f32: expected an integer type") == true)
        let matrix = try folder.write(idxU8(shape: [2, 2], values: [0, 1, 1, 0]), to: "matrix")
        let e2 = caught { () throws(IDXError) in try DataSet.loadLabels(matrix) }
        #expect(e2 == .labelRank(file: matrix, shape: [2, 2]))
        #expect(e2?.description == "\(matrix): label file of shape 2 x 2: expected rank 1 (one label per sample)")
    }

    @Test("image files need rank >= 2 and the same image shape in both splits")
    func imageShapes() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let flat = try folder.write(idxU8(shape: [3], values: [1, 2, 3]), to: "flat")
        let e1 = caught { () throws(IDXError) in try DataSet.loadImages(flat) }
        #expect(e1 == .badImageShape(file: flat, shape: [3]))
        #expect(e1?.description.hasPrefix("\(flat): image file of shape 3:") == true)
        let empty = try folder.write(idxU8(shape: [3, 0], values: []), to: "empty")
        #expect(caught { () throws(IDXError) in try DataSet.loadImages(empty) } == .badImageShape(file: empty, shape: [3, 0]))

        let synthetic = SyntheticData(imageShape: [5, 7])
        let other = SyntheticData(imageShape: [7, 5])
        let trainImages = try folder.write(synthetic.trainImageFile, to: "ti")
        let testImages = try folder.write(other.testImageFile, to: "si")
        let trainLabels = try folder.write(synthetic.trainLabelFile, to: "tl")
        let testLabels = try folder.write(other.testLabelFile, to: "sl")
        let e2 = caught { () throws(IDXError) in
            try DataSet.load(trainImages: trainImages, trainLabels: trainLabels, testImages: testImages, testLabels: testLabels)
        }
        #expect(e2 == .imageShapeMismatch(trainFile: trainImages, trainShape: [5, 7], testFile: testImages, testShape: [7, 5]))
        #expect(e2?.description.hasPrefix("\(testImages): test images are 7 x 5 but the training images in \(trainImages) are 5 x 7") == true)
    }

    @Test("intensities: u8 / 255, signed integers / type max, floats as they are")
    func intensities() throws {
        #expect(try IDXArray(shape: [3], uint8: [0, 51, 255]).intensities(file: "f") == [0, 0.2, 1])
        #expect(try IDXArray(shape: [3], int8: [0, 127, 64]).intensities(file: "f") == [0, 1, Float(64) / 127])
        #expect(try IDXArray(shape: [2], int16: [32767, 100]).intensities(file: "f") == [1, Float(100) / 32767])
        #expect(try IDXArray(shape: [2], int32: [.max, 1 << 30]).intensities(file: "f")
                == [1, Float(Double(1 << 30) / Double(Int32.max))])
        #expect(try IDXArray(shape: [3], float32: [-0.5, 0.25, 3]).intensities(file: "f") == [-0.5, 0.25, 3])
        #expect(try IDXArray(shape: [2], float64: [0.1, 1e-3]).intensities(file: "f") == [Float(0.1), Float(1e-3)])
    }

    @Test("negative integer intensities and non-finite floats are errors naming the file and index")
    func badIntensities() {
        let e1 = caught { () throws(IDXError) in try IDXArray(shape: [3], int16: [5, 0, -7]).intensities(file: "img") }
        #expect(e1 == .negativeIntensity(file: "img", index: 2, value: -7))
        #expect(e1?.description == "img: value -7 at index 2: expected image intensities >= 0")
        let e2 = caught { () throws(IDXError) in try IDXArray(shape: [3], float64: [0, 1e300, 0]).intensities(file: "img") }
        #expect(e2 == .nonFiniteValue(file: "img", index: 1, value: 1e300))
        #expect(e2?.description.hasPrefix("img: value 1e+300 at index 1 is not finite as a 32-bit float") == true)
        let e3 = caught { () throws(IDXError) in try IDXArray(shape: [2], float32: [.nan, 1]).intensities(file: "img") }
        guard case .nonFiniteValue("img", 0, let value) = e3 else { Issue.record("got \(String(describing: e3))"); return }
        #expect(value.isNaN)
        let e4 = caught { () throws(IDXError) in try IDXArray(shape: [2], float32: [1, -.infinity]).intensities(file: "img") }
        #expect(e4 == .nonFiniteValue(file: "img", index: 1, value: -.infinity))
    }

    @Test("label histogram against a brute-force count")
    func histogram() {
        var generator = Xoshiro256StarStar(seed: 3)
        let labels = (0..<1000).map { _ in Int(generator.next() % 7) }
        let counts = labelCounts(labels, classCount: 9)
        #expect(counts == (0..<9).map { c in labels.filter { $0 == c }.count })
        #expect(counts.reduce(0, +) == 1000 && counts[7] == 0 && counts[8] == 0)
    }
}

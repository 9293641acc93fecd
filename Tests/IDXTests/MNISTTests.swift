import Files
import Testing
import Zlib
import Linalg
@testable import IDX

/// The bundled MNIST in datasets/mnist. Loading it takes about 2 s in a debug build, so the
/// shape and histogram test runs by default; the timed load with a full value check is opt-in.
@Suite("Bundled MNIST")
struct MNISTTests {
    static let folder = packageRoot + "/datasets/mnist"
    static let trainCounts = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    static let testCounts = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

    /// Shapes, labels and file infos of the loaded data set.
    private static func checkShapesAndLabels(_ data: DataSet) {
        #expect(data.trainImages.rows == 60000 && data.trainImages.columns == 784)
        #expect(data.testImages.rows == 10000 && data.testImages.columns == 784)
        #expect(data.imageShape == [28, 28] && data.classCount == 10)
        #expect(labelCounts(data.trainLabels, classCount: 10) == trainCounts)
        #expect(labelCounts(data.testLabels, classCount: 10) == testCounts)
        #expect(Array(data.trainLabels.prefix(10)) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        #expect(Array(data.testLabels.prefix(10)) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        #expect(data.files.map(\.shape) == [[60000, 28, 28], [60000], [10000, 28, 28], [10000]])
        #expect(data.files.allSatisfy { $0.gzipped && $0.dataType == .uint8 })
    }

    /// Compares every `stride`-th pixel with an independent decode: gunzip directly, skip the
    /// 16-byte header, divide by 255.
    private static func checkPixels(_ data: DataSet, stride step: Int) throws {
        for (role, matrix) in [(DataFileRole.trainImages, data.trainImages), (.testImages, data.testImages)] {
            let raw = try ZlibCodec.gunzip(FileIO.readAll(DataSet.locate(role, in: folder)))
            #expect(raw.count == 16 + matrix.count)
            var mismatches = 0, checked = 0
            matrix.elements.withUnsafeBufferPointer { values in
                for i in Swift.stride(from: 0, to: values.count, by: step) {
                    if values[i] != Float(raw[16 + i]) / 255 || !(0...1).contains(values[i]) { mismatches += 1 }
                    checked += 1
                }
            }
            #expect(mismatches == 0, "\(role.rawValue): \(mismatches) of \(checked) pixels differ")
        }
    }

    @Test("the bundled data set: shapes, label histograms, sampled pixels")
    func bundledDataSet() throws {
        let data = try DataSet.load(folder: Self.folder)
        Self.checkShapesAndLabels(data)
        try Self.checkPixels(data, stride: 101)
    }

    @Test("timed load of the bundled data set, every pixel checked",
          .enabled(if: fullTestsEnabled, "set DBN_FULL_TESTS=1"))
    func timedLoad() throws {
        let clock = ContinuousClock()
        var times = [Duration]()
        var data: DataSet?
        for _ in 0..<3 {
            data = nil
            let start = clock.now
            data = try DataSet.load(folder: Self.folder)
            times.append(clock.now - start)
        }
        let ms = times.map { Int(($0 / .milliseconds(1)).rounded()) }
        print("MNIST load (60000 + 10000 images and labels from .gz): best \(ms.min()!) ms, runs \(ms) ms")
        let loaded = try #require(data)
        Self.checkShapesAndLabels(loaded)
        try Self.checkPixels(loaded, stride: 1)
    }
}

import Linalg

/// A labelled image data set such as MNIST, ready for training.
///
/// Samples are rows: `trainImages` has shape (trainLabels.count, pixelCount), each row one image
/// flattened in C order, intensities as `IDXArray.intensities(file:)` defines them ([0, 1] for
/// integer files).
public struct DataSet: Sendable {
    /// Training images, shape (N_train, pixelCount).
    public var trainImages: Matrix
    /// Training labels, N_train values in 0..<classCount.
    public var trainLabels: [Int]
    /// Test images, shape (N_test, pixelCount).
    public var testImages: Matrix
    /// Test labels, N_test values in 0..<classCount.
    public var testLabels: [Int]
    /// The shape of one image, e.g. [28, 28] (the file's shape without the sample dimension).
    public var imageShape: [Int]
    /// The largest label over both splits, plus one (0 when there are no labels).
    public var classCount: Int
    /// The files the data set was loaded from (empty when built in memory).
    public var files: [DataFileInfo]

    /// A data set from matrices and labels; `classCount` is computed from the labels.
    ///
    /// - Precondition: one label per row, labels >= 0, both matrices with
    ///   `imageShape`'s product of columns.
    public init(trainImages: Matrix, trainLabels: [Int], testImages: Matrix, testLabels: [Int],
                imageShape: [Int], files: [DataFileInfo] = []) {
        let pixels = imageShape.reduce(1, *)
        precondition(trainImages.rows == trainLabels.count && testImages.rows == testLabels.count,
                     "DataSet: \(trainImages.rows)/\(testImages.rows) images for \(trainLabels.count)/\(testLabels.count) labels")
        precondition(trainImages.columns == pixels && testImages.columns == pixels,
                     "DataSet: \(trainImages.columns)/\(testImages.columns) columns for image shape \(imageShape)")
        precondition(!trainLabels.contains { $0 < 0 } && !testLabels.contains { $0 < 0 }, "DataSet: negative label")
        self.trainImages = trainImages
        self.trainLabels = trainLabels
        self.testImages = testImages
        self.testLabels = testLabels
        self.imageShape = imageShape
        self.classCount = max(trainLabels.max() ?? -1, testLabels.max() ?? -1) + 1
        self.files = files
    }

    /// Values per image (the product of `imageShape`).
    public var pixelCount: Int { imageShape.reduce(1, *) }
}

import Linalg

/// One split's images and labels, e.g. the test split that evaluation and pictures need
/// without loading the training set.
public struct LabeledImages: Sendable {
    /// Images, shape (n x pixels), intensities in [0, 1] for integer files.
    public var images: Matrix
    /// n labels.
    public var labels: [Int]
    /// The shape of one image, e.g. [28, 28].
    public var imageShape: [Int]
    /// The two files it came from (images, labels).
    public var files: [DataFileInfo]
    /// The largest label plus one.
    public var classCount: Int { (labels.max() ?? -1) + 1 }
}

extension DataSet {
    /// Loads an image file and its label file (plain or gzipped) as one split, with the checks
    /// of `loadImages` and `loadLabels` and as many labels as images.
    public static func loadSplit(images: String, labels: String, roles: (images: DataFileRole, labels: DataFileRole),
                                 decompressionCap: Int = IDXFile.defaultDecompressionCap) throws(IDXError) -> LabeledImages {
        let imageSet = try loadImages(images, role: roles.images, decompressionCap: decompressionCap)
        let labelFile = try loadLabels(labels, role: roles.labels, decompressionCap: decompressionCap)
        try checkCounts(imageSet, labelFile)
        return LabeledImages(images: imageSet.images, labels: labelFile.labels, imageShape: imageSet.imageShape,
                             files: [imageSet.file, labelFile.file])
    }

    /// The test images and labels of an MNIST-style folder.
    public static func loadTestSplit(folder: String, decompressionCap: Int = IDXFile.defaultDecompressionCap)
        throws(IDXError) -> LabeledImages {
        try loadSplit(images: locate(.testImages, in: folder), labels: locate(.testLabels, in: folder),
                      roles: (.testImages, .testLabels), decompressionCap: decompressionCap)
    }
}

import Files
import Linalg

/// Loading a data set from IDX files: a folder in the MNIST layout, or four explicit paths.
extension DataSet {
    /// The largest label accepted in a label file, plus one.
    public static let labelLimit = 256

    /// Loads the four files of an MNIST-style folder (names as in `DataFileRole.candidateNames`,
    /// plain or gzipped).
    /// - Throws: `IDXError`, e.g. `.missingDataFile` naming the folder and the names tried.
    public static func load(folder: String, decompressionCap: Int = IDXFile.defaultDecompressionCap)
        throws(IDXError) -> DataSet {
        try checkFolder(folder)
        return try load(trainImages: locate(.trainImages, in: folder),
                        trainLabels: locate(.trainLabels, in: folder),
                        testImages: locate(.testImages, in: folder),
                        testLabels: locate(.testLabels, in: folder),
                        decompressionCap: decompressionCap)
    }

    /// Loads a data set from four explicit IDX files (plain or gzipped).
    ///
    /// Checks: image files of rank >= 2 and the same image shape; label files of rank 1, an
    /// integer type, values in 0..<256; as many labels as images in each split.
    public static func load(trainImages: String, trainLabels: String, testImages: String, testLabels: String,
                            decompressionCap: Int = IDXFile.defaultDecompressionCap) throws(IDXError) -> DataSet {
        let train = try loadSplit(images: trainImages, labels: trainLabels, roles: (.trainImages, .trainLabels),
                                  decompressionCap: decompressionCap)
        let test = try loadImages(testImages, role: .testImages, decompressionCap: decompressionCap)
        if test.imageShape != train.imageShape {
            throw .imageShapeMismatch(trainFile: trainImages, trainShape: train.imageShape,
                                      testFile: testImages, testShape: test.imageShape)
        }
        let testLabelFile = try loadLabels(testLabels, role: .testLabels, decompressionCap: decompressionCap)
        try checkCounts(test, testLabelFile)
        return DataSet(trainImages: train.images, trainLabels: train.labels,
                       testImages: test.images, testLabels: testLabelFile.labels,
                       imageShape: train.imageShape, files: train.files + [test.file, testLabelFile.file])
    }

    /// The training images of an MNIST-style folder, without labels (for pre-training).
    public static func loadTrainingImages(folder: String, decompressionCap: Int = IDXFile.defaultDecompressionCap)
        throws(IDXError) -> ImageSet {
        try checkFolder(folder)
        return try loadImages(locate(.trainImages, in: folder), role: .trainImages, decompressionCap: decompressionCap)
    }

    /// The path of the file for `role` in `folder`: the first of `role.candidateNames` present.
    /// - Throws: `.folderNotFound`, `.notAFolder`, or `.missingDataFile` listing the names tried.
    public static func locate(_ role: DataFileRole, in folder: String) throws(IDXError) -> String {
        try checkFolder(folder)
        for name in role.candidateNames {
            let path = FileIO.join(folder, name)
            if FileIO.kind(of: path) != .missing { return path }
        }
        throw .missingDataFile(folder: folder, role: role, tried: role.candidateNames)
    }

    /// An image file as a matrix of intensities, shape (N, pixels), N the file's first dimension.
    public static func loadImages(_ path: String, role: DataFileRole = .trainImages,
                                  decompressionCap: Int = IDXFile.defaultDecompressionCap) throws(IDXError) -> ImageSet {
        let content = try IDXFile.content(of: path)
        let (array, gzipped) = try IDXFile.decodeDetailed(content, name: path, decompressionCap: decompressionCap)
        var set = try imageSet(from: array, path: path, role: role, gzipped: gzipped)
        set.file.measure(content)
        return set
    }

    /// The checks and conversion of `loadImages` applied to an array already decoded from `path`.
    static func imageSet(from array: IDXArray, path: String, role: DataFileRole, gzipped: Bool)
        throws(IDXError) -> ImageSet {
        let imageShape = Array(array.shape.dropFirst())
        // Checked: with no images (first dimension 0), the image dimensions may multiply past Int.max.
        guard array.rank >= 2, let pixels = IDXArray.elementCount(of: imageShape), pixels > 0 else {
            throw .badImageShape(file: path, shape: array.shape)
        }
        let values = try array.intensities(file: path)
        let info = DataFileInfo(role: role, path: path, dataType: array.dataType, shape: array.shape, gzipped: gzipped)
        return ImageSet(images: Matrix(rows: array.shape[0], columns: pixels, elements: values),
                        imageShape: imageShape, file: info)
    }

    /// A label file: rank 1, an integer type, every value in 0..<256.
    public static func loadLabels(_ path: String, role: DataFileRole = .trainLabels,
                                  decompressionCap: Int = IDXFile.defaultDecompressionCap) throws(IDXError)
        -> (labels: [Int], file: DataFileInfo) {
        let content = try IDXFile.content(of: path)
        let (array, gzipped) = try IDXFile.decodeDetailed(content, name: path, decompressionCap: decompressionCap)
        var result = try labels(from: array, path: path, role: role, gzipped: gzipped)
        result.file.measure(content)
        return result
    }

    /// The checks and conversion of `loadLabels` applied to an array already decoded from `path`.
    static func labels(from array: IDXArray, path: String, role: DataFileRole, gzipped: Bool)
        throws(IDXError) -> (labels: [Int], file: DataFileInfo) {
        if array.rank != 1 { throw .labelRank(file: path, shape: array.shape) }
        guard let labels = array.integers() else { throw .labelNotInteger(file: path, dataType: array.dataType) }
        if let index = labels.firstIndex(where: { $0 < 0 || $0 >= labelLimit }) {
            throw .labelOutOfRange(file: path, index: index, value: labels[index])
        }
        let info = DataFileInfo(role: role, path: path, dataType: array.dataType, shape: array.shape, gzipped: gzipped)
        return (labels, info)
    }

    private static func checkFolder(_ folder: String) throws(IDXError) {
        switch FileIO.kind(of: folder) {
        case .missing: throw .folderNotFound(path: folder)
        case .file: throw .notAFolder(path: folder)
        case .directory: return
        }
    }

    static func checkCounts(_ images: ImageSet, _ labels: (labels: [Int], file: DataFileInfo)) throws(IDXError) {
        if images.images.rows != labels.labels.count {
            throw .labelCountMismatch(imageFile: images.file.path, imageCount: images.images.rows,
                                      labelFile: labels.file.path, labelCount: labels.labels.count)
        }
    }
}

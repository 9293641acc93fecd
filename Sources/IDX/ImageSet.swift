import Linalg

/// Images without labels (all that pre-training needs).
public struct ImageSet: Sendable {
    /// The images, shape (N, pixelCount).
    public var images: Matrix
    /// The shape of one image, e.g. [28, 28].
    public var imageShape: [Int]
    /// The file they were loaded from.
    public var file: DataFileInfo

    /// An image set from a matrix of shape (N, product of `imageShape`).
    public init(images: Matrix, imageShape: [Int], file: DataFileInfo) {
        precondition(images.columns == imageShape.reduce(1, *),
                     "ImageSet: \(images.columns) columns for image shape \(imageShape)")
        self.images = images
        self.imageShape = imageShape
        self.file = file
    }
}

import Files

/// An 8-bit grayscale image: `pixels` row-major, top row first, 0 black to 255 white.
public struct GrayscaleImage: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width * height` levels, row-major.
    public var pixels: [UInt8]

    /// An image over `pixels`. Precondition: `pixels.count == width * height`, sizes >= 0.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && pixels.count == width * height,
                     "GrayscaleImage: \(pixels.count) pixels for \(width) x \(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An image filled with `level`.
    public init(width: Int, height: Int, level: UInt8) {
        self.init(width: width, height: height, pixels: [UInt8](repeating: level, count: width * height))
    }

    /// The level at column `x`, row `y` (row 0 at the top).
    public subscript(x: Int, y: Int) -> UInt8 {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// The image as PNG bytes. Precondition: width and height positive.
    public func pngData() -> [UInt8] {
        PNG.encodeGrayscale(width: width, height: height, pixels: pixels)
    }

    /// Writes the image as a PNG file, atomically.
    public func write(to path: String) throws(FileWriteError) {
        try PNG.write(pngData(), to: path)
    }
}

import Linalg

/// Tiles many small images (each a `Float` vector of `tileHeight * tileWidth` values, row-major)
/// into one grayscale grid: e.g. the rows of a data Matrix (samples, reconstructions) or the
/// columns of a weight Matrix of shape (visible, hidden) (one filter per hidden unit).
///
/// Tiles fill the grid row by row; a 1-pixel border of `borderLevel` surrounds every tile
/// (the border is not upscaled), and unused cells of the last row stay `borderLevel`. The
/// image is `columns * tileWidth * upscale + columns + 1` pixels wide and
/// `rows * tileHeight * upscale + rows + 1` high, with `rows = ceil(tiles / columns)`.
public struct ImageGrid: Sendable {
    /// How tile values become gray levels (0 black ... 255 white).
    public enum Scaling: Sendable, Equatable {
        /// Each tile stretched from its own minimum (black) to its maximum (white), for
        /// filters. A constant tile is mid-gray (128). Infinities and NaN are left out of the
        /// minimum and maximum; +inf shows white, -inf and NaN black.
        case eachTileMinMax
        /// All tiles stretched by the minimum and maximum over all of them, to compare
        /// magnitudes across filters. Same rules as `eachTileMinMax`.
        case allTilesMinMax
        /// Values clamped to [0, 1] (0 black, 1 white), for data and reconstructions
        /// (probabilities); NaN shows black.
        case clampedToUnit
    }

    /// Width of one tile in values.
    public var tileWidth: Int
    /// Height of one tile in values.
    public var tileHeight: Int
    /// Tiles per grid row; nil picks ceil(sqrt(number of tiles)).
    public var columns: Int?
    /// How values map to gray levels.
    public var scaling: Scaling
    /// Each value becomes an `upscale` x `upscale` block of pixels (1 = no upscaling).
    public var upscale: Int
    /// The gray level of the border and of empty cells.
    public var borderLevel: UInt8

    /// A grid of `tileWidth` x `tileHeight` tiles. Preconditions: positive sizes, columns
    /// and upscale.
    public init(tileWidth: Int, tileHeight: Int, columns: Int? = nil, scaling: Scaling,
                upscale: Int = 1, borderLevel: UInt8 = 128) {
        precondition(tileWidth > 0 && tileHeight > 0, "ImageGrid: tile size \(tileWidth) x \(tileHeight)")
        precondition(columns.map { $0 > 0 } ?? true, "ImageGrid: columns must be positive")
        precondition(upscale > 0, "ImageGrid: upscale must be positive")
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.columns = columns
        self.scaling = scaling
        self.upscale = upscale
        self.borderLevel = borderLevel
    }

    /// The grid of `tiles`; each must hold `tileWidth * tileHeight` values.
    public func image(tiles: [[Float]]) -> GrayscaleImage {
        let tileSize = tileWidth * tileHeight
        precondition(tiles.allSatisfy { $0.count == tileSize },
                     "ImageGrid: every tile must hold \(tileWidth) x \(tileHeight) = \(tileSize) values")
        let gridColumns = columns ?? max(1, Int(Double(tiles.count).squareRoot().rounded(.up)))
        let gridRows = (tiles.count + gridColumns - 1) / gridColumns
        let cellWidth = tileWidth * upscale, cellHeight = tileHeight * upscale
        var image = GrayscaleImage(width: gridColumns * (cellWidth + 1) + 1,
                                   height: gridRows * (cellHeight + 1) + 1, level: borderLevel)
        let shared = scaling == .allTilesMinMax ? Self.finiteRange(tiles.joined()) : nil
        for (index, tile) in tiles.enumerated() {
            let levels = levels(of: tile, sharedRange: shared)
            let left = (index % gridColumns) * (cellWidth + 1) + 1
            let top = (index / gridColumns) * (cellHeight + 1) + 1
            for y in 0..<cellHeight {
                let sourceRow = (y / upscale) * tileWidth
                let destination = (top + y) * image.width + left
                for x in 0..<cellWidth {
                    image.pixels[destination + x] = levels[sourceRow + x / upscale]
                }
            }
        }
        return image
    }

    /// The grid of the rows of `matrix` (samples are rows), at most `limit` of them.
    /// Precondition: `matrix.columns == tileWidth * tileHeight`.
    public func image(rowsOf matrix: Matrix, limit: Int? = nil) -> GrayscaleImage {
        let count = min(matrix.rows, limit ?? matrix.rows)
        return image(tiles: (0..<count).map { matrix.row($0) })
    }

    /// The grid of the columns of `matrix` (e.g. weights of shape (visible, hidden): one
    /// filter per hidden unit), at most `limit` of them.
    /// Precondition: `matrix.rows == tileWidth * tileHeight`.
    public func image(columnsOf matrix: Matrix, limit: Int? = nil) -> GrayscaleImage {
        let count = min(matrix.columns, limit ?? matrix.columns)
        let tiles = (0..<count).map { column in
            (0..<matrix.rows).map { row in matrix[row, column] }
        }
        return image(tiles: tiles)
    }

    /// The gray levels of one tile under `scaling`.
    func levels(of tile: [Float], sharedRange: (low: Float, high: Float)?) -> [UInt8] {
        switch scaling {
        case .clampedToUnit:
            return tile.map { Self.level(Double($0)) }
        case .eachTileMinMax, .allTilesMinMax:
            guard let (low, high) = sharedRange ?? Self.finiteRange(tile), high > low else {
                return [UInt8](repeating: 128, count: tile.count)
            }
            let span = Double(high) - Double(low)
            return tile.map { Self.level((Double($0) - Double(low)) / span) }
        }
    }

    /// `x` in [0, 1] as a level 0...255 (rounded); clamped outside, NaN gives 0.
    static func level(_ x: Double) -> UInt8 {
        guard x > 0 else { return 0 }  // also NaN
        guard x < 1 else { return 255 }
        return UInt8((x * 255).rounded())
    }

    /// The minimum and maximum of the finite values, or nil if there are none.
    static func finiteRange(_ values: some Sequence<Float>) -> (low: Float, high: Float)? {
        var low = Float.infinity, high = -Float.infinity
        for v in values where v.isFinite {
            low = min(low, v)
            high = max(high, v)
        }
        return low <= high ? (low, high) : nil
    }
}

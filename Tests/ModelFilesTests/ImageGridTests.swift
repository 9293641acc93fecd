import Linalg
import Testing
@testable import ModelFiles

@Suite("ImageGrid tiling")
struct ImageGridTests {
    @Test("three 2x2 tiles in two columns, clamped: every pixel by hand")
    func smallGridByHand() {
        let grid = ImageGrid(tileWidth: 2, tileHeight: 2, columns: 2, scaling: .clampedToUnit, borderLevel: 9)
        let image = grid.image(tiles: [[0, 1, 0.5, 2], [-1, 0.2, 1, .nan], [1, 1, 1, 1]])
        // 2 columns -> 2*2 + 3 = 7 wide; 2 rows -> 7 high.
        #expect(image.width == 7 && image.height == 7)
        let b: UInt8 = 9
        #expect(image.pixels == [
            b, b, b, b, b, b, b,
            b, 0, 255, b, 0, 51, b,
            b, 128, 255, b, 255, 0, b,
            b, b, b, b, b, b, b,
            b, 255, 255, b, b, b, b,
            b, 255, 255, b, b, b, b,
            b, b, b, b, b, b, b,
        ])
    }

    @Test("upscaling repeats each value in a block; the border stays 1 pixel")
    func upscale() {
        let grid = ImageGrid(tileWidth: 2, tileHeight: 1, columns: 1, scaling: .clampedToUnit, upscale: 3, borderLevel: 7)
        let image = grid.image(tiles: [[0, 1]])
        #expect(image.width == 2 * 3 + 2 && image.height == 1 * 3 + 2)
        for y in 1...3 {
            #expect((1...3).allSatisfy { image[$0, y] == 0 })
            #expect((4...6).allSatisfy { image[$0, y] == 255 })
        }
        #expect((0..<8).allSatisfy { image[$0, 0] == 7 && image[$0, 4] == 7 })
    }

    @Test("min/max per tile, over all tiles, constant and non-finite tiles")
    func minMaxScaling() {
        let each = ImageGrid(tileWidth: 4, tileHeight: 1, columns: 1, scaling: .eachTileMinMax)
        #expect(each.levels(of: [0, 1, 2, 3], sharedRange: nil) == [0, 85, 170, 255])
        #expect(each.levels(of: [-5, -5, -5, -5], sharedRange: nil) == [128, 128, 128, 128])
        #expect(each.levels(of: [.nan, 1, .infinity, 3], sharedRange: nil) == [0, 0, 255, 255])
        #expect(each.levels(of: [.nan, .nan, .nan, .nan], sharedRange: nil) == [128, 128, 128, 128])
        let image = each.image(tiles: [[0, 1, 2, 3], [10, 20, 30, 40]])
        #expect(Array(image.pixels[image.width * 3 + 1 ..< image.width * 3 + 5]) == [0, 85, 170, 255])
        let all = ImageGrid(tileWidth: 4, tileHeight: 1, columns: 2, scaling: .allTilesMinMax, borderLevel: 0)
        let shared = all.image(tiles: [[0, 1, 2, 3], [1, 1, 2, 6]])
        #expect(shared.pixels == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                  0, 0, 43, 85, 128, 0, 43, 43, 85, 255, 0,
                                  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test("default column count is ceil(sqrt(n)); sizes follow the formula")
    func layout() {
        let grid = ImageGrid(tileWidth: 28, tileHeight: 28, scaling: .clampedToUnit)
        let image = grid.image(tiles: Array(repeating: [Float](repeating: 0.5, count: 784), count: 10))
        // 10 tiles -> 4 columns, 3 rows.
        #expect(image.width == 4 * 29 + 1 && image.height == 3 * 29 + 1)
        // The unused cells of the last row keep the border level.
        #expect(image[3 * 29 + 5, 2 * 29 + 5] == 128)
        #expect(image[5, 5] == 128)  // 0.5 -> 127.5 rounds to 128
        let empty = grid.image(tiles: [])
        #expect(empty.width == 30 && empty.height == 1)
    }

    @Test("columns of a weight matrix are the rows of its transpose")
    func columnsAndRows() {
        let weights = Matrix(rows: 6, columns: 5, elements: (0..<30).map { Float(($0 * 7) % 11) })
        let grid = ImageGrid(tileWidth: 3, tileHeight: 2, columns: 2, scaling: .eachTileMinMax, upscale: 2)
        #expect(grid.image(columnsOf: weights) == grid.image(rowsOf: weights.transposed()))
        #expect(grid.image(columnsOf: weights, limit: 3) == grid.image(tiles: (0..<3).map { c in (0..<6).map { weights[$0, c] } }))
        // The result is a valid PNG.
        #expect(throws: Never.self) { try DecodedPNG(grid.image(rowsOf: weights.transposed()).pngData()) }
    }
}

import Linalg
import Testing
@testable import IDX

/// The warnings about data that loads but looks wrong: each trips on its case and stays silent
/// on plausible data.
struct PlausibilityTests {
    @Test func labelsThatAreAllOneLargeValueAreFlagged() throws {
        let warning = try #require(labelWarning(Array(repeating: 200, count: 50), classCount: 201, what: "training labels"))
        #expect(warning == "training labels look wrong: 200 of the 201 classes have none (0, 1, ..., 199); class 200 holds 100.0% of them")
    }

    @Test func manyClassesEmptyClassesAndADominantClass() throws {
        let many = try #require(labelWarning(Array(0..<1500), classCount: 1500, what: "labels"))
        #expect(many == "labels look wrong: 1500 classes (largest label 1499), more than 1000")
        let gap = try #require(labelWarning([0, 1, 3, 0, 1, 3], classCount: 4, what: "labels"))
        #expect(gap == "labels look wrong: 1 of the 4 classes have none (2)")
        let dominant = try #require(labelWarning(Array(repeating: 1, count: 91) + Array(0..<2) + Array(repeating: 0, count: 7), classCount: 2, what: "labels"))
        #expect(dominant == "labels look wrong: class 1 holds 92.0% of them")
        // 90% exactly is not "over 90%"; balanced labels say nothing.
        #expect(labelWarning(Array(repeating: 1, count: 9) + [0], classCount: 2, what: "labels") == nil)
        #expect(labelWarning((0..<100).map { $0 % 10 }, classCount: 10, what: "labels") == nil)
    }

    @Test func constantAndSaturatedImagesAreFlagged() throws {
        let constant = Matrix(rows: 4, columns: 9, repeating: 0.5)
        #expect(imageWarning(constant, what: "images") == "images look wrong: every pixel of every image is 0.5")
        var white = Matrix(rows: 10, columns: 10, repeating: 1)
        white.elements[3] = 0
        let saturated = try #require(imageWarning(white, what: "images"))
        #expect(saturated == "images look wrong: 9 of 10 images are constant (one value in every pixel); 99.0% of the pixel values are at the maximum 1.0 (saturated)")
        // MNIST-like: mostly 0, some ink, all at 1 in a few places: nothing to say.
        var g = Xoshiro256StarStar(seed: 3)
        let plausible = Matrix(rows: 20, columns: 49, elements: (0..<980).map { _ in
            let u = g.nextFloat()
            return u < 0.7 ? 0 : (u < 0.8 ? 1 : u)
        })
        #expect(imageWarning(plausible, what: "images") == nil)
    }
}

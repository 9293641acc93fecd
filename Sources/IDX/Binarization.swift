import Linalg

/// Turning intensities into 0/1 values, as binary visible units expect.
public enum Binarization: Sendable, Equatable {
    /// 1 where the intensity is strictly greater than the threshold, else 0
    /// (as scikit-learn's `Binarizer`).
    case threshold(Float)
    /// 1 with probability equal to the intensity (clamped to [0, 1] by the comparison), drawn
    /// from `Xoshiro256StarStar(seed:)`.
    case stochastic(seed: UInt64)
}

extension Matrix {
    /// Replaces every element by 0 or 1 according to `binarization`.
    public mutating func binarize(_ binarization: Binarization) {
        switch binarization {
        case .threshold(let threshold):
            elements.withUnsafeMutableBufferPointer { values in
                for i in 0..<values.count { values[i] = values[i] > threshold ? 1 : 0 }
            }
        case .stochastic(let seed):
            var generator = Xoshiro256StarStar(seed: seed)
            binarize(using: &generator)
        }
    }

    /// Replaces every element p by 1 with probability p, else 0 (a draw `u < p`, u uniform in
    /// [0, 1), so p <= 0 always gives 0 and p >= 1 always 1).
    public mutating func binarize(using generator: inout Xoshiro256StarStar) {
        elements.withUnsafeMutableBufferPointer { values in
            for i in 0..<values.count { values[i] = generator.nextFloat() < values[i] ? 1 : 0 }
        }
    }

    /// A copy with every element binarised (see `binarize(_:)`).
    public func binarized(_ binarization: Binarization) -> Matrix {
        var copy = self
        copy.binarize(binarization)
        return copy
    }
}

extension DataSet {
    /// Binarises the training and the test images. For `.stochastic(seed:)` one generator
    /// seeded once draws the training images, then the test images, so the two are independent.
    public mutating func binarize(_ binarization: Binarization) {
        switch binarization {
        case .threshold:
            trainImages.binarize(binarization)
            testImages.binarize(binarization)
        case .stochastic(let seed):
            var generator = Xoshiro256StarStar(seed: seed)
            trainImages.binarize(using: &generator)
            testImages.binarize(using: &generator)
        }
    }
}

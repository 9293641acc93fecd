import Linalg

/// How intensities become the 0/1 values binary visible units expect: the one choice behind
/// every `--binarize` (`dbn pretrain`, `dbn loglik`).
public enum Binarization: String, Sendable, CaseIterable, Codable {
    /// Pixels as they are (probabilities).
    case none
    /// 1 where the intensity is strictly greater than 0.5, else 0 (as scikit-learn's `Binarizer`).
    case threshold
    /// 1 with probability equal to the intensity, drawn once before training; the draws of each
    /// image set are keyed by the seed and the set (see `ImageSetKey`).
    case stochastic
    /// A fresh sample of every minibatch each time it is used (the RBM trainer's
    /// `resampleBinaryData`): nothing is done to the images up front.
    case resample
}

/// Which image set a stochastic binarisation draws for: the draws of set s under seed k come
/// from `Xoshiro256StarStar(seed: key(k))`, so the training and the test images get their own
/// draws whatever their sizes (identical images in both sets get different noise).
public enum ImageSetKey: UInt64, Sendable {
    /// The training images: the seed itself (the draws of earlier versions).
    case training = 0
    /// The test (or held-out) images.
    case test = 1

    /// The generator seed for `seed`: the seed itself for the training set, else the seed
    /// mixed with the set's number (SplitMix64's finaliser over seed XOR a multiple of an odd
    /// constant, so that neighbouring seeds do not share streams).
    public func key(_ seed: UInt64) -> UInt64 {
        if self == .training { return seed }
        var mixer = SplitMix64(seed: seed ^ (rawValue &* 0xD1B5_4A32_D192_ED03))
        return mixer.next()
    }
}

extension Matrix {
    /// Replaces every element by 1 where it is strictly greater than `threshold`, else 0.
    public mutating func binarize(threshold: Float) {
        elements.withUnsafeMutableBufferPointer { values in
            for i in 0..<values.count { values[i] = values[i] > threshold ? 1 : 0 }
        }
    }

    /// Binarises the images of `set` as `binarization` says (`.none` and `.resample` leave
    /// them as they are); `.stochastic` draws from the generator keyed by `seed` and `set`.
    public mutating func binarize(_ binarization: Binarization, seed: UInt64 = 0, set: ImageSetKey = .training) {
        switch binarization {
        case .none, .resample: break
        case .threshold: binarize(threshold: 0.5)
        case .stochastic:
            var generator = Xoshiro256StarStar(seed: set.key(seed))
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

    /// A copy binarised as `binarize(_:seed:set:)` does.
    public func binarized(_ binarization: Binarization, seed: UInt64 = 0, set: ImageSetKey = .training) -> Matrix {
        var copy = self
        copy.binarize(binarization, seed: seed, set: set)
        return copy
    }
}

extension DataSet {
    /// Binarises the training and the test images, each set with its own keyed draws.
    public mutating func binarize(_ binarization: Binarization, seed: UInt64 = 0) {
        trainImages.binarize(binarization, seed: seed, set: .training)
        testImages.binarize(binarization, seed: seed, set: .test)
    }
}

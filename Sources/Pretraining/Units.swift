/// The kind of the visible units of an RBM.
public enum VisibleUnits: String, Sendable, Codable, CaseIterable, Equatable {
    /// Binary units with p(v_i = 1 | h) = sigmoid(b_i + (W h)_i). Real data in [0, 1] (MNIST
    /// pixels / 255) is used as probabilities, as in Hinton & Salakhutdinov 2006.
    case bernoulli
    /// Linear units with unit-variance Gaussian noise: v_i | h ~ N(b_i + (W h)_i, 1).
    /// For real-valued data standardised to zero mean and unit variance per feature
    /// (Hinton's practical guide, section 13.2).
    case gaussian
}

/// The kind of the hidden units of an RBM.
public enum HiddenUnits: String, Sendable, Codable, CaseIterable, Equatable {
    /// Binary units with p(h_j = 1 | v) = sigmoid(c_j + (v W)_j).
    case bernoulli
    /// Noisy rectified linear units (NReLU, Nair & Hinton 2010): with x = c_j + (v W)_j, the
    /// mean is max(0, x) and a sample is max(0, x + N(0, sigmoid(x))).
    ///
    /// Free energies (and the monitors built on them) use the free energy of the infinite
    /// stack of stepped sigmoid units that NReLU approximates; see `RBM.freeEnergy(_:)`.
    case rectified
}

import Linalg

/// A block of parameters with its gradient and the optimiser's moments: `count` elements of
/// one layer's weights (a run of whole rows) or biases.
struct ParameterBlock {
    /// The parameters, updated in place.
    var values: UnsafeMutablePointer<Float>
    /// The gradient of the minibatch's mean loss (without weight decay); read, then cleared to
    /// zero (the weight-gradient product accumulates into a zeroed buffer, see
    /// `BackpropEngine.weightGradients`).
    var gradient: UnsafeMutablePointer<Float>
    /// SGD's velocity, or Adam's first moment.
    var moment: UnsafeMutablePointer<Float>
    /// Adam's second moment (nil for SGD).
    var secondMoment: UnsafeMutablePointer<Float>?
    var count: Int
}

/// One update rule, applied to one parameter block at a time. `decay` is the L2 weight decay
/// lambda (its gradient `lambda w` is added to `gradient`; 0 for biases), `step` the 1-based
/// number of this layer's updates including this one (Adam's t).
/// Runs `vector(i)` for i = 0, 8, 16, ... on whole blocks of 8 and `scalar(i)` on the tail:
/// the loop of every optimiser step (`vector` and `scalar` compute the same formula).
@inline(__always)
func forEachLane(_ count: Int, vector: (Int) -> Void, scalar: (Int) -> Void) {
    var i = 0
    while i + 8 <= count { vector(i); i += 8 }
    while i < count { scalar(i); i += 1 }
}

protocol OptimizerStep {
    func apply(_ block: ParameterBlock, rate: Float, decay: Float, step: Int)
}

/// Classical momentum (plain SGD for momentum 0):
/// `g' = g + decay w; v = momentum v - rate g'; w += v`.
struct MomentumStep: OptimizerStep {
    var momentum: Float

    func apply(_ block: ParameterBlock, rate: Float, decay: Float, step: Int) {
        let w = block.values, g = block.gradient, v = block.moment
        // Lane-wise in blocks of 8 (the scalar loop does not vectorise: the pointers may alias),
        // then the tail with the same formula.
        forEachLane(block.count, vector: { i in
            let wi = load8(w + i)
            let velocity = momentum * load8(v + i) - rate * (load8(g + i) + decay * wi)
            store8(velocity, v + i)
            store8(wi + velocity, w + i)
            store8(SIMD8(repeating: 0), g + i)
        }, scalar: { i in
            let velocity = momentum * v[i] - rate * (g[i] + decay * w[i])
            v[i] = velocity
            w[i] += velocity
            g[i] = 0
        })
    }
}

/// Nesterov's momentum in the form of Sutskever et al. 2013 (as PyTorch and Keras):
/// `g' = g + decay w; v = momentum v - rate g'; w += momentum v - rate g'` (with the new v).
struct NesterovStep: OptimizerStep {
    var momentum: Float

    func apply(_ block: ParameterBlock, rate: Float, decay: Float, step: Int) {
        let w = block.values, g = block.gradient, v = block.moment
        forEachLane(block.count, vector: { i in
            let wi = load8(w + i)
            let descent = -rate * (load8(g + i) + decay * wi)
            let velocity = momentum * load8(v + i) + descent
            store8(velocity, v + i)
            store8(wi + (momentum * velocity + descent), w + i)
            store8(SIMD8(repeating: 0), g + i)
        }, scalar: { i in
            let descent = -rate * (g[i] + decay * w[i])
            let velocity = momentum * v[i] + descent
            v[i] = velocity
            w[i] += momentum * velocity + descent
            g[i] = 0
        })
    }
}

/// Adam (Kingma & Ba 2015, Algorithm 1) with L2 decay added to the gradient:
/// `m = b1 m + (1 - b1) g'; s = b2 s + (1 - b2) g'^2; w -= rate (m / (1 - b1^t)) / (sqrt(s / (1 - b2^t)) + eps)`.
struct AdamStep: OptimizerStep {
    var beta1: Float, beta2: Float, epsilon: Float

    func apply(_ block: ParameterBlock, rate: Float, decay: Float, step: Int) {
        guard let s = block.secondMoment else { preconditionFailure("AdamStep: no second moment") }
        let w = block.values, g = block.gradient, m = block.moment, count = block.count
        let (beta1, beta2, epsilon) = (self.beta1, self.beta2, self.epsilon)
        let inverse1 = 1 / Float(1 - Libm.pow(Double(beta1), Double(step)))
        let inverse2 = 1 / Float(1 - Libm.pow(Double(beta2), Double(step)))
        // Lane-wise in blocks of 8 with `sqrt8` (the scalar loop does not vectorise), then the
        // tail with the same formula.
        forEachLane(count, vector: { i in
            let wi = load8(w + i), gradient = load8(g + i) + decay * wi
            let first = beta1 * load8(m + i) + (1 - beta1) * gradient
            let second = beta2 * load8(s + i) + (1 - beta2) * gradient * gradient
            store8(wi - rate * (first * inverse1) / (sqrt8(second * inverse2) + epsilon), w + i)
            store8(first, m + i)
            store8(second, s + i)
            store8(SIMD8(repeating: 0), g + i)
        }, scalar: { i in
            let gradient = g[i] + decay * w[i]
            let first = beta1 * m[i] + (1 - beta1) * gradient
            let second = beta2 * s[i] + (1 - beta2) * gradient * gradient
            m[i] = first
            s[i] = second
            g[i] = 0
            w[i] -= rate * (first * inverse1) / ((second * inverse2).squareRoot() + epsilon)
        })
    }
}

extension TrainingConfiguration {
    /// The update rule of these settings in the first epoch.
    var optimizerStep: any OptimizerStep { optimizerStep(epoch: 1) }

    /// The update rule of `epoch` (1-based): SGD's momentum follows `momentumSchedule`.
    func optimizerStep(epoch: Int) -> any OptimizerStep {
        let momentum = momentum(epoch: epoch)
        switch optimizer {
        case .sgd: return nesterov ? NesterovStep(momentum: momentum) : MomentumStep(momentum: momentum)
        case .adam(let beta1, let beta2, let epsilon): return AdamStep(beta1: beta1, beta2: beta2, epsilon: epsilon)
        }
    }

    /// Whether the update rule keeps a second moment (Adam).
    var usesSecondMoment: Bool {
        if case .adam = optimizer { return true }
        return false
    }
}

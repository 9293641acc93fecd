import Foundation
import Linalg
@testable import Pretraining

/// The AIS of the earlier releases, kept as the reference of `AnnealingChains`: the same
/// keyed draws, the log weights from two double-precision softplus calls per run, hidden unit
/// and temperature (2 M H per temperature, the calls the fused Float pass removes).
func referenceAnnealedImportanceSampling(_ rbm: RBM, baseVisibleBias: [Float], configuration: AISConfiguration,
                                         seed: UInt64) -> AISResult {
    let betas = configuration.inverseTemperatures()
    let runs = configuration.runs, vCount = rbm.visibleCount, hCount = rbm.hiddenCount
    let biasA = baseVisibleBias, biasB = rbm.visibleBias, c = rbm.hiddenBias
    let biasDifference = (0..<vCount).map { Double(biasB[$0]) - Double(biasA[$0]) }
    let cDouble = c.map(Double.init)

    // log Z_A: the base model times the target's hidden layer at beta = 0 (2^H states).
    let logBaseZ = biasA.reduce(0.0) { $0 + softplus(Double($1)) } + Double(hCount) * Libm.log(2)
    // Every draw is keyed by this seed, the temperature index, the run and the unit.

    // v_1 ~ p_0 = the base-rate model: independent pixels with p = sigmoid(b_A).
    var v = Matrix(rows: runs, columns: vCount)
    let baseProbabilities = biasA.map { sigmoid($0) }
    let start = RandomStream(seed: seed, purpose: .visibleSample(layer: 0, step: -1))
    baseProbabilities.withUnsafeBufferPointer { p in
        v.elements.withUnsafeMutableBufferPointer { pv in
            for r in 0..<runs {
                start.sampleBernoulli(row: r, units: 0..<vCount, probabilities: p.baseAddress!,
                                      into: pv.baseAddress! + r * vCount)
            }
        }
    }
    var x = Matrix(rows: runs, columns: hCount)       // v W, then the hidden probabilities
    var h = Matrix(rows: runs, columns: hCount)       // sampled hidden states
    var visible = Matrix(rows: runs, columns: vCount) // visible pre-activations, then probabilities
    var mixedBias = [Float](repeating: 0, count: vCount)
    var logWeights = [Double](repeating: 0, count: runs)

    for k in 1..<betas.count {
        let beta = betas[k], previous = betas[k - 1]
        // x = v W : (M, V) * (V, H) -> (M, H)
        gemmInRowChunks(v, rbm.weight, .none, into: &x)
        // log w += log p*_k(v) - log p*_{k-1}(v), in double precision.
        x.elements.withUnsafeBufferPointer { px in
            v.elements.withUnsafeBufferPointer { pv in
                for r in 0..<runs {
                    let vr = pv.baseAddress! + r * vCount
                    var visibleTerm = 0.0
                    for i in 0..<vCount where vr[i] != 0 { visibleTerm += biasDifference[i] }
                    var term = (beta - previous) * visibleTerm
                    let xr = px.baseAddress! + r * hCount
                    for j in 0..<hCount {
                        let total = Double(xr[j]) + cDouble[j]
                        term += softplus(beta * total) - softplus(previous * total)
                    }
                    logWeights[r] += term
                }
            }
        }
        guard k < betas.count - 1 else { break }
        // Transition T_k (leaves p_k invariant): h ~ sigmoid(beta (v W + c)),
        // v ~ sigmoid((1 - beta) b_A + beta (b + h W^T)).
        let betaF = Float(beta)
        x.elements.withUnsafeMutableBufferPointer { px in
            let hiddenStream = RandomStream(seed: seed, purpose: .hiddenSample(layer: 0, step: k))
            h.elements.withUnsafeMutableBufferPointer { ph in
                for r in 0..<runs {
                    let xr = px.baseAddress! + r * hCount
                    for j in 0..<hCount { xr[j] = sigmoid(betaF * (xr[j] + c[j])) }
                    hiddenStream.sampleBernoulli(row: r, units: 0..<hCount, probabilities: xr,
                                                 into: ph.baseAddress! + r * hCount)
                }
            }
        }
        for i in 0..<vCount { mixedBias[i] = (1 - betaF) * biasA[i] + betaF * biasB[i] }
        // visible = beta * h W^T : (M, H) * (H, V) -> (M, V)
        gemmInRowChunks(h, rbm.weight, .transposed, into: &visible, alpha: betaF)
        visible.elements.withUnsafeMutableBufferPointer { pp in
            mixedBias.withUnsafeBufferPointer { mb in
                UnitKernels.visibleMeans(.bernoulli, pp.baseAddress!, rows: runs, bias: mb.baseAddress!,
                                         columns: vCount, stride: vCount)
            }
            v.elements.withUnsafeMutableBufferPointer { pv in
                UnitKernels.sampleVisible(.bernoulli, means: pp.baseAddress!, rows: runs, columns: vCount, first: 0,
                                          stride: vCount, into: pv.baseAddress!,
                                          stream: RandomStream(seed: seed, purpose: .visibleSample(layer: 0, step: k)))
            }
        }
    }
    return AISResult(logWeights: logWeights, logBaseZ: logBaseZ, temperatureCount: betas.count - 1)
}

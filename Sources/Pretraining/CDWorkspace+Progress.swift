import Linalg

extension CDWorkspace {
    /// The training state between two epochs (the parameters must have been stored into `rbm`).
    func progress(completedEpochs: Int, rbm: RBM, generator: Xoshiro256StarStar, monitorRoot: Xoshiro256StarStar,
                  order: [Int], reports: [RBMEpochReport]) -> RBMTrainingProgress {
        func array(_ p: UnsafeMutablePointer<Float>, _ count: Int) -> [Float] {
            Array(UnsafeBufferPointer(start: p, count: count))
        }
        let v = visibleCount, h = hiddenCount
        return RBMTrainingProgress(
            completedEpochs: completedEpochs, rbm: rbm,
            weightVelocity: array(weightVelocity, v * h), visibleVelocity: array(visibleVelocity, v),
            hiddenVelocity: array(hiddenVelocity, h),
            fantasy: persistent && fantasyStarted ? array(fantasy, batchSize * v) : nil,
            hiddenActivity: sparsityTarget != nil && sparsityStarted ? array(hiddenActivity, h) : nil,
            generatorState: generator.state,
            laneGeneratorStates: (0..<lanes).flatMap { laneGenerators[$0].state },
            monitorGeneratorState: monitorRoot.state, order: order, reports: reports)
    }

    /// Restores the velocities, the persistent chains, the running mean activation and the lane
    /// generators from `progress` (checked with `RBMTrainingProgress.check` against this
    /// workspace's shapes and lane count); the parameters come from `load`.
    func restore(_ progress: RBMTrainingProgress) {
        let v = visibleCount, h = hiddenCount
        precondition(progress.weightVelocity.count == v * h && progress.laneCount == lanes,
                     "CDWorkspace.restore: unchecked progress")
        func copy(_ values: [Float], into p: UnsafeMutablePointer<Float>) {
            values.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: $0.count) }
        }
        copy(progress.weightVelocity, into: weightVelocity)
        copy(progress.visibleVelocity, into: visibleVelocity)
        copy(progress.hiddenVelocity, into: hiddenVelocity)
        if let chains = progress.fantasy {
            copy(chains, into: fantasy)
            fantasyStarted = true
        }
        if let activity = progress.hiddenActivity { copy(activity, into: hiddenActivity) }
        // Set by every minibatch; q only matters (and is only stored) with a sparsity target.
        sparsityStarted = progress.completedEpochs > 0 || progress.hiddenActivity != nil
        for lane in 0..<lanes {
            let words = Array(progress.laneGeneratorStates[(4 * lane)..<(4 * lane + 4)])
            laneGenerators[lane] = Xoshiro256StarStar(words: words)
        }
    }
}

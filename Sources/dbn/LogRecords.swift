import DeepBelief
import Foundation

// The records `--log` writes (one JSON object per line), shared by the training commands.

/// One `--log` record per pre-training epoch.
struct PretrainLogRecord: Encodable {
    let phase: String
    let layer: Int
    let epoch: Int
    let seconds: Double
    let monitorSeconds: Double
    let momentum: Float
    let reconstructionError: Double
    let summedReconstructionError: Double
    let freeEnergyTraining: Double?
    let freeEnergyHeldOut: Double?
    let freeEnergyGap: Double?
    let pseudoLogLikelihood: Double?
    let aisLogZ: Double?
    let aisLogZLow: Double?
    let aisLogZHigh: Double?
    let trainingLogLikelihood: Double?
    let heldOutLogLikelihood: Double?
    let inverseTemperatures: [Double]?
    let swapRates: [Double]?

    init(phase: String, layer: Int, report: RBMEpochReport) {
        self.phase = phase
        self.layer = layer
        epoch = report.epoch + 1
        seconds = report.seconds
        monitorSeconds = report.monitorSeconds
        momentum = report.momentum
        reconstructionError = report.reconstructionError
        summedReconstructionError = report.summedReconstructionError
        freeEnergyTraining = report.freeEnergyGap?.training
        freeEnergyHeldOut = report.freeEnergyGap?.heldOut
        freeEnergyGap = report.freeEnergyGap?.gap
        pseudoLogLikelihood = report.pseudoLogLikelihood
        aisLogZ = report.annealedImportanceSampling?.logZ
        aisLogZLow = report.annealedImportanceSampling?.logZLow
        aisLogZHigh = report.annealedImportanceSampling?.logZHigh
        trainingLogLikelihood = report.trainingLogLikelihood
        heldOutLogLikelihood = report.heldOutLogLikelihood
        inverseTemperatures = report.inverseTemperatures
        swapRates = report.swapRates
    }
}

/// One `--log` record per epoch of a phase: the report's fields and the phase's name.
struct PhaseLogRecord<Report: Encodable>: Encodable {
    let phase: String
    let report: Report

    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(phase, forKey: .phase)
    }
    enum Key: String, CodingKey { case phase }
}

/// One `--log` record per fine-tuning epoch (the report with every diagnostic).
typealias FineTuneLogRecord = PhaseLogRecord<EpochReport>
/// One `--log` record per up-down epoch (the report: `epoch` 0-based, `wake_errors` per layer
/// from the pixels up, `top_reconstruction_error`, `test_error` when measured).
typealias UpDownLogRecord = PhaseLogRecord<UpDownEpochReport>

import FineTuning
import IDX

extension DataSet {
    /// The training images with one-hot targets of `classCount` classes, for fine-tuning.
    public func labeledTraining() throws -> LabeledData {
        try LabeledData(inputs: trainImages, labels: trainLabels, classCount: classCount)
    }

    /// The test images with one-hot targets of `classCount` classes, for evaluation.
    public func labeledTest() throws -> LabeledData {
        try LabeledData(inputs: testImages, labels: testLabels, classCount: classCount)
    }
}

// The library product: one import gives users the matrix, the data loading, pre-training,
// fine-tuning and model files.
@_exported import Files
@_exported import FineTuning
@_exported import IDX
@_exported import Linalg
@_exported import ModelFiles
@_exported import Pretraining

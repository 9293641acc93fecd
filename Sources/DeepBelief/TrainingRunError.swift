/// A run stopped by `TrainingRun.requestInterrupt()` after saving its checkpoint.
public struct TrainingInterrupted: Error, CustomStringConvertible, Sendable {
    /// The checkpoint file to resume from.
    public let checkpoint: String
    /// The phase the run was in.
    public let phase: String
    public var description: String {
        "interrupted during \(phase): checkpoint saved in \(checkpoint); resume the run from it to continue"
    }
}

/// Errors of starting a `TrainingRun` with a checkpoint folder.
public enum TrainingRunError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The checkpoint folder's path names a file.
    case folderIsAFile(folder: String)
    /// The checkpoint folder could not be created.
    case cannotCreateFolder(folder: String, reason: String)
    /// Resuming, but there is no checkpoint file.
    case noCheckpoint(file: String)
    /// Another running process holds the folder's lock (its pid, when the lock file names one).
    case folderInUse(folder: String, owner: Int32?)

    public var description: String {
        switch self {
        case .folderIsAFile(let folder): "\(folder): the checkpoint folder is a file, expected a folder"
        case let .cannotCreateFolder(folder, reason): "\(folder): cannot create the checkpoint folder (\(reason))"
        case .noCheckpoint(let file): "\(file): no checkpoint to resume from (run without resuming first)"
        case let .folderInUse(folder, owner):
            "\(folder): the checkpoint folder is in use by another run (\(owner.map { "pid \($0)" } ?? "pid unknown")); wait for it to finish or give another folder"
        }
    }
}

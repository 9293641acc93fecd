import DeepBelief
import Foundation
#if MPI
import MPICollective
#endif

/// The processes `dbn` runs in: one, or (built with the MPI trait and started by `mpirun`) the
/// ranks of an MPI job training one model data-parallel. Every rank runs the same command on
/// the same data and values; rank 0 alone prints and writes files (`FileIO.writesFiles`), the
/// others have their standard output and error silenced except for a fatal error's line.
enum Processes {
    /// Runs `body` in this process's part of the job: with MPI, inside
    /// `Collectives.$current.withValue(MPI)` and `FileIO.$writesFiles.withValue(rank == 0)`,
    /// then `MPI_Finalize`.
    static func run(_ body: () -> Void) {
        #if MPI
        let mpi = MPICollective()
        if mpi.rank != 0 {
            mpi.errorDescriptor = dup(STDERR_FILENO)
            let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
            if null >= 0 { dup2(null, STDOUT_FILENO); dup2(null, STDERR_FILENO); close(null) }
        }
        let start = MPICollective.now()
        Collectives.$current.withValue(mpi) {
            FileIO.$writesFiles.withValue(mpi.rank == 0) { body() }
        }
        if mpi.rank == 0, ProcessInfo.processInfo.environment["DBN_MPI_TIMING"] == "1" {
            let total = MPICollective.now() - start
            FileHandle.standardError.write(Data(String(
                format: "mpi: %d ranks; rank 0: %d all-reduces, %.3f s of %.3f s (%.1f%%)\n", mpi.size, mpi.reduceCalls,
                mpi.reduceSeconds, total, 100 * mpi.reduceSeconds / max(total, 1e-9)).utf8))
        }
        mpi.finish()
        #else
        body()
        #endif
    }

    /// Ends the process with `code` after a normal end (MPI finalised).
    static func exit(_ code: Int32) -> Never {
        #if MPI
        (Collectives.current as? MPICollective)?.finish()
        #endif
        Foundation.exit(code)
    }

    /// Ends every rank in order with `code`, rank 0 printing `line`: for a stop that every rank
    /// reaches at the same point (an interruption the ranks agreed on), where `fail`'s abort
    /// would add Open MPI's abort banner to the one line.
    static func stop(_ line: String, code: Int32) -> Never {
        if Collectives.current.isRoot { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        exit(code)
    }

    /// Prints `line` and ends with `code`. In a job of several ranks the whole job stops
    /// (`MPI_Abort`): a rank that fails alone must not leave the others waiting in a sum. A
    /// rank other than 0 waits half a second first, so that when every rank fails alike (the
    /// same bad file), rank 0's line is the one printed.
    static func fail(_ line: String, code: Int32) -> Never {
        let collective = Collectives.current
        if collective.size > 1 {
            if collective.rank != 0 { usleep(500_000) }
            collective.abort(collective.rank == 0 ? line : "\(line) (rank \(collective.rank))", code: code)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
        exit(code)
    }
}

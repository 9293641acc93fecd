import Files
import Foundation
import Synchronization

// The parts of a `TrainingRun` that face the operating system: the checkpoint folder's lock
// (one run per folder) and Ctrl-C (stop after the next checkpoint).

extension TrainingRun {
    /// Takes the folder's lock (an advisory `flock` on `.lock`, which holds the owner's pid) for
    /// the life of the run, or refuses naming the owner. The kernel drops the lock of a process
    /// that dies, so a lock file naming a pid that is gone is taken over.
    static func lock(_ folder: String) throws -> (descriptor: Int32, staleOwner: Int32?) {
        let lockPath = FileIO.join(folder, Self.lockName)
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else {
            throw TrainingRunError.cannotCreateFolder(folder: folder, reason: "cannot open its lock file: \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, buffer.count, 0)
        let owner = Int32(String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines))
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            // Another run of this same process (a library user's) already owns the folder.
            if owner == getpid() { return (-1, nil) }
            throw TrainingRunError.folderInUse(folder: folder, owner: owner)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        return (fd, owner.flatMap { $0 == getpid() ? nil : $0 })
    }

    // MARK: Interruption

    /// Asks every run in the process to stop after its next checkpoint (safe in a signal
    /// handler). Returns whether it had been asked before. With several processes
    /// (`Collectives.current`), all of them stop at the checkpoint after any one was asked.
    @discardableResult
    public static func requestInterrupt() -> Bool {
        interruptRequested.exchange(true, ordering: .relaxed)
    }

    /// Ctrl-C (SIGINT) stops the run after its next checkpoint; a second Ctrl-C exits at once
    /// (status 130).
    public static func stopOnInterrupt() {
        // The handler first: a SIGINT that arrived while blocked is delivered on unblocking and
        // must find it (unblocking first let such a pending Ctrl-C kill the run without a checkpoint).
        signal(SIGINT) { _ in
            if TrainingRun.requestInterrupt() {
                FileIO.removePendingTemporaryFiles()
                _exit(130)
            }
        }
        // A parent may have started us with SIGINT blocked (the mask is inherited): unblock it.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}

// The temporary files that `FileIO.writeAtomically` has open, so that a process stopped by a
// signal while writing (SIGTERM during the final model write, a second Ctrl-C) removes them
// instead of leaving a hidden `.NAME.tmp-*` behind. The handler may only call async-signal-safe
// functions: the paths sit in fixed C buffers claimed with atomics, and removal is `unlink`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

enum PendingFiles {
    /// Slots for concurrent writes (checkpoint, model, TensorBoard, log) and the longest path kept.
    static let slotCount = 8, pathCapacity = 4096
}

/// One slot per concurrent write; `state` 0 free, 1 claimed (the path is being written or
/// cleared), 2 holds a live temporary path.
private final class PendingSlot: @unchecked Sendable {
    let state = Atomic<Int>(0)
    /// Written only by the thread that claimed the slot (state 1), read only in state 2.
    let path = UnsafeMutablePointer<CChar>.allocate(capacity: PendingFiles.pathCapacity)
}

private let pendingSlots: [PendingSlot] = (0..<PendingFiles.slotCount).map { _ in PendingSlot() }

extension PendingFiles {
    /// Registers `path` (a temporary file just created); returns the slot to release, or nil if
    /// every slot is taken or the path is too long (the file is then only removed by the writer).
    static func register(_ path: String) -> Int? {
        let bytes = Array(path.utf8)
        guard bytes.count < pathCapacity else { return nil }
        for (index, slot) in pendingSlots.enumerated() where slot.state.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
            bytes.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { slot.path.update(from: $0.baseAddress!, count: bytes.count) }
            }
            slot.path[bytes.count] = 0
            slot.state.store(2, ordering: .releasing)
            return index
        }
        return nil
    }

    /// The writer renamed or removed its temporary file: forget it.
    static func release(_ index: Int?) {
        guard let index else { return }
        pendingSlots[index].state.store(0, ordering: .releasing)
    }

    /// Removes every registered temporary file. Async-signal-safe (atomics and `unlink`).
    static func removeAll() {
        for slot in pendingSlots where slot.state.compareExchange(expected: 2, desired: 1, ordering: .acquiring).exchanged {
            unlink(slot.path)
        }
    }
}

extension FileIO {
    /// SIGTERM and SIGHUP remove the temporary files of writes in progress, then end the process
    /// as the signal would have (the old file at each path is untouched). Call once at start-up.
    /// A signal the parent ignored (`nohup` ignores SIGHUP) stays ignored; one it blocked (the
    /// mask is inherited) is unblocked.
    public static func removeTemporaryFilesOnTermination() {
        for signalNumber in [SIGTERM, SIGHUP] {
            #if canImport(Glibc)
            var current = sigaction()
            sigaction(signalNumber, nil, &current)
            // SIG_IGN is the handler address 1 (C function pointers are not Equatable in Swift).
            if let handler = current.__sigaction_handler.sa_handler, unsafeBitCast(handler, to: Int.self) == 1 { continue }
            #endif
            var set = sigset_t()
            sigemptyset(&set)
            sigaddset(&set, signalNumber)
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
            signal(signalNumber) { received in
                PendingFiles.removeAll()
                TerminationLine.emit()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }

    /// A line (e.g. `Error: stopped ...; run ... --resume`) that SIGTERM and SIGHUP print on
    /// standard error before ending the process (nil: none, the default). For a process that
    /// its launcher ends with SIGTERM on Ctrl-C (`mpirun` does so to its ranks), so that the
    /// user still learns what was kept. At most 4095 bytes.
    public static func setTerminationLine(_ line: String?) { TerminationLine.set(line) }

    /// Removes the temporary files of writes in progress (async-signal-safe: for signal handlers
    /// that end the process, such as a second Ctrl-C).
    public static func removePendingTemporaryFiles() { PendingFiles.removeAll() }
}

/// The line the termination handler prints: a fixed C buffer whose length is published
/// atomically, so that the handler reads it with atomics and `write` only.
private enum TerminationLine {
    static let capacity = 4096
    nonisolated(unsafe) static let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    static let length = Atomic<Int>(0)

    static func set(_ line: String?) {
        length.store(0, ordering: .releasing)
        guard let line else { return }
        let utf8 = Array((line + "\n").utf8.prefix(capacity))
        bytes.update(from: utf8, count: utf8.count)
        length.store(utf8.count, ordering: .releasing)
    }

    /// Async-signal-safe.
    static func emit() {
        let n = length.load(ordering: .acquiring)
        if n > 0 { _ = write(2, bytes, n) }
    }
}

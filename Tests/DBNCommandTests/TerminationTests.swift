import Foundation
import Testing

/// SIGTERM while `dbn` writes its model (issue 14, case 8): the process ends as SIGTERM says,
/// the temporary file of the write is removed, and the file that was at `--output` is intact.
/// The write is held open deterministically: an `LD_PRELOAD` shim makes the first `fsync` (the
/// temporary file's, just before the rename) create a marker file and sleep.
@Suite("termination during a write (end to end)")
struct TerminationTests {
    static let shimSource = """
        #define _GNU_SOURCE
        #include <dlfcn.h>
        #include <fcntl.h>
        #include <stdlib.h>
        #include <unistd.h>
        int fsync(int fd) {
            static int (*real)(int);
            if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
            const char *marker = getenv("SLOW_FSYNC_MARKER");
            if (marker) {
                int m = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0644);
                if (m >= 0) { close(m); sleep(60); }
            }
            return real(fd);
        }
        """

    @Test func sigtermDuringTheFinalWriteLeavesNoTemporaryFile() throws {
        let p = try Playground()
        defer { p.remove() }
        try p.write(Array(Self.shimSource.utf8), "shim.c")
        let compile = Process()
        compile.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compile.arguments = ["cc", "-shared", "-fPIC", "-o", p.path("shim.so"), p.path("shim.c"), "-ldl"]
        compile.standardError = FileHandle.nullDevice
        guard (try? compile.run()) != nil, ({ compile.waitUntilExit(); return compile.terminationStatus == 0 })() else {
            print("skipped: no C compiler (cc) to build the fsync shim")
            return
        }
        let output = p.path("m.safetensors")
        try p.write(Array("the previous model".utf8), "m.safetensors")
        let marker = p.path("in-fsync")
        let process = try DBNExecutable.start(Playground.trainArguments + ["--data", p.folder, "--output", output],
                                              in: p.folder,
                                              environment: ["LD_PRELOAD": p.path("shim.so"), "SLOW_FSYNC_MARKER": marker,
                                                            "OPENBLAS_NUM_THREADS": "1"])
        let deadline = Date().addingTimeInterval(300)
        while process.isRunning && Date() < deadline && !FileManager.default.fileExists(atPath: marker) {
            Thread.sleep(forTimeInterval: 0.01)
        }
        try #require(process.isRunning && FileManager.default.fileExists(atPath: marker),
                     "dbn did not reach the model write (status \(process.terminationStatus))")
        let temporaries = { ((try? FileManager.default.contentsOfDirectory(atPath: p.folder)) ?? []).filter { $0.hasPrefix(".m.safetensors.tmp-") } }
        #expect(temporaries().count == 1, "the write in progress has its temporary file")
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM,
                "ended by SIGTERM (reason \(process.terminationReason.rawValue), status \(process.terminationStatus))")
        #expect(temporaries().isEmpty, "the temporary file was left behind: \(temporaries())")
        #expect(fileBytes(output) == Array("the previous model".utf8), "the file at --output changed")
    }
}

import Zlib
import DeepBelief
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

// Hostile inputs, end to end: damaged, lying, huge-claiming and odd IDX files and model files
// given to the built `dbn`. Each one must give ONE line on stderr, `Error: <file>: <problem>`,
// and a non-zero exit (or, for the extreme-but-valid data, train without NaN), never a crash,
// a hang or a memory blow-up. docs/hostile-inputs.md is the table of what the user sees; with
// DBN_HOSTILE_ROWS=1 every test prints its table row (grep `HOSTILE-ROW`).

// MARK: - Building hostile files

/// The bytes of an IDX file: magic number (two zero bytes, `type`, rank), big-endian
/// dimensions, then `payload` as given (which may disagree with the header on purpose).
private func idx(_ type: UInt8, _ shape: [UInt32], _ payload: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, type, UInt8(shape.count)]
    for size in shape { bytes += [UInt8(size >> 24), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)] }
    return bytes + payload
}

/// Big-endian i32 values (an IDX payload of type 0x0C).
private func int32Payload(_ values: [Int32]) -> [UInt8] {
    values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: v) >> (24 - 8 * $0)) } }
}

/// A tiny valid data set (30 training and 9 test images of 4x4 pixels, 3 classes; the
/// training labels gzipped) in a temporary folder, where the hostile files are written too.
struct Playground {
    let data: TrainingFixture
    var folder: String { data.folder }

    init() throws { data = try TrainingFixture(train: 30, test: 9, side: 4) }

    func path(_ name: String) -> String { data.path(name) }

    /// Writes `bytes` to `name` in the folder and returns its path.
    @discardableResult
    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    /// The four explicit data flags: the fixture's valid files, except those replaced.
    func files(trainImages: String? = nil, trainLabels: String? = nil,
               testImages: String? = nil, testLabels: String? = nil) -> [String] {
        ["--train-images", trainImages ?? path("train-images-idx3-ubyte"),
         "--train-labels", trainLabels ?? path("train-labels-idx1-ubyte"),
         "--test-images", testImages ?? path("t10k-images.idx3-ubyte"),
         "--test-labels", testLabels ?? path("t10k-labels-idx1-ubyte")]
    }

    /// `dbn data` with `trainImages` in place of the valid training images (stdout discarded;
    /// killed, and the test failed, if it runs for more than 60 s: a FIFO used to hang it).
    func data(trainImages: String) throws -> CommandResult {
        let process = try DBNExecutable.start(["data"] + files(trainImages: trainImages), in: folder)
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            Issue.record("dbn data --train-images \(trainImages) was still running after 60 s")
        }
        return DBNExecutable.finish(process)
    }

    /// A tiny training run (pre-training, fine-tuning and the He baseline, 2 epochs each).
    static let trainArguments = ["train", "--layers", "8", "--pretrain-epochs", "2", "--finetune-epochs", "2",
                                 "--batch-size", "10", "--quiet", "--json"]

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}

/// Prints the table row of docs/hostile-inputs.md for `result` when DBN_HOSTILE_ROWS is set
/// (paths shortened to their last component, as the table shows them).
private func row(_ input: String, _ command: String, _ result: CommandResult, playground: Playground) {
    guard ProcessInfo.processInfo.environment["DBN_HOSTILE_ROWS"] != nil else { return }
    let line = result.stderrLines.first ?? "(stdout) " + (result.stdout.split(separator: "\n").first { $0.hasPrefix("problem:") }
        .map(String.init) ?? result.lastLine)
    let short = line.replacingOccurrences(of: playground.folder + "/", with: "")
    print("HOSTILE-ROW | \(input) | `\(command)` | `\(short)` | \(result.status) |")
}

/// Kilobytes in a megabyte (ru_maxrss is in kilobytes on Linux).
private let megabyte = 1024

// MARK: - A child with bounded memory

/// The address space `runWithMemoryLimit` allows the child: 1 GiB, five times what `dbn data`
/// needs (it runs under 200 MB), a quarter of what a gzip bomb at the 4 GiB cap would take.
private let addressSpaceLimitKilobytes = 1 << 20

/// Runs `dbn arguments` with its address space limited (`ulimit -v`, through /bin/sh), so that
/// a memory blow-up makes it fail instead of passing unnoticed, and reaps it with wait4, which
/// reports the child's peak resident set size. stdout is discarded; stderr is collected.
///
/// The peak is an upper bound: at exec, Linux folds the spawning process's own high-water
/// mark into the child's (posix_spawn shares the parent's memory until exec), so it is exact
/// only when it exceeds this test process's own peak, `parentPeakKilobytes`.
private func runWithMemoryLimit(_ arguments: [String]) throws
    -> (result: CommandResult, peakKilobytes: Int, parentPeakKilobytes: Int) {
    let executable = DBNExecutable.path
    try #require(FileManager.default.isExecutableFile(atPath: executable),
                 "the dbn executable is missing at \(executable): run `swift build` before `swift test`")
    let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("dbn-stderr-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: errorFile) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, errorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var environment = ProcessInfo.processInfo.environment
    environment["OPENBLAS_NUM_THREADS"] = "1"
    let shell = ["/bin/sh", "-c", "ulimit -v \(addressSpaceLimitKilobytes) && exec \"$@\"", "sh", executable]
    let argv: [UnsafeMutablePointer<CChar>?] = (shell + arguments).map { strdup($0) } + [nil]
    let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, envp)
    try #require(spawned == 0, "posix_spawn failed: \(String(cString: strerror(spawned)))")
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
        let code = errno
        try #require(code == EINTR, "wait4 failed: \(String(cString: strerror(code)))")
    }
    var own = rusage()
    getrusage(RUSAGE_SELF.rawValue, &own)
    // WIFEXITED / WEXITSTATUS / WTERMSIG by hand (the macros are not imported).
    let exitStatus = status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    let result = CommandResult(arguments: arguments, status: exitStatus, stdout: "",
                               stderr: String(decoding: fileBytes(errorFile), as: UTF8.self))
    return (result, usage.ru_maxrss, own.ru_maxrss)
}

/// Checks the peak that `runWithMemoryLimit` measured: below `limit` megabytes, unless it is
/// no more than this process's own peak (then it says nothing about the child, and the
/// address-space limit is the guarantee).
private func expectPeak(_ measured: (peakKilobytes: Int, parentPeakKilobytes: Int), below limit: Int,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(measured.peakKilobytes <= measured.parentPeakKilobytes || measured.peakKilobytes < limit * megabyte,
            "peak RSS \(measured.peakKilobytes) kB (this process: \(measured.parentPeakKilobytes) kB)",
            sourceLocation: sourceLocation)
}

// MARK: - IDX files

@Suite("hostile IDX files (end to end)")
struct HostileIDXTests {
    /// Files whose content alone is wrong, given as the training images of `dbn data`.
    struct Case: CustomStringConvertible, Sendable {
        let input: String
        let name: String
        let bytes: @Sendable () -> [UInt8]
        let phrase: String
        var description: String { input }
    }

    static let damaged: [Case] = [
        Case(input: "truncated header (6 bytes of a 16-byte header)", name: "cut-header-idx3-ubyte",
             bytes: { [0, 0, 0x08, 3, 0, 0] }, phrase: "file shorter than its header: expected at least 16 bytes, found 6"),
        Case(input: "truncated data (10 of 24 pixel bytes)", name: "cut-data-idx3-ubyte",
             bytes: { idx(0x08, [6, 2, 2], [UInt8](repeating: 7, count: 10)) },
             phrase: "header claims 6 x 2 x 2 u8 values (24 bytes of data), found only 10 bytes after the header"),
        Case(input: "wrong magic number", name: "magic-idx3-ubyte",
             bytes: { [0x12, 0x34, 0x08, 3] + [UInt8](repeating: 0, count: 40) },
             phrase: "bad magic number: expected two zero bytes then a type code, found 0x12340803"),
        Case(input: "HTML page saved under an IDX name", name: "html-idx3-ubyte",
             bytes: { Array("<!DOCTYPE html><html>Not Found</html>".utf8) },
             phrase: "(text \"<!DO\": not an IDX file, maybe a failed download)"),
        Case(input: "type code 0x0A", name: "type0a-idx3-ubyte",
             bytes: { idx(0x0A, [6, 2, 2], [UInt8](repeating: 0, count: 24)) }, phrase: "unknown type code 0x0a"),
        Case(input: "dimensions whose product overflows (3 x 4294967295)", name: "overflow-idx3-ubyte",
             bytes: { idx(0x08, [.max, .max, .max], [UInt8](repeating: 0, count: 8)) },
             phrase: "dimensions 4294967295 x 4294967295 x 4294967295 of 1-byte u8 values overflow the addressable size"),
        Case(input: "header claiming 1 TiB (65536 x 65536 x 256) on a 116-byte file", name: "tera-idx3-ubyte",
             bytes: { idx(0x08, [65536, 65536, 256], [UInt8](repeating: 0, count: 100)) },
             phrase: "header claims 65536 x 65536 x 256 u8 values (1099511627776 bytes of data), found only 100 bytes"),
        Case(input: "empty file", name: "empty-idx3-ubyte", bytes: { [] }, phrase: "empty file"),
        Case(input: "truncated gzip stream (first half)", name: "cut-idx3-ubyte.gz",
             bytes: { let g = ZlibCodec.gzip(idx(0x08, [6, 2, 2], Array(0..<24))); return Array(g[0..<(g.count / 2)]) },
             phrase: "truncated gzip stream: expected its end marker, found the end of the file"),
        Case(input: "corrupt gzip stream (deflate bytes flipped)", name: "corrupt-idx3-ubyte.gz",
             bytes: { var g = ZlibCodec.gzip(idx(0x08, [6, 2, 2], Array(0..<24))); g[10] = 0xFF; return g },
             phrase: "corrupt gzip stream: invalid block type"),
        Case(input: "gzip of a gzip", name: "twice-idx3-ubyte.gz",
             bytes: { ZlibCodec.gzip(ZlibCodec.gzip(idx(0x08, [6, 2, 2], Array(0..<24)))) },
             phrase: "(gzip magic after gunzip: the file is gzipped twice)"),
        Case(input: "image file of rank 1", name: "rank1-idx3-ubyte",
             bytes: { idx(0x08, [24], Array(0..<24)) }, phrase: "image file of shape 24: expected samples x image dimensions"),
        Case(input: "i16 image file with a negative pixel", name: "negative-idx3-ubyte",
             bytes: { idx(0x0B, [6, 2, 2], [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + [UInt8](repeating: 0, count: 36)) },
             phrase: "value -1 at index 5: expected image intensities >= 0"),
        Case(input: "f32 image file with a NaN", name: "nan-idx3-ubyte",
             bytes: { idx(0x0D, [6, 2, 2], [UInt8](repeating: 0, count: 8) + [0x7F, 0xC0, 0, 0] + [UInt8](repeating: 0, count: 84)) },
             phrase: "value nan at index 2 is not finite as a 32-bit float"),
    ]

    @Test(arguments: damaged)
    func damagedImageFile(_ c: Case) throws {
        let p = try Playground()
        defer { p.remove() }
        let file = try p.write(c.bytes(), c.name)
        let result = try p.data(trainImages: file)
        expectCleanFailure(result, naming: file, containing: c.phrase)
        row(c.input, "dbn data --train-images \(c.name) ...", result, playground: p)
    }

    /// A gzip bomb: the header claims 6 x 2 x 2 bytes, the stream holds 4.1 GiB of zeros (4200
    /// concatenated 1 MiB members, 4.4 MB on disk), more than the 4 GiB decompression cap.
    /// Inflating stops 1 MiB past the claim; before that was checked, the same file took
    /// 4.4 GB of memory and 20 s to reject (here it would now crash against the 1 GiB
    /// address-space limit). And one whose header claims 1 TiB over 64 MiB of zeros: the claim
    /// is beyond what 67 kB of gzip can hold, so the content is only counted (in 64 kB pieces)
    /// to say how much there is.
    @Test func gzipBombsCostLittleMemory() throws {
        let p = try Playground()
        defer { p.remove() }
        let member = ZlibCodec.gzip([UInt8](repeating: 0, count: 1 << 20), level: 9)
        func bomb(header shape: [UInt32], members: Int) -> [UInt8] {
            var bytes = ZlibCodec.gzip(idx(0x08, shape, [UInt8](repeating: 0, count: 24)), level: 9)
            bytes.reserveCapacity(bytes.count + members * member.count)
            for _ in 0..<members { bytes += member }
            return bytes
        }
        let small = try p.write(bomb(header: [6, 2, 2], members: 4200), "bomb-idx3-ubyte.gz")
        #expect(fileBytes(small).count < 5_000_000)
        let beyondCap = try runWithMemoryLimit(["data"] + p.files(trainImages: small))
        expectCleanFailure(beyondCap.result, naming: small,
                           containing: "header claims 6 x 2 x 2 u8 values (24 bytes of data), but the gzip stream holds over 1 MiB more")
        expectPeak((beyondCap.peakKilobytes, beyondCap.parentPeakKilobytes), below: 500)
        row("gzip bomb: 4.4 MB expanding to 4.1 GiB (beyond the 4 GiB cap), header claims 24 bytes",
            "dbn data --train-images bomb-idx3-ubyte.gz ...", beyondCap.result, playground: p)

        let tera = try p.write(bomb(header: [65536, 65536, 256], members: 64), "tera-bomb-idx3-ubyte.gz")
        let claim = try runWithMemoryLimit(["data"] + p.files(trainImages: tera))
        expectCleanFailure(claim.result, naming: tera,
                           containing: "header claims 65536 x 65536 x 256 u8 values (1099511627776 bytes of data), found only 67108888 bytes after the header (after gunzip)")
        expectPeak((claim.peakKilobytes, claim.parentPeakKilobytes), below: 500)
        row("gzip bomb: header claims 1 TiB, 67 kB expanding to 64 MiB",
            "dbn data --train-images tera-bomb-idx3-ubyte.gz ...", claim.result, playground: p)

        // The plain file whose header claims a terabyte: rejected from the file size alone.
        let plain = try p.write(idx(0x08, [65536, 65536, 256], [UInt8](repeating: 0, count: 100)), "tera-idx3-ubyte")
        let plainRun = try runWithMemoryLimit(["data"] + p.files(trainImages: plain))
        expectCleanFailure(plainRun.result, naming: plain, containing: "found only 100 bytes")
        expectPeak((plainRun.peakKilobytes, plainRun.parentPeakKilobytes), below: 100)
    }

    @Test func labelsOutOfRange() throws {
        let p = try Playground()
        defer { p.remove() }
        var labels = (0..<30).map { Int32($0 % 3) }
        for (value, name) in [(Int32(300), "labels-300-idx1-ubyte"), (-1, "labels-minus1-idx1-ubyte")] {
            labels[3] = value
            let file = try p.write(idx(0x0C, [30], int32Payload(labels)), name)
            let result = try DBNExecutable.run(Playground.trainArguments + p.files(trainLabels: file), in: p.folder)
            expectCleanFailure(result, naming: file, containing: "label \(value) at index 3: expected labels in 0..<256")
            row("i32 label file with a label \(value)", "dbn train --train-labels \(name) ...", result, playground: p)
        }
        let floats = try p.write(idx(0x0D, [30], [UInt8](repeating: 0, count: 120)), "labels-f32-idx1-ubyte")
        let result = try DBNExecutable.run(Playground.trainArguments + p.files(trainLabels: floats), in: p.folder)
        expectCleanFailure(result, naming: floats, containing: "label file of type f32: expected an integer type")
        row("f32 label file", "dbn train --train-labels labels-f32-idx1-ubyte ...", result, playground: p)
    }

    @Test func labelAndImageCountsDisagree() throws {
        let p = try Playground()
        defer { p.remove() }
        // In the folder: 29 training labels for 30 images.
        try p.write(idx(0x08, [29], (0..<29).map { UInt8($0 % 3) }), "train-labels-idx1-ubyte")
        let train = try DBNExecutable.run(Playground.trainArguments + ["--data", p.folder], in: p.folder)
        expectCleanFailure(train, naming: p.path("train-images-idx3-ubyte"),
                           containing: "30 images, but \(p.path("train-labels-idx1-ubyte")) holds 29 labels")
        row("29 labels for 30 images", "dbn train --data DIR ...", train, playground: p)
        // evaluate reads only the test split: 8 labels for 9 images.
        let short = try p.write(idx(0x08, [8], (0..<8).map { UInt8($0 % 3) }), "short-labels-idx1-ubyte")
        var g = Xoshiro256StarStar(seed: 3)
        let model = p.path("net.safetensors")
        try ModelArchive.archive(network: Network(layers: [DenseParameters(weight: .normal(rows: 16, columns: 3, mean: 0, standardDeviation: 0.1, using: &g),
                                                                          bias: [0, 0, 0])]))
            .write(to: model)
        let evaluate = try DBNExecutable.run(["evaluate", "--model", model, "--test-images", p.path("t10k-images.idx3-ubyte"),
                                              "--test-labels", short], in: p.folder)
        expectCleanFailure(evaluate, naming: short, containing: "9 images, but \(short) holds 8 labels")
        row("8 test labels for 9 test images", "dbn evaluate --model net.safetensors --test-labels short-labels-idx1-ubyte ...",
            evaluate, playground: p)
    }

    @Test func notAFile() throws {
        let p = try Playground()
        defer { p.remove() }
        // A folder where the data folder should hold a file.
        try FileManager.default.removeItem(atPath: p.path("train-images-idx3-ubyte"))
        try FileManager.default.createDirectory(atPath: p.path("train-images-idx3-ubyte"), withIntermediateDirectories: false)
        let folder = try DBNExecutable.run(["data", "--data", p.folder], in: p.folder)
        expectCleanFailure(folder, naming: p.path("train-images-idx3-ubyte"), containing: "expected an IDX file, found a folder")
        row("a folder named train-images-idx3-ubyte", "dbn data --data DIR", folder, playground: p)

        // A file where the data folder should be.
        let asFolder = try DBNExecutable.run(["data", "--data", p.path("t10k-labels-idx1-ubyte")], in: p.folder)
        expectCleanFailure(asFolder, naming: p.path("t10k-labels-idx1-ubyte"), containing: "expected a data folder, found a file")
        row("a file given as --data", "dbn data --data t10k-labels-idx1-ubyte", asFolder, playground: p)

        // A FIFO that nobody writes to: used to block forever in open(2).
        let fifo = p.path("fifo-idx3-ubyte")
        try #require(mkfifo(fifo, 0o600) == 0)
        let pipe = try p.data(trainImages: fifo)
        expectCleanFailure(pipe, naming: fifo, containing: "a pipe that gave no data")
        row("a FIFO with no writer", "dbn data --train-images fifo-idx3-ubyte ...", pipe, playground: p)

        // A device: /dev/zero never ends (used to grow memory until killed).
        let device = try p.data(trainImages: "/dev/zero")
        expectCleanFailure(device, naming: "/dev/zero", containing: "a device, not a regular file or a pipe")
        row("/dev/zero", "dbn data --train-images /dev/zero ...", device, playground: p)

        // A socket: open(2) fails even for root.
        let socketPath = p.path("sock-idx3-ubyte")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        try #require(socketPath.utf8.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (i, byte) in socketPath.utf8.enumerated() { buffer[i] = byte }
            buffer[socketPath.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        let sock = try p.data(trainImages: socketPath)
        expectCleanFailure(sock, naming: socketPath, containing: "not a regular file (a socket")
        row("a Unix socket", "dbn data --train-images sock-idx3-ubyte ...", sock, playground: p)
    }

    /// chmod 000 stops only users other than root: as root, the child runs as `nobody`
    /// through setpriv(1) (skipped when neither applies).
    @Test("a file without read permission",
          .enabled(if: geteuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                   "root reads any file, and setpriv is not there to drop to nobody"))
    func unreadableFile() throws {
        let p = try Playground()
        defer { p.remove() }
        let locked = try p.write(fileBytes(p.path("train-images-idx3-ubyte")), "locked-idx3-ubyte")
        try #require(chmod(locked, 0) == 0)
        let arguments = ["data"] + p.files(trainImages: locked)
        let result: CommandResult
        if geteuid() == 0 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", DBNExecutable.path] + arguments
            process.currentDirectoryURL = URL(fileURLWithPath: "/")
            let err = Pipe()
            process.standardOutput = FileHandle.nullDevice
            process.standardError = err
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let data = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            result = CommandResult(arguments: arguments, status: process.terminationStatus, stdout: "",
                                   stderr: String(decoding: data, as: UTF8.self))
        } else {
            result = try p.data(trainImages: locked)
        }
        expectCleanFailure(result, naming: locked, containing: "cannot read the file: Permission denied")
        row("a file with mode 000 (run as a user other than root)", "dbn data --train-images locked-idx3-ubyte ...",
            result, playground: p)
    }
}

// MARK: - Extreme but valid data

@Suite("extreme but valid data trains without NaN (end to end)")
struct ExtremeDataTests {
    /// Writes a folder of 30 training and 9 test images of 4x4 pixels (`images(count)` gives
    /// the IDX array) with labels `label(i)`, trains on it, and checks that the run ends
    /// normally with finite losses and a finite model of `classes` outputs.
    private func trainsWithoutNaN(_ name: String, images: (Int) -> IDXArray, label: (Int) -> UInt8, classes: Int,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let p = try Playground()
        defer { p.remove() }
        let dir = p.path(name)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        for (split, count) in [("train", 30), ("t10k", 9)] {
            try IDXFile.write(images(count), to: dir + "/\(split)-images-idx3-ubyte")
            try IDXFile.write(IDXArray(shape: [count], uint8: (0..<count).map(label)), to: dir + "/\(split)-labels-idx1-ubyte")
        }
        let model = p.path("\(name).safetensors")
        let result = try DBNExecutable.run(Playground.trainArguments + ["--data", dir, "--output", model], in: p.folder)
        row(name, "dbn train --data \(name) --layers 8 ...", result, playground: p)
        // Before the fix of `format(_:_:)` in Sources/Pretraining/MonitorOptions.swift, the
        // per-epoch line trapped on a reconstruction error beyond Int.max: a known issue
        // until that one-line fix is merged (see docs/hostile-inputs.md).
        let trapped = result.stderr.contains("cannot be converted to Int")
        withKnownIssue("Pretraining's format(_:_:) traps on values beyond Int.max", sourceLocation: sourceLocation) {
            let first = result.stderrLines.first ?? ""
            #expect(result.status == 0, "\(first)", sourceLocation: sourceLocation)
            #expect(!result.stderr.contains("Fatal error"), "\(first)", sourceLocation: sourceLocation)
        } when: {
            trapped
        }
        guard !trapped else { return }
        let json = try result.json()
        let testError = try #require(json["test_error"] as? Double, sourceLocation: sourceLocation)
        #expect(testError.isFinite && testError >= 0 && testError <= 1, sourceLocation: sourceLocation)
        let runs = try #require(json["runs"] as? [[String: Any]], sourceLocation: sourceLocation)
        #expect(runs.count == 2, sourceLocation: sourceLocation)
        // The main run ends with a finite loss; the He + ReLU baseline (unbounded units, rate
        // 0.1) may diverge on huge pixels, which is reported as such, not as a failure.
        for (index, run) in runs.enumerated() {
            if index == 1, run["diverged_at_epoch"] is Int {
                #expect(run["final_train_loss"] == nil && (json["verdict"] as? String)?.contains("diverged") == true,
                        "\(run)", sourceLocation: sourceLocation)
                continue
            }
            let loss = try #require(run["final_train_loss"] as? Double, "\(run)", sourceLocation: sourceLocation)
            #expect(loss.isFinite, "\(run)", sourceLocation: sourceLocation)
        }
        // Loading checks every weight for NaN and infinity.
        let network = try ModelArchive.network(from: SafeTensors.read(from: model))
        #expect(network.sizes == [16, 8, classes], sourceLocation: sourceLocation)
    }

    @Test func hugePixelValues() throws {
        // f32 pixels alternating 0 and 1e30 (finite, but their squares overflow Float).
        try trainsWithoutNaN("huge-f32", images: { count in
            IDXArray(shape: [count, 4, 4], float32: (0..<(count * 16)).map { $0 % 2 == 0 ? 0 : 1e30 })
        }, label: { UInt8($0 % 3) }, classes: 3)
    }

    @Test func constantImages() throws {
        try trainsWithoutNaN("all-zero", images: { IDXArray(shape: [$0, 4, 4], uint8: [UInt8](repeating: 0, count: $0 * 16)) },
                             label: { UInt8($0 % 3) }, classes: 3)
    }

    @Test func aClassMissingFromTheLabels() throws {
        // Labels 0 and 2 only: class 1 never appears, the network still has 3 outputs.
        var g = Xoshiro256StarStar(seed: 9)
        let pixels = (0..<(30 * 16)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        try trainsWithoutNaN("class-1-missing", images: { IDXArray(shape: [$0, 4, 4], uint8: Array(pixels[0..<($0 * 16)])) },
                             label: { UInt8($0 % 2 * 2) }, classes: 3)
    }
}

// MARK: - Model files

/// A safetensors file taken apart: the JSON header as an object, and the data buffer.
private struct RawSafeTensors {
    var header: [String: Any]
    var data: [UInt8]

    init(_ bytes: [UInt8]) throws {
        let length = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
        header = try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any])
        data = Array(bytes[(8 + length)...])
    }

    /// The file's bytes; `headerLength` overrides the length prefix.
    func bytes(headerLength: UInt64? = nil) throws -> [UInt8] {
        let json = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        let length = headerLength ?? UInt64(json.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + json + data
    }

    func offsets(_ name: String) -> [Int] {
        ((header[name] as? [String: Any])?["data_offsets"] as? [Int]) ?? []
    }

    mutating func setOffsets(_ name: String, _ offsets: [Int]) {
        var entry = header[name] as? [String: Any] ?? [:]
        entry["data_offsets"] = offsets
        header[name] = entry
    }

    mutating func setMetadata(_ key: String, _ value: String) {
        var metadata = header["__metadata__"] as? [String: String] ?? [:]
        metadata[key] = value
        header["__metadata__"] = metadata
    }

    /// The tensor whose bytes come last in the buffer.
    var lastTensor: String {
        header.keys.filter { $0 != "__metadata__" }.max { offsets($0).last ?? 0 < offsets($1).last ?? 0 }!
    }
}

@Suite("hostile model files (end to end)")
struct HostileModelTests {
    /// Valid models over the playground's 4x4 data: a network 16-8-3 saved with its stack,
    /// the stack 16-8 alone, and 784-input ones.
    private static func models(in p: Playground) throws -> (network: [UInt8], stack: [UInt8]) {
        var g = Xoshiro256StarStar(seed: 11)
        let stack = DeepBeliefNetwork(layerSizes: [16, 8], generator: &g)
        let network = try Network(pretrained: stack, outputCount: 3, generator: &g)
        try ModelArchive.archive(network: network, stack: stack).write(to: p.path("net.safetensors"))
        try ModelArchive.archive(stack: stack).write(to: p.path("stack.safetensors"))
        return (fileBytes(p.path("net.safetensors")), fileBytes(p.path("stack.safetensors")))
    }

    /// The three commands that read a model, each with `model` in its place.
    private static func commands(_ model: String, _ p: Playground) -> [(name: String, arguments: [String])] {
        [("evaluate", ["evaluate", "--model", model, "--data", p.folder]),
         ("finetune", ["finetune", "--weights", model, "--data", p.folder, "--finetune-epochs", "1", "--quiet",
                       "--output", p.path("finetuned.safetensors")]),
         ("inspect", ["inspect", model])]
    }

    /// Damaged files every command must refuse in the same words.
    @Test func damagedFilesFailTheSameWayEverywhere() throws {
        let p = try Playground()
        defer { p.remove() }
        let (network, _) = try Self.models(in: p)
        var cases: [(input: String, name: String, bytes: [UInt8], phrase: String)] = []

        var raw = try RawSafeTensors(network)
        let last = raw.lastTensor
        let (begin, end) = (raw.offsets(last)[0], raw.offsets(last)[1])
        raw.setOffsets(last, [begin + 4000, end + 4000])
        cases.append(("offsets pointing 4000 bytes past the end", "past-end.safetensors", try raw.bytes(),
                      "'\(last)' ends at byte \(end + 4000) of the data buffer, but the buffer has only \(end) bytes"))

        cases.append(("data buffer cut short (last 100 bytes missing)", "cut.safetensors", Array(network.dropLast(100)),
                      "'\(last)' ends at byte \(end) of the data buffer, but the buffer has only \(end - 100) bytes"))

        raw = try RawSafeTensors(network)
        raw.setOffsets("rbm.0.hidden_bias", raw.offsets("layers.0.bias"))  // both 8 floats
        cases.append(("two tensors sharing bytes (overlapping offsets)", "overlap.safetensors", try raw.bytes(),
                      "the bytes of tensor"))

        raw = try RawSafeTensors(network)
        let headerLength = UInt64(network[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) })
        cases.append(("header length 1 MB more than the file", "long-header.safetensors",
                      try raw.bytes(headerLength: headerLength + 1_000_000),
                      "header length \(headerLength + 1_000_000) runs past the end of the file"))

        let png = GrayscaleImage(width: 2, height: 2, pixels: [0, 64, 128, 255])
        try png.write(to: p.path("picture.png"))
        cases.append(("a PNG image", "picture.png", fileBytes(p.path("picture.png")), "is above the limit of 100000000 bytes; not a safetensors file"))
        cases.append(("a text file", "notes.safetensors", Array("weights: 0.1 0.2 0.3\n".utf8),
                      "is above the limit of 100000000 bytes; not a safetensors file"))
        cases.append(("a 5-byte file", "tiny.safetensors", [1, 2, 3, 4, 5], "expected at least 8 bytes (the header length), found 5 bytes"))

        for c in cases {
            let file = try p.write(c.bytes, c.name)
            for (name, arguments) in Self.commands(file, p) {
                let result = try DBNExecutable.run(arguments, in: p.folder)
                expectCleanFailure(result, naming: file, containing: c.phrase)
                row(c.input, "dbn \(name) \(name == "inspect" ? "" : name == "evaluate" ? "--model " : "--weights ")\(c.name)",
                    result, playground: p)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: p.path("finetuned.safetensors")))
    }

    @Test func specialFilesAsModels() throws {
        let p = try Playground()
        defer { p.remove() }
        let fifo = p.path("fifo.safetensors")
        try #require(mkfifo(fifo, 0o600) == 0)
        for (input, file, phrase) in [("a folder", p.folder, "expected a safetensors file, found a folder"),
                                      ("a FIFO", fifo, "expected a safetensors file, found a special file")] {
            for (name, arguments) in Self.commands(file, p) {
                let result = try DBNExecutable.run(arguments, in: p.folder)
                expectCleanFailure(result, naming: file, containing: phrase)
                if name == "evaluate" { row(input + " as the model", "dbn evaluate --model \(input == "a FIFO" ? "fifo.safetensors" : "DIR")", result, playground: p) }
            }
        }
    }

    @Test func modelsThatDoNotFit() throws {
        let p = try Playground()
        defer { p.remove() }
        let (network, stack) = try Self.models(in: p)
        var g = Xoshiro256StarStar(seed: 12)

        // For 784 inputs (MNIST) on 16-pixel data.
        let wide = p.path("mnist-net.safetensors"), wideStack = p.path("mnist-stack.safetensors")
        try ModelArchive.archive(network: Network(layers: [DenseParameters(fanIn: 784, fanOut: 3)])).write(to: wide)
        try ModelArchive.archive(stack: DeepBeliefNetwork(layerSizes: [784, 8], generator: &g)).write(to: wideStack)
        let evaluate = try DBNExecutable.run(Self.commands(wide, p)[0].arguments, in: p.folder)
        expectCleanFailure(evaluate, naming: wide, containing: "the model takes 784 inputs but the images have 16 pixels")
        row("784-input network on 4x4 images", "dbn evaluate --model mnist-net.safetensors", evaluate, playground: p)
        let finetune = try DBNExecutable.run(Self.commands(wideStack, p)[1].arguments, in: p.folder)
        expectCleanFailure(finetune, naming: wideStack, containing: "the model takes 784 inputs but the images have 16 pixels")
        row("784-input RBM stack on 4x4 images", "dbn finetune --weights mnist-stack.safetensors", finetune, playground: p)

        // Metadata layer sizes that disagree with the tensors' shapes.
        var raw = try RawSafeTensors(network)
        raw.setMetadata("layer_sizes", "[16,10,3]")
        let arch = try p.write(try raw.bytes(), "arch-net.safetensors")
        raw = try RawSafeTensors(stack)
        raw.setMetadata("layer_sizes", "[16,10]")
        let archStack = try p.write(try raw.bytes(), "arch-stack.safetensors")
        let archEvaluate = try DBNExecutable.run(Self.commands(arch, p)[0].arguments, in: p.folder)
        expectCleanFailure(archEvaluate, naming: arch, containing: "tensor 'layers.0.weight' has shape [16, 8], expected [16, 10]")
        row("metadata layer_sizes [16,10,3], tensors 16-8-3", "dbn evaluate --model arch-net.safetensors", archEvaluate, playground: p)
        let archFinetune = try DBNExecutable.run(Self.commands(archStack, p)[1].arguments, in: p.folder)
        expectCleanFailure(archFinetune, naming: archStack, containing: "tensor 'rbm.0.weight' has shape [16, 8], expected [16, 10]")
        row("metadata layer_sizes [16,10], RBM tensors 16-8", "dbn finetune --weights arch-stack.safetensors", archFinetune, playground: p)
        // inspect describes the file and reports the problem on stdout, with status 0 (by design).
        let archInspect = try DBNExecutable.run(["inspect", arch], in: p.folder)
        #expect(archInspect.status == 0 && archInspect.stderr.isEmpty, "\(archInspect)")
        #expect(archInspect.stdout.contains("problem: \(arch): tensor 'layers.0.weight' has shape [16, 8], expected [16, 10]"),
                "\(archInspect)")
        row("metadata layer_sizes [16,10,3], tensors 16-8-3", "dbn inspect arch-net.safetensors", archInspect, playground: p)

        // Written by a newer format version.
        raw = try RawSafeTensors(network)
        raw.setMetadata("format_version", "99")
        let newer = try p.write(try raw.bytes(), "v99.safetensors")
        for (name, arguments) in Self.commands(newer, p) where name != "inspect" {
            let result = try DBNExecutable.run(arguments, in: p.folder)
            expectCleanFailure(result, naming: newer, containing: "written by a newer version (99); this build reads up to 1")
            row("metadata format_version 99", "dbn \(name) \(name == "evaluate" ? "--model" : "--weights") v99.safetensors",
                result, playground: p)
        }
        let newerInspect = try DBNExecutable.run(["inspect", newer], in: p.folder)
        #expect(newerInspect.status == 0 && newerInspect.stdout.contains("problem: \(newer): written by a newer version (99)"),
                "\(newerInspect)")
        row("metadata format_version 99", "dbn inspect v99.safetensors", newerInspect, playground: p)

        // NaN weights.
        var nan = try RawSafeTensors(network)
        let bias = nan.offsets("layers.0.bias")[0]
        nan.data.replaceSubrange(bias..<(bias + 4), with: [0x00, 0x00, 0xC0, 0x7F])  // little-endian F32 NaN
        let nanFile = try p.write(try nan.bytes(), "nan.safetensors")
        let nanEvaluate = try DBNExecutable.run(Self.commands(nanFile, p)[0].arguments, in: p.folder)
        expectCleanFailure(nanEvaluate, naming: nanFile, containing: "tensor 'layers.0' holds NaN or infinite values")
        row("a NaN in a bias", "dbn evaluate --model nan.safetensors", nanEvaluate, playground: p)
    }
}

// MARK: - Hostile conditions: paths, logs, allocations, overflowing values (issue 14)

/// Runs `dbn arguments` through /bin/sh with stdout sent to `stdoutPath` (e.g. /dev/full);
/// stderr is collected.
private func runRedirectingStdout(_ arguments: [String], to stdoutPath: String, in folder: String) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", "exec \"$0\" \"$@\" > \(stdoutPath)", DBNExecutable.path] + arguments
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    let err = Pipe()
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(arguments: arguments, status: process.terminationStatus, stdout: "",
                         stderr: String(decoding: stderr, as: UTF8.self))
}

/// Runs `dbn arguments` in the playground, expects one clean line naming `file` (with `phrase`),
/// and prints the table row.
@discardableResult
private func expectRefused(_ arguments: [String], in p: Playground, naming file: String, containing phrase: String,
                           row input: String, _ command: String) throws -> CommandResult {
    let result = try DBNExecutable.run(arguments, in: p.folder)
    expectCleanFailure(result, naming: file, containing: phrase)
    row(input, command, result, playground: p)
    return result
}

@Suite("hostile conditions: paths, logs, allocations, overflows (end to end)")
struct HostileConditionTests {
    /// A 16-8 stack and a 16-8-3 network over the playground's 4x4 images.
    private static func models(in p: Playground) throws -> (stack: String, network: String) {
        var g = Xoshiro256StarStar(seed: 11)
        let stack = DeepBeliefNetwork(layerSizes: [16, 8], generator: &g)
        let network = try Network(pretrained: stack, outputCount: 3, generator: &g)
        try ModelArchive.archive(network: network, stack: stack).write(to: p.path("net.safetensors"))
        try ModelArchive.archive(stack: stack).write(to: p.path("stack.safetensors"))
        return (p.path("stack.safetensors"), p.path("net.safetensors"))
    }

    @Test func inputShapeWhoseProductOverflows() throws {
        let p = try Playground()
        defer { p.remove() }
        var raw = try RawSafeTensors(fileBytes(try Self.models(in: p).stack))
        raw.setMetadata("input_shape", "[16777216,16777216,16777216]")
        let file = try p.write(try raw.bytes(), "huge-shape.safetensors")
        try expectRefused(["filters", "--model", file, "--output", p.path("f.png")], in: p, naming: file, containing: "input_shape",
                          row: "metadata input_shape [16777216,16777216,16777216] (product past Int.max)",
                          "dbn filters --model huge-shape.safetensors")
    }

    @Test func allocationSizedOptionsAreBoundedBeforeAllocating() throws {
        let p = try Playground()
        defer { p.remove() }
        let stack = try Self.models(in: p).stack
        let cases: [(option: String, arguments: [String])] = [
            ("--layers 100000,100000", ["train", "--data", p.folder, "--layers", "100000,100000", "--output", p.path("m.safetensors")]),
            ("--temperatures", ["loglik", "--model", stack, "--data", p.folder, "--temperatures", "1000000000"]),
            ("--runs", ["loglik", "--model", stack, "--data", p.folder, "--runs", "1000000000"]),
            ("--count", ["sample", "--model", stack, "--data", p.folder, "--count", "100000000", "--output", p.path("s.png")]),
        ]
        for c in cases {
            try expectRefused(c.arguments, in: p, naming: c.option, containing: c.option,
                              row: "`\(c.arguments.suffix(from: 1).filter { !$0.hasPrefix("/") }.joined(separator: " "))`",
                              "dbn \(c.arguments[0])")
        }
    }

    @Test func logNeverDestroysAnInput() throws {
        let p = try Playground()
        defer { p.remove() }
        let stack = try Self.models(in: p).stack
        let before = fileBytes(stack)
        let finetune = try DBNExecutable.run(["finetune", "--weights", stack, "--data", p.folder, "--log", stack,
                                              "--weight-decay=-1", "--output", p.path("o.safetensors")], in: p.folder)
        #expect(finetune.status != 0 && finetune.stderrLines.count == 1, "\(finetune)")
        #expect(fileBytes(stack) == before, "the model given as --log was changed")
        let labels = p.path("train-labels-idx1-ubyte")
        let labelBytes = fileBytes(labels)
        try expectRefused(Playground.trainArguments + ["--data", p.folder, "--log", labels, "--output", p.path("m.safetensors")],
                          in: p, naming: labels, containing: "--log is an input of this run",
                          row: "`--log` naming the training labels", "dbn train --log train-labels-idx1-ubyte")
        #expect(fileBytes(labels) == labelBytes, "the labels given as --log were changed")
        // An existing non-log file is appended to, never truncated.
        try FileManager.default.createDirectory(atPath: p.path("logs"), withIntermediateDirectories: true)
        let notes = try p.write(Array("keep me\n".utf8), "logs/notes.txt")
        let appended = try DBNExecutable.run(Playground.trainArguments + ["--data", p.folder, "--log", notes,
                                                                         "--output", p.path("m.safetensors")], in: p.folder)
        #expect(appended.status == 0, "\(appended)")
        #expect(String(decoding: fileBytes(notes), as: UTF8.self).hasPrefix("keep me\n"))
    }

    @Test func destinationsAreCheckedBeforeTheData() throws {
        let p = try Playground()
        defer { p.remove() }
        let link = p.path("link.safetensors")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: p.path("elsewhere.safetensors"))
        // A device node of our own, never /dev/null: a dbn without this check replaces the
        // device with a regular file, and the machine's /dev/null must not be the one lost.
        let device = p.path("null-device")
        var cases: [(output: String, phrase: String)] = [
            ("/nonexistent/o.safetensors", "--output is in a folder that does not exist"),
            (link, "--output is a symlink"),
            (p.path("t10k-images.idx3-ubyte"), "--output is an input of this run"),
        ]
        if mknod(device, S_IFCHR | 0o666, dev_t((1 << 8) | 3)) == 0 {  // 1,3: a null device
            cases.append((device, "--output is a device"))
        } else {
            print("device case skipped: cannot create a device node (needs root)")
        }
        for c in cases {
            let before = fileBytes(c.output)
            let result = try DBNExecutable.run(Playground.trainArguments + ["--data", p.folder, "--output", c.output], in: p.folder)
            expectCleanFailure(result, naming: c.output, containing: c.phrase)
            #expect(!result.stdout.contains("test_error"), "trained before refusing: \(result)")
            #expect(fileBytes(c.output) == before)
            row("`--output \(c.output.replacingOccurrences(of: p.folder + "/", with: ""))`", "dbn train", result, playground: p)
        }
        var info = stat()
        if FileManager.default.fileExists(atPath: device) {
            #expect(lstat(device, &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "the device node was replaced")
        }
    }

    @Test func stdoutOnAFullDevice() throws {
        let p = try Playground()
        defer { p.remove() }
        let result = try runRedirectingStdout(["data", "--data", p.folder], to: "/dev/full", in: p.folder)
        expectCleanFailure(result, naming: "stdout", containing: "No space left on device")
        row("stdout redirected to `/dev/full`", "dbn data > /dev/full", result, playground: p)
    }

    @Test func logOnAFullDisk() throws {
        let p = try Playground()
        defer { p.remove() }
        let disk = p.path("disk")
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "-o", "size=64k", "tmpfs", disk]
        mount.standardError = FileHandle.nullDevice
        guard (try? mount.run()) != nil, ({ mount.waitUntilExit(); return mount.terminationStatus == 0 })() else {
            print("skipped: cannot mount a tmpfs at \(disk) (needs root and mount permission)")
            return
        }
        defer {
            let umount = Process()
            umount.executableURL = URL(fileURLWithPath: "/bin/umount")
            umount.arguments = [disk]
            try? umount.run()
            umount.waitUntilExit()
        }
        // Fill the disk, leaving no room for a single log line.
        try #require(FileManager.default.createFile(atPath: disk + "/filler", contents: nil))
        let filler = try #require(FileHandle(forWritingAtPath: disk + "/filler"))
        while (try? filler.write(contentsOf: Data(count: 4096))) != nil {}
        try? filler.close()
        let result = try DBNExecutable.run(Playground.trainArguments + ["--data", p.folder, "--log", disk + "/log.jsonl",
                                                                       "--output", p.path("m.safetensors")], in: p.folder)
        // A warning when the log fails, the run goes on, and the command ends with one error
        // line and a non-zero status: the model is kept, the incomplete log is not hidden.
        #expect(result.status == 1, "\(result)")
        #expect(result.stderrLines.count == 2 && result.stderrLines[0].hasPrefix("Warning: ")
                && result.stderr.contains("No space left on device"), "\(result)")
        #expect(result.stderrLines.last?.hasPrefix("Error: \(disk)/log.jsonl: cannot write the log") == true, "\(result)")
        #expect(FileManager.default.fileExists(atPath: p.path("m.safetensors")))
        row("`--log` on a full disk", "dbn train --log FULL/log.jsonl", result, playground: p)
    }

    @Test func terminalOutputIsSanitised() throws {
        let p = try Playground()
        defer { p.remove() }
        let stack = try Self.models(in: p).stack
        var raw = try RawSafeTensors(fileBytes(stack))
        raw.setMetadata("input_shape", "\u{1B}[2J\u{1B}]0;owned\u{07}" + String(repeating: "x", count: 200_000))
        let file = try p.write(try raw.bytes(), "escape.safetensors")
        let filters = try expectRefused(["filters", "--model", file, "--output", p.path("f.png")], in: p, naming: file,
                                        containing: "\\u{1B}[2J", row: "metadata with escape sequences and a 200 KB value",
                                        "dbn filters --model escape.safetensors")
        #expect(!filters.stderr.contains("\u{1B}") && !filters.stderr.contains("\u{07}"), "raw control characters on stderr")
        #expect(filters.stderr.utf8.count < 3000 && filters.stderr.contains("characters)"), "the long value was not cut")
        let inspect = try DBNExecutable.run(["inspect", file], in: p.folder)
        #expect(!inspect.stdout.contains("\u{1B}") && !inspect.stdout.contains("\u{07}"), "raw control characters on stdout")
        #expect(inspect.stdout.split(separator: "\n").allSatisfy { $0.utf8.count < 3000 }, "a line of 200 KB")
    }

    @Test func aSparseFortyGiBModelFailsFast() throws {
        let p = try Playground()
        defer { p.remove() }
        let file = p.path("sparse.safetensors")
        try FileManager.default.copyItem(atPath: try Self.models(in: p).network, toPath: file)
        try #require(truncate(file, 40 << 30) == 0, "cannot make a sparse 40 GiB file here")
        let started = Date()
        let (result, _, _) = try runWithMemoryLimit(["inspect", file])
        expectCleanFailure(result, naming: file)
        #expect(Date().timeIntervalSince(started) < 20, "the file was read whole")
        row("a sparse 40 GiB file with a valid header (used to abort reading it whole)", "dbn inspect sparse.safetensors",
            result, playground: p)
    }

    /// `dbn finetune` of the playground's stack for 100000 epochs with a checkpoint in `ck`,
    /// interrupted (Ctrl-C) once a fine-tuning checkpoint exists: it then holds the progress.
    /// Returns the arguments and the checkpoint's path.
    private static func interruptedFineTuning(in p: Playground, _ extra: [String] = []) throws -> (arguments: [String], checkpoint: String) {
        let stack = try Self.models(in: p).stack
        let folder = p.path("ck")
        let arguments = ["finetune", "--weights", stack, "--data", p.folder, "--finetune-epochs", "100000", "--batch-size", "10",
                         "--quiet", "--checkpoint-dir", folder, "--output", p.path("o.safetensors")] + extra
        let run = try DBNExecutable.start(arguments, in: p.folder)
        let checkpoint = folder + "/checkpoint.safetensors"
        let deadline = Date().addingTimeInterval(60)
        while run.isRunning && Date() < deadline && !FileManager.default.fileExists(atPath: checkpoint) {
            Thread.sleep(forTimeInterval: 0.01)
        }
        kill(run.processIdentifier, SIGINT)
        _ = DBNExecutable.finish(run)
        return (arguments, checkpoint)
    }

    /// A batch-normalised run's checkpoint with a negative running variance (also checked, in
    /// TrainingRunTests: NaN or infinite scales and running statistics, gamma's moments of the
    /// wrong length, not finite or missing, a running mean of the wrong shape).
    @Test func doctoredBatchNormalisedCheckpointsAreRefused() throws {
        let p = try Playground()
        defer { p.remove() }
        let (arguments, checkpoint) = try Self.interruptedFineTuning(in: p, ["--batch-norm"])
        var file = try SafeTensors.read(from: checkpoint)
        let name = "finetune.progress.network.0.bn_running_var"
        var variance = try #require(try file[name]?.vector(), "no running variance in the checkpoint")
        variance[0] = -1
        file[name] = Tensor(variance)
        try file.write(to: checkpoint)
        try expectRefused(arguments + ["--resume"], in: p, naming: checkpoint, containing: "tensor '\(name)' holds a negative variance",
                          row: "a batch-normalised run's checkpoint with a negative running variance; also checked: NaN or infinite scales and running statistics, gamma's optimiser moments of the wrong length, not finite or missing",
                          "dbn finetune --batch-norm --checkpoint-dir DIR --resume")
    }

    @Test func doctoredFineTuningCheckpointsAreRefused() throws {
        let p = try Playground()
        defer { p.remove() }
        let (arguments, checkpoint) = try Self.interruptedFineTuning(in: p)
        let saved = fileBytes(checkpoint)
        var raw = try RawSafeTensors(saved)
        let progress = try #require((raw.header["__metadata__"] as? [String: String])?["finetune.progress"],
                                    "no fine-tuning progress in the checkpoint")
        let doctored = progress.replacingOccurrences(of: #""epoch":\d+"#, with: "\"epoch\":\(Int.max)", options: .regularExpression)
        raw.setMetadata("finetune.progress", doctored)
        try Data(try raw.bytes()).write(to: URL(fileURLWithPath: checkpoint))
        try expectRefused(arguments + ["--resume"], in: p, naming: checkpoint, containing: "fine-tuning epoch \(Int.max) is outside",
                          row: "a checkpoint whose fine-tuning epoch is Int.max (used to trap in the trainer)",
                          "dbn finetune --checkpoint-dir DIR --resume")
    }

    /// Every float of every tensor set to 3e38: finite, so the file loads, but any sum overflows.
    private static func overflowing(_ bytes: [UInt8]) throws -> [UInt8] {
        var raw = try RawSafeTensors(bytes)
        let pattern = withUnsafeBytes(of: Float(3e38).bitPattern.littleEndian) { Array($0) }
        raw.data = (0..<raw.data.count).map { pattern[$0 % 4] }
        return try raw.bytes()
    }

    @Test func nonFiniteResultsAreErrors() throws {
        let p = try Playground()
        defer { p.remove() }
        let (stack, network) = try Self.models(in: p)
        let hugeNetwork = try p.write(try Self.overflowing(fileBytes(network)), "huge-net.safetensors")
        let hugeStack = try p.write(try Self.overflowing(fileBytes(stack)), "huge-stack.safetensors")
        try expectRefused(["evaluate", "--model", hugeNetwork, "--data", p.folder], in: p, naming: hugeNetwork,
                          containing: "test loss is NaN", row: "network with every weight 3e38 (finite)",
                          "dbn evaluate --model huge-net.safetensors")
        try expectRefused(["loglik", "--model", hugeStack, "--data", p.folder, "--runs", "4", "--temperatures", "50"], in: p,
                          naming: hugeStack, containing: "rbm.0.weight", row: "stack with every weight 3e38 (finite)",
                          "dbn loglik --model huge-stack.safetensors")
    }
}

@Suite("checkpoint folders are owned (end to end)")
struct CheckpointLockTests {
    /// A run long enough (hundreds of checkpointed epochs) to be still running when a second starts.
    private static func arguments(_ p: Playground, folder: String, output: String) -> [String] {
        ["train", "--data", p.folder, "--layers", "8", "--pretrain-epochs", "150", "--finetune-epochs", "150",
         "--batch-size", "10", "--baseline", "none", "--quiet", "--checkpoint-dir", folder, "--output", output]
    }

    @Test func aSecondRunOnTheSameFolderIsRefused() throws {
        let p = try Playground()
        defer { p.remove() }
        let folder = p.path("checkpoints")
        let first = try DBNExecutable.start(Self.arguments(p, folder: folder, output: p.path("first.safetensors")), in: p.folder)
        let lock = folder + "/.lock"
        let deadline = Date().addingTimeInterval(60)
        while first.isRunning && Date() < deadline
                && String(decoding: fileBytes(lock), as: UTF8.self) != "\(first.processIdentifier)\n" {
            Thread.sleep(forTimeInterval: 0.005)
        }
        try #require(first.isRunning, "the first run ended before the second could start: make it longer")
        let second = try DBNExecutable.run(Self.arguments(p, folder: folder, output: p.path("second.safetensors")), in: p.folder)
        expectCleanFailure(second, naming: folder, containing: "in use by another run (pid \(first.processIdentifier))")
        row("a second run on a `--checkpoint-dir` in use", "dbn train --checkpoint-dir DIR (twice at once)", second, playground: p)
        let firstResult = DBNExecutable.finish(first)
        #expect(firstResult.status == 0, "\(firstResult)")
        let alone = try DBNExecutable.run(Self.arguments(p, folder: p.path("alone"), output: p.path("alone.safetensors")), in: p.folder)
        #expect(alone.status == 0, "\(alone)")
        #expect(fileBytes(p.path("first.safetensors")) == fileBytes(p.path("alone.safetensors")), "the first run's model changed")
        #expect(!FileManager.default.fileExists(atPath: p.path("second.safetensors")))
    }

    @Test func aStaleLockIsTakenOver() throws {
        let p = try Playground()
        defer { p.remove() }
        let folder = p.path("checkpoints")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try p.write(Array("999999999\n".utf8), "checkpoints/.lock")
        let result = try DBNExecutable.run(Playground.trainArguments.filter { $0 != "--quiet" }
            + ["--data", p.folder, "--checkpoint-dir", folder, "--output", p.path("m.safetensors")], in: p.folder)
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.contains("Taking over the checkpoint folder from pid 999999999"), "\(result)")
    }
}

@Suite("a checkpoint belongs to its data (end to end)")
struct CheckpointDataTests {
    /// Issue 14, case 12: `--resume` on other data of the same shape (images inverted) is
    /// refused naming the data; on the same data it resumes.
    @Test func resumingOnOtherDataOfTheSameShapeIsRefused() throws {
        let p = try Playground()
        defer { p.remove() }
        let folder = p.path("checkpoints")
        let arguments = Playground.trainArguments + ["--data", p.folder, "--checkpoint-dir", folder, "--output", p.path("m.safetensors")]
        let first = try DBNExecutable.run(arguments, in: p.folder)
        #expect(first.status == 0, "\(first)")
        let same = try DBNExecutable.run(arguments + ["--resume"], in: p.folder)
        #expect(same.status == 0, "resuming on the same data: \(same)")
        let images = p.path("train-images-idx3-ubyte")
        var bytes = fileBytes(images)
        for i in 16..<bytes.count { bytes[i] = 255 - bytes[i] }  // same header, inverted pixels
        try p.write(bytes, "train-images-idx3-ubyte")
        let other = try DBNExecutable.run(arguments + ["--resume"], in: p.folder)
        expectCleanFailure(other, naming: folder, containing: "the data files' content (SHA-256)")
        row("`--resume` on other data of the same shape (training images inverted)", "dbn train --resume ...", other, playground: p)
    }
}

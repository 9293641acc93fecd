// libFuzzer entry for the IDX reader: `IDXFile.decode` on plain and gzipped content, then every
// consumer of a decoded array (conversions, the image and label checks of `DataSet`).
// Built and run by scripts/fuzz/run.sh; see scripts/fuzz/README.md.
//
// The first byte chooses what is done with the input, so that the corpus can hold real files:
//   0x01  gzip(0x00 + input[1...]) decoded, and checked against the plain decode of the same
//         bytes (reaches the header checks behind gunzip; a valid plain file with its first
//         byte set to 1 is a valid input of this mode)
//   0x02  the same gzip stream decoded with a cap one byte below its content (must fail with
//         gzipTooLarge)
//   0x03  the same with a cap of exactly its content (must give the plain result)
//   else  the input decoded as it is: plain, or gzipped when it starts with 1f 8b (corrupt
//         streams, bombs), with a 64 MiB decompression cap
import Zlib
@testable import IDX

/// The decompression cap of the raw mode (the brief's 64 MiB). With -max_len=16384 the ratio
/// term of `IDXFile.decompressionLimit` (1032 x input + 1 MiB, about 17.5 MiB) is the tighter one.
let rawCap = 64 << 20

/// Conversions are run on arrays of at most this many values (32 MiB as Double), so that the
/// largest legitimate allocation stays below the fuzzer's -malloc_limit_mb.
let conversionLimit = 4 << 20

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let mode = input.first else {
        let result = outcome { () throws(IDXError) in try IDXFile.decode(input, name: "fuzz", decompressionCap: rawCap) }
        check(result == .failure(.emptyFile(file: "fuzz")), "empty input: \(result)")
        return 0
    }
    switch mode {
    case 0x01, 0x02, 0x03:
        let plain = [0] + input.dropFirst()
        let wrapped = ZlibCodec.gzip(plain)
        let reference = outcome { () throws(IDXError) in try IDXFile.decode(plain, name: "fuzz", decompressionCap: rawCap) }
        let cap = mode == 0x01 ? rawCap : mode == 0x02 ? plain.count - 1 : plain.count
        let result = outcome { () throws(IDXError) in try IDXFile.decode(wrapped, name: "fuzz", decompressionCap: cap) }
        if mode == 0x02 {
            guard case .failure(.gzipTooLarge(_, let limit, let compressed)) = result,
                  limit == cap, compressed == wrapped.count
            else { fail("cap \(cap) below the content \(plain.count): expected gzipTooLarge, got \(result)") }
            return 0
        }
        switch (reference, result) {
        case (.success(let a), .success(let b)):
            check(a == b, "plain and gzipped decodes differ")
            exercise(b)
        case (.failure(let a), .failure(let b)):
            check(caseName(a) == caseName(b), "plain error \(a) but gzipped error \(b)")
        default:
            fail("plain \(reference) but gzipped \(result)")
        }
    default:
        let result = outcome { () throws(IDXError) in try IDXFile.decode(input, name: "fuzz", decompressionCap: rawCap) }
        if case .success(let array) = result {
            if !ZlibCodec.isGzip(input) { check(IDXFile.encode(array) == input, "encode(decode(x)) != x") }
            exercise(array)
        }
    }
    return 0
}

/// Checks the invariants of a decoded array and runs everything that consumes one.
func exercise(_ array: IDXArray) {
    let width = array.dataType.byteWidth
    check((1...255).contains(array.rank), "rank \(array.rank)")
    check(array.shape.allSatisfy { (0...Int(UInt32.max)).contains($0) }, "shape \(array.shape)")
    check(array.bigEndianBytes.count == array.count * width, "\(array.bigEndianBytes.count) bytes for \(array.count) values")
    // The count is the product of the shape (zero as soon as one dimension is zero).
    if !array.shape.contains(0) {
        var product = 1
        for size in array.shape { product = product.multipliedReportingOverflow(by: size).partialValue }
        check(product == array.count, "count \(array.count) for shape \(array.shape)")
    } else {
        check(array.count == 0, "count \(array.count) for shape \(array.shape)")
    }
    guard array.count <= conversionLimit else { return }

    let again = outcome { () throws(IDXError) in try IDXFile.decode(IDXFile.encode(array), name: "again") }
    guard case .success(let back) = again, back == array else { fail("decode(encode(a)) != a: \(again)") }

    let floats = array.floats()
    let doubles = array.doubles()
    check(floats.count == array.count && doubles.count == array.count, "conversion counts")
    for i in 0..<floats.count {
        let narrowed = Float(doubles[i])
        check(floats[i] == narrowed || (floats[i].isNaN && narrowed.isNaN), "floats/doubles differ at \(i)")
    }
    if let integers = array.integers() {
        check(array.dataType.isInteger && integers.count == array.count, "integers()")
        for i in 0..<integers.count { check(Double(integers[i]) == doubles[i], "integers/doubles differ at \(i)") }
    } else {
        check(!array.dataType.isInteger, "integers() nil for \(array.dataType)")
    }

    if case .success(let values) = outcome({ () throws(IDXError) in try array.intensities(file: "fuzz") }) {
        check(values.count == array.count && values.allSatisfy(\.isFinite), "intensities")
    }
    let images = outcome { () throws(IDXError) in
        try DataSet.imageSet(from: array, path: "fuzz", role: .trainImages, gzipped: false)
    }
    if case .success(let set) = images {
        check(set.images.rows == array.shape[0] && set.images.rows * set.images.columns == array.count, "image set shape")
    }
    let labels = outcome { () throws(IDXError) in
        try DataSet.labels(from: array, path: "fuzz", role: .trainLabels, gzipped: false)
    }
    if case .success(let (values, _)) = labels {
        check(array.rank == 1 && values.count == array.count && values.allSatisfy { (0..<256).contains($0) }, "labels")
    }
}

/// The result of `body` as a `Result` (typed throws keep the error an `IDXError`).
func outcome<T>(_ body: () throws(IDXError) -> T) -> Result<T, IDXError> {
    do { return .success(try body()) } catch { return .failure(error) }
}

/// The name of the error's case ("truncatedData"), to compare errors that differ only in
/// their `gzipped` flag.
func caseName(_ error: IDXError) -> String {
    Mirror(reflecting: error).children.first?.label ?? "\(error)"
}

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fail(message()) }
}

func fail(_ message: String) -> Never {
    fatalError("IDX fuzz invariant broken: \(message)")
}

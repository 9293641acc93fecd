// libFuzzer entry for the safetensors reader: `SafeTensors.decode`, then every accessor of the
// decoded tensors (`floats()`, `matrix()`, `vector()`, `values(as:)`, the `require...` checks)
// and a re-encode that must decode to the same content and encode to the same bytes.
// Built and run by scripts/fuzz/run.sh; see scripts/fuzz/README.md.
import Linalg
import ModelFiles

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let file: SafeTensors
    do {
        file = try SafeTensors.decode(input, source: "fuzz")
    } catch {
        _ = error.description  // every message must be printable
        return 0
    }

    // The tensors and the header fill the input exactly.
    var header = 0
    for i in 0..<8 { header |= Int(input[i]) << (8 * i) }
    check(8 + header + file.tensors.reduce(0) { $0 + $1.tensor.bytes.count } == input.count, "sizes do not add up")
    check(Set(file.names).count == file.count, "duplicate names")

    for (name, tensor) in file.tensors { exercise(tensor, name: name, in: file) }
    _ = try? file.requireFormatVersion(readsUpTo: 2)

    // A re-encoded file decodes to the same content, and encoding is deterministic.
    do {
        let encoded = try file.encode()
        let back = try SafeTensors.decode(encoded, source: "again")
        check(back == file, "decode(encode(x)) != x")
        check(try back.encode() == encoded, "encode is not deterministic")
    } catch {
        fail("re-encoding failed: \(error)")
    }
    return 0
}

/// Checks a tensor's size and runs every accessor on it.
func exercise(_ tensor: Tensor, name: String, in file: SafeTensors) {
    var product = 1
    for dimension in tensor.shape {
        check(dimension >= 0, "negative dimension")
        product = product.multipliedReportingOverflow(by: dimension).partialValue
    }
    let count = tensor.shape.contains(0) ? 0 : product
    check(tensor.elementCount == count && tensor.bytes.count == count * tensor.dtype.byteWidth,
          "\(tensor.bytes.count) bytes for \(tensor.dtype) \(tensor.shape)")

    do {
        let floats = try tensor.floats()
        check(floats.count == count, "floats().count")
    } catch {
        check(error == .notConvertibleToFloat(.c64) && tensor.dtype == .c64, "floats() threw \(error)")
    }
    do {
        let matrix = try tensor.matrix()
        check((1...2).contains(tensor.shape.count) && matrix.rows * matrix.columns == count, "matrix() shape")
        check(matrix.columns == tensor.shape.last!, "matrix() columns")
        let required = try file.requireMatrix(name, rows: matrix.rows, columns: matrix.columns)
        check(tensor.shape.count == 1 || required.elements.map(\.bitPattern) == matrix.elements.map(\.bitPattern),
              "requireMatrix")  // bit patterns: NaN != NaN
    } catch let error as TensorError {
        switch error {
        case .rankMismatch: check(!(1...2).contains(tensor.shape.count), "matrix() rank")
        case .notConvertibleToFloat: check(tensor.dtype == .c64, "matrix() dtype")
        case .typeMismatch: fail("matrix() threw typeMismatch")
        }
    } catch {
        // requireMatrix of a rank-1 tensor: a shape mismatch, as it asks for [1, n].
        check(tensor.shape.count == 1, "requireMatrix threw \(error)")
    }
    if let vector = try? tensor.vector() { check(tensor.shape.count == 1 && vector.count == count, "vector()") }
    check(typedCount(tensor).map { $0 == count } ?? true, "values(as:).count")
    check((try? file.requireTensor(name, shape: tensor.shape)) == tensor, "requireTensor")
}

/// The number of values `values(as:)` gives for the stored type, when it has a Swift type.
func typedCount(_ tensor: Tensor) -> Int? {
    switch tensor.dtype {
    case .bool: (try? tensor.values(as: Bool.self))?.count
    case .u8: (try? tensor.values(as: UInt8.self))?.count
    case .i8: (try? tensor.values(as: Int8.self))?.count
    case .i16: (try? tensor.values(as: Int16.self))?.count
    case .u16: (try? tensor.values(as: UInt16.self))?.count
    case .i32: (try? tensor.values(as: Int32.self))?.count
    case .u32: (try? tensor.values(as: UInt32.self))?.count
    case .f32: (try? tensor.values(as: Float.self))?.count
    case .f64: (try? tensor.values(as: Double.self))?.count
    case .i64: (try? tensor.values(as: Int64.self))?.count
    case .u64: (try? tensor.values(as: UInt64.self))?.count
    case .f16, .bf16, .f8e5m2, .f8e4m3, .f8e8m0, .c64:
        (try? tensor.values(as: Float.self)) == nil ? nil : -1  // must throw typeMismatch
    }
}

func check(_ condition: @autoclosure () throws -> Bool, _ message: @autoclosure () -> String) {
    if (try? condition()) != true { fail(message()) }
}

func fail(_ message: String) -> Never {
    fatalError("safetensors fuzz invariant broken: \(message)")
}

/// Conversion of image values to `Float` intensities.
///
/// The rule, by type:
/// - u8: divided by 255, so 0...255 maps onto [0, 1] (MNIST).
/// - i8, i16, i32: divided by the largest value of the type (127, 32767, 2147483647), so
///   0...max maps onto [0, 1]; a negative value is an error (`IDXError.negativeIntensity`).
/// - f32, f64: used as they are (they may lie outside [0, 1], e.g. for Gaussian visible
///   units); f64 values are rounded to `Float`. A value that is NaN or infinite as a `Float`
///   (including f64 values beyond `Float`'s range) is an error (`IDXError.nonFiniteValue`).
extension IDXArray {
    /// The values as `Float` intensities by the rule above, in C order.
    /// - Parameter file: names the file in errors.
    public func intensities(file: String) throws(IDXError) -> [Float] {
        switch dataType {
        case .uint8:
            return unsignedBytesOver255()
        case .int8:
            try checkNonNegative(Int8.self, file: file)
            return mapValues(Int8.self) { Float($0) / Float(Int8.max) }
        case .int16:
            try checkNonNegative(Int16.self, file: file)
            return mapValues(Int16.self) { Float($0) / Float(Int16.max) }
        case .int32:
            try checkNonNegative(Int32.self, file: file)
            return mapValues(Int32.self) { Float(Double($0) / Double(Int32.max)) }
        case .float32:
            let values = mapValues(Float.self) { $0 }
            try checkFinite(values, file: file)
            return values
        case .float64:
            let values = mapValues(Double.self) { Float($0) }
            try checkFinite(values, file: file)
            return values
        }
    }

    /// Throws `negativeIntensity` for the first negative value.
    private func checkNonNegative<T: IDXScalar & FixedWidthInteger>(_: T.Type, file: String) throws(IDXError) {
        let count = self.count
        let bad: (Int, T)? = storage.withUnsafeBytes { whole in
            let raw = UnsafeRawBufferPointer(rebasing: whole[dataOffset...])
            for i in 0..<count {
                let value = T.load(raw, i)
                if value < 0 { return (i, value) }
            }
            return nil
        }
        if let (index, value) = bad { throw .negativeIntensity(file: file, index: index, value: Int(value)) }
    }

    /// Throws `nonFiniteValue` for the first converted value that is not finite, reporting the
    /// value as the file stores it.
    private func checkFinite(_ values: [Float], file: String) throws(IDXError) {
        let bad = values.withUnsafeBufferPointer { buffer in buffer.firstIndex { !$0.isFinite } }
        guard let index = bad else { return }
        let original = storage.withUnsafeBytes { whole in
            let raw = UnsafeRawBufferPointer(rebasing: whole[dataOffset...])
            return dataType == .float64 ? Double.load(raw, index) : Double(Float.load(raw, index))
        }
        throw .nonFiniteValue(file: file, index: index, value: original)
    }
}

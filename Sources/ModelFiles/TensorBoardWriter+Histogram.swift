extension TensorBoardWriter {
    /// A `HistogramProto` (tensorboard/compat/proto/summary.proto: min 1, max 2, num 3, sum 4,
    /// sum_squares 5, bucket_limit 6, bucket 7).
    struct Histogram {
        var min = Double.infinity, max = -Double.infinity
        var count = 0.0, sum = 0.0, sumOfSquares = 0.0
        /// Counts per default bucket: `counts[i]` holds the values v with
        /// `limits[i-1] <= v < limits[i]`.
        var counts: [Double]

        /// TensorBoard's (and TensorFlow's) default bucket limits: ±1e-12 · 1.1^k up to 1e20,
        /// 0 between them and Double.greatestFiniteMagnitude last.
        static let limits: [Double] = {
            var positive: [Double] = []
            var v = 1e-12
            while v < 1e20 {
                positive.append(v)
                v *= 1.1
            }
            return positive.reversed().map { -$0 } + [0] + positive + [Double.greatestFiniteMagnitude]
        }()

        init(_ values: [Float]) {
            counts = [Double](repeating: 0, count: Self.limits.count)
            for value in values where value.isFinite {
                let x = Double(value)
                min = Swift.min(min, x)
                max = Swift.max(max, x)
                count += 1
                sum += x
                sumOfSquares += x * x
                counts[Self.bucket(of: x)] += 1
            }
        }

        /// The index of the first limit above `x` (binary search).
        static func bucket(of x: Double) -> Int {
            var low = 0, high = limits.count - 1
            while low < high {
                let middle = (low + high) / 2
                if limits[middle] > x { high = middle } else { low = middle + 1 }
            }
            return low
        }

        /// The message, with the buckets from the first to the last non-empty one and every run
        /// of empty buckets between merged into one (as TensorFlow's encoder does).
        func encoded() -> [UInt8] {
            var limits: [Double] = [], buckets: [Double] = []
            if let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 }) {
                for i in first...last {
                    if counts[i] == 0, buckets.last == 0 {
                        limits[limits.count - 1] = Self.limits[i]
                    } else {
                        limits.append(Self.limits[i])
                        buckets.append(counts[i])
                    }
                }
            }
            var message = ProtobufEncoder()
            message.double(1, count > 0 ? min : 0)
            message.double(2, count > 0 ? max : 0)
            message.double(3, count)
            message.double(4, sum)
            message.double(5, sumOfSquares)
            message.packedDoubles(6, limits)
            message.packedDoubles(7, buckets)
            return message.bytes
        }
    }
}

// swift-tools-version: 6.1
// The benchmarks of the hot paths, with ordo-one/benchmark: a package of its own so that the
// main package's build (and CI's `swift build` / `swift test`) never pulls in the benchmark
// framework. Run from the repository root: `scripts/bench/swift-benchmarks.sh` (or
// `swift package --package-path Benchmarks benchmark`).
import PackageDescription

let package = Package(
    name: "DeepBeliefBenchmarks",
    dependencies: [
        .package(name: "DeepBelief", path: ".."),
        // The malloc counters come from the MallocInterposer trait; naming the traits also
        // turns off the default RuntimeInterposer (its package is not needed).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "DeepBeliefBenchmarks",
            dependencies: [
                .product(name: "DeepBelief", package: "DeepBelief"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/DeepBeliefBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The matrix products of an epoch alone (the floor BLAS sets under `dbn bench`).
        .executableTarget(
            name: "product-floor",
            dependencies: [.product(name: "DeepBelief", package: "DeepBelief")],
            path: "ProductFloor"
        ),
    ],
    swiftLanguageModes: [.v6]
)

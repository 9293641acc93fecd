// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "DeepBelief",
    products: [
        .library(name: "DeepBelief", targets: ["DeepBelief"]),
        .executable(name: "dbn", targets: ["dbn"]),
    ],
    traits: [
        // `swift build --traits MPI --build-path .build-mpi`: `dbn` runs under `mpirun` as one
        // data-parallel job (needs Open MPI: scripts/setup.sh --mpi). Off by default.
        .trait(name: "MPI", description: "Data-parallel training over MPI (Open MPI) in dbn"),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - System libraries
        .systemLibrary(
            name: "CBLAS", path: "Modules/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev", "pkg-config"])]),
        .systemLibrary(
            name: "CZlib", path: "Modules/CZlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CMPI", path: "Modules/CMPI", pkgConfig: "ompi",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin", "pkg-config"])]),

        // MARK: - Public API
        .target(name: "Linalg", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "Zlib", dependencies: ["CZlib"]),
        .target(name: "Files"),
        .target(name: "IDX", dependencies: ["Linalg", "Zlib", "Files"]),
        .target(name: "Pretraining", dependencies: ["Linalg"]),
        .target(name: "FineTuning", dependencies: ["Linalg", "Pretraining"]),
        .target(name: "ModelFiles", dependencies: ["Linalg", "Zlib", "Files"]),
        .target(name: "DeepBelief", dependencies: ["Linalg", "Files", "IDX", "Pretraining", "FineTuning", "ModelFiles"]),
        .executableTarget(
            name: "dbn",
            dependencies: ["DeepBelief", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .target(name: "MPICollective", condition: .when(traits: ["MPI"]))]),

        // MARK: - Examples (compiled by `swift build`, quoted in the README)
        .executableTarget(name: "mnist-example", dependencies: ["DeepBelief"], path: "Examples/mnist-example"),
        .executableTarget(name: "csv-example", dependencies: ["DeepBelief"], path: "Examples/csv-example"),

        // MARK: - Implementation details
        // Integer kernels chosen at run time by CPU features (Philox on AVX2), same bits everywhere.
        .target(name: "CKernels", path: "Sources/CKernels"),
        .target(name: "_TestSupport", dependencies: ["Linalg"]),
        // The `Collective` over MPI: the only importer of CMPI (built with the MPI trait only).
        .target(name: "MPICollective",
                dependencies: ["Linalg", .target(name: "CMPI", condition: .when(traits: ["MPI"]))]),

        // MARK: - Unit test bundles
        .testTarget(name: "LinalgTests", dependencies: ["Linalg", "_TestSupport"]),
        .testTarget(name: "IDXTests", dependencies: ["IDX", "Zlib", "Files", "_TestSupport"]),
        .testTarget(name: "PretrainingTests", dependencies: ["Pretraining", "_TestSupport"]),
        .testTarget(name: "FineTuningTests", dependencies: ["FineTuning", "Pretraining", "_TestSupport"]),
        .testTarget(name: "ModelFilesTests", dependencies: ["ModelFiles", "Linalg", "Zlib", "Files", "_TestSupport"]),
        .testTarget(name: "DBNCommandTests", dependencies: ["DeepBelief", "_TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

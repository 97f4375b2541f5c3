// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Tracewell",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TraceEvents", targets: ["TraceEvents"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "Modules", targets: ["Modules"]),
        .library(name: "Profiler", targets: ["Profiler"]),
        .library(name: "Distributed", targets: ["Distributed"]),
        // For the Lint package's tracectl-lint only.
        .library(name: "CommandLineSupport", targets: ["CommandLineSupport"]),
        .executable(name: "tracectl", targets: ["tracectl"]),
        .executable(name: "train", targets: ["train"]),
        .executable(name: "bench", targets: ["bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        .target(name: "CTracing"),
        .systemLibrary(name: "CBLAS"),
        .systemLibrary(name: "CSQLite"),
        .systemLibrary(name: "CZlib"),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .target(name: "TraceEvents"),
        .target(name: "TraceRuntime", dependencies: ["TraceEvents", "CTracing"]),
        .target(name: "Tensors", dependencies: ["TraceEvents", "TraceRuntime", "CTracing", "CBLAS"]),
        .target(name: "Modules", dependencies: ["Tensors", "TraceEvents", "TraceRuntime", "CTracing"]),
        .target(name: "TraceStore", dependencies: ["TraceEvents", "TraceRuntime", "CSQLite"]),
        .target(name: "TraceTools", dependencies: ["TraceStore", "TraceEvents", "CZlib"], resources: [.copy("HTML/Resources")]),
        // What tracectl and tracectl-lint (the Lint package, Lint/Package.swift) share: one error-to-exit-status mapping.
        .target(name: "CommandLineSupport", dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "tracectl",
            dependencies: [
                "TraceTools", "TraceStore", "TraceEvents", "CommandLineSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "bench",
            dependencies: [
                "Distributed", "Examples", "Modules", "Profiler", "Tensors", "TraceStore", "TraceTools", "TraceRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], exclude: ["pytorch_compare.py", "pytorch_ddp.py"]),
        .target(name: "ProfilerAutostart"),
        .target(
            name: "Profiler",
            dependencies: ["Modules", "Tensors", "TraceStore", "TraceTools", "TraceEvents", "TraceRuntime", "ProfilerAutostart"]),
        .target(name: "Distributed", dependencies: ["CMPI", "Modules", "Tensors", "TraceEvents", "TraceRuntime"]),
        .target(name: "Examples", dependencies: ["Modules", "Tensors", "Profiler", "Distributed"]),
        .executableTarget(name: "mpi-selftest", dependencies: ["Distributed"]),
        .executableTarget(
            name: "train",
            dependencies: [
                "Examples", "Profiler", "TraceStore", "TraceTools", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "ModulesTests", dependencies: ["Modules", "Tensors"], exclude: ["Fixtures"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed", "Examples", "Modules", "Tensors", "TraceStore", "TraceTools"]),
        .testTarget(name: "ExamplesTests", dependencies: ["Examples", "Modules", "Tensors"]),
        .testTarget(name: "TraceStoreTests", dependencies: ["TraceStore", "TraceRuntime", "TraceEvents"]),
        .testTarget(
            name: "TraceToolsTests", dependencies: ["TraceTools", "TraceStore", "TraceEvents", "TraceRuntime"],
            exclude: ["Golden", "Browser"]),
        .testTarget(
            name: "ProfilerTests",
            dependencies: ["Profiler", "Modules", "Tensors", "TraceStore", "TraceTools", "TraceEvents", "TraceRuntime", "Examples"],
            exclude: ["Golden"]),
    ]
)

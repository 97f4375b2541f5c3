// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Tracewell",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tracing", targets: ["Tracing"]),
        .library(name: "Tensors", targets: ["Tensors"]),
        .library(name: "Modules", targets: ["Modules"]),
    ],
    targets: [
        .target(name: "CTracing"),
        .systemLibrary(name: "CBLAS"),
        .target(name: "Tracing", dependencies: ["CTracing"]),
        .target(name: "Tensors", dependencies: ["Tracing", "CTracing", "CBLAS"]),
        .target(name: "Modules", dependencies: ["Tensors", "Tracing", "CTracing"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
        .testTarget(name: "ModulesTests", dependencies: ["Modules", "Tensors"]),
    ]
)

// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Tracewell",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tracing", targets: ["Tracing"]),
        .library(name: "Tensors", targets: ["Tensors"]),
    ],
    targets: [
        .target(name: "CTracing"),
        .systemLibrary(name: "CBLAS"),
        .target(name: "Tracing", dependencies: ["CTracing"]),
        .target(name: "Tensors", dependencies: ["Tracing", "CTracing", "CBLAS"]),
        .testTarget(name: "TensorsTests", dependencies: ["Tensors"]),
    ]
)

// swift-tools-version:6.1
import PackageDescription

// The lint, a package of its own so that swift-syntax is resolved only by those who lint: a
// package depending on Tracewell's libraries never fetches it. It shares CommandLineSupport
// (one error-to-exit-status mapping) with tracectl through the enclosing package.
let tracewell = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "Tracewell")

let package = Package(
    name: "TracewellLint",
    platforms: [.macOS(.v15)],
    products: [.executable(name: "tracectl-lint", targets: ["tracectl-lint"])],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftlang/swift-syntax", from: "603.0.0"),
    ],
    targets: [
        .target(
            name: "LintRules",
            dependencies: [
                .product(name: "SwiftSyntax", package: "swift-syntax"), .product(name: "SwiftParser", package: "swift-syntax"),
            ]),
        .executableTarget(
            name: "tracectl-lint",
            dependencies: [
                "LintRules", .product(name: "CommandLineSupport", package: tracewell),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "LintTests", dependencies: ["LintRules"], exclude: ["Fixtures"]),
    ]
)

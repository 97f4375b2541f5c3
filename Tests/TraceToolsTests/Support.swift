import Foundation
import Testing
import TraceStore
import TraceTools

func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracectl-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// A two-run synthetic trace: 5 steps, then 4 steps of a model with one more block.
func fixture() throws -> String {
    let path = temporaryPath("fixture.sqlite")
    try SyntheticTrace(steps: 5).write(to: path, name: "baseline")
    var bigger = SyntheticTrace(steps: 4)
    bigger.extraBlocks = 1
    bigger.seed = 2
    try bigger.write(to: path, name: "bigger")
    return path
}

/// Compares `text` with `Golden/<name>`; `UPDATE_GOLDEN=1` rewrites the file instead.
func expectGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
        try text.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(text == expected, "output differs from Golden/\(name)", sourceLocation: sourceLocation)
}

/// The `tracectl` executable next to this test bundle.
var tracectl: URL {
    URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("tracectl")
}

/// Runs tracectl with `arguments`.
func run(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildOutcome {
    try runChild(tracectl, arguments, environment: environment)
}

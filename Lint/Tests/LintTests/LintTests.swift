import Foundation
import LintRules
import Testing

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

@Suite("tracectl lint")
struct LintTests {
    /// `line:col call -> fix` for each finding in a fixture.
    func lint(_ fixture: String) throws -> [String] {
        try Linter.lint([fixtures + "/" + fixture]).map { "\($0.line):\($0.column) \($0.call) -> \($0.fix ?? "nil")" }
    }

    @Test func findsEveryBypass() throws {
        #expect(
            try lint("Bypasses.swift") == [
                "12:20 fc2.forward(h) -> fc2(h)",
                "16:13 self.forward(x) -> self(x)",
                "20:13 forward(x) -> self(x)",
                "24:13 self.fc1.forward( x ) -> self.fc1(x)",
                "32:13 super.forward(x) -> nil",
                "37:27 model.forward($0) -> model($0)",
            ])
        let findings = try Linter.lint([fixtures + "/Bypasses.swift"])
        #expect(
            findings[0].diagnostic
                == "\(fixtures)/Bypasses.swift:12:20: warning: 'fc2.forward(h)' skips the module's call wrapper: hooks do not fire and the profiler does not see the call; write 'fc2(h)' instead"
        )
    }

    /// `self(x)` would run this class's forward, which recurses when forward calls the helper.
    @Test func superInAHelperSuggestsMovingTheCode() throws {
        let findings = try Linter.lint([fixtures + "/Bypasses.swift"])
        #expect(
            findings[4].message
                == "'super.forward(x)' in 'twice' skips the module's call wrapper: hooks do not fire and the profiler does not see the call; move this code into 'override func forward', or call the module through its wrapper from outside; 'self(x)' is no fix: it runs this class's forward, which recurses if forward calls 'twice'"
        )
        #expect(findings[4].fix == nil)
    }

    @Test func functionValuesOfForward() throws {
        #expect(
            try lint("FunctionValues.swift") == [
                "12:32 layer.forward -> layer.callAsFunction",
                "13:17 fc.forward -> fc.callAsFunction",
                "18:20 fc.forward -> fc.callAsFunction",
                "22:9 fc.forward(_:) -> fc.callAsFunction",
                "26:20 self.forward -> self.callAsFunction",
                "30:20 forward -> self.callAsFunction",
                "35:13 fc.forward -> fc.callAsFunction",
                "39:53 fc.forward -> fc.callAsFunction",
                "41:59 layer.forward -> layer.callAsFunction",
                "46:20 super.forward -> nil",
            ])
        let findings = try Linter.lint([fixtures + "/FunctionValues.swift"])
        #expect(
            findings[0].message
                == "'layer.forward' is the module's forward as a function value; calling it skips the module's call wrapper: hooks do not fire and the profiler does not see the call; pass 'layer.callAsFunction' or '{ try layer($0) }' instead"
        )
        #expect(findings[9].message.contains("move this code into 'override func forward'"))
    }

    /// Labels, other arities and trailing closures cannot be Module.forward(_:).
    @Test func onlyOneUnlabelledArgumentCanBeModuleForward() throws {
        #expect(
            try lint("Arity.swift") == [
                "17:20 fc.forward((x)) -> fc((x))",
                "23:20 self.forward(x) -> self(x)",
                "31:20 super.forward(x) -> nil",
            ])
    }

    /// Receivers of types the file declares as non-modules are silent; modules and unknown types are not.
    @Test func receiversOfKnownNonModuleTypes() throws {
        #expect(
            try lint("KnownTypes.swift") == [
                "77:17 deeper.forward(x) -> deeper(x)",
                "78:17 other.forward(x) -> other(x)",
                "79:20 fc.forward(x) -> fc(x)",
                "92:16 fc.forward(x) -> fc(x)",
                "96:13 n.forward(Tensor([1])) -> n(Tensor([1]))",
                "97:16 m.forward(Tensor([1])) -> m(Tensor([1]))",
            ])
    }

    /// With a `forward` property in the file, `camera.forward` is that property; declared modules are still reported.
    @Test func forwardPropertiesAreNotFunctionValues() throws {
        #expect(
            try lint("ForwardProperty.swift") == [
                "18:20 model.fc.forward -> model.fc.callAsFunction",
                "25:20 fc.forward -> fc.callAsFunction",
            ])
    }

    @Test func ignoresCommentsStringsDeclarationsLabelsLocalsAndSuper() throws {
        #expect(try Linter.lint([fixtures + "/Clean.swift"]) == [])
    }

    @Test func foldersAreSearched() throws {
        let files = try Linter.swiftFiles([fixtures])
        #expect(
            files.map { URL(fileURLWithPath: $0).lastPathComponent }
                == ["Arity.swift", "Bypasses.swift", "Clean.swift", "ForwardProperty.swift", "FunctionValues.swift", "KnownTypes.swift"])
        #expect(try Linter.lint([fixtures]).count == 27)
        #expect(throws: LintError.self) { try Linter.lint(["/nonexistent"]) }
    }

    @Test func commandLine() throws {
        let (status, text) = try run(linter, [fixtures])
        #expect(status == 1)
        #expect(text.split(separator: "\n").count == 27)
        let (clean, _) = try run(linter, [fixtures + "/Clean.swift"])
        #expect(clean == 0)
        let (jsonStatus, json) = try run(linter, ["--format", "json", fixtures + "/Bypasses.swift"])
        #expect(jsonStatus == 1)
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        #expect(parsed?.first?["fix"] as? String == "fc2(h)")
        #expect(parsed?.count == 6)
        #expect(parsed?[4]["fix"] is NSNull)
        let (missing, _) = try run(linter, ["/nonexistent"])
        #expect(missing == 2)
    }

    /// `tracectl lint` of the enclosing checkout, same configuration, finds this package's
    /// tracectl-lint and passes its arguments and exit status through (`.ci/run` builds tracectl first).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: tracectl), "tracectl of this checkout is not built"))
    func tracectlLintRunsThisLinter() throws {
        let (status, text) = try run(tracectl, ["lint", fixtures])
        #expect(status == 1)
        #expect(text.split(separator: "\n").count == 27)
        let (clean, _) = try run(tracectl, ["lint", fixtures + "/Clean.swift"])
        #expect(clean == 0)
        let (jsonStatus, json) = try run(tracectl, ["lint", "--format", "json", fixtures + "/Bypasses.swift"])
        #expect(jsonStatus == 1)
        #expect((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])?.count == 6)
        let (missing, _) = try run(tracectl, ["lint", "/nonexistent"])
        #expect(missing == 2)
    }
}

/// This build's folder: `LINT/.build/TRIPLE/CONFIG`.
let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
let linter = bin.appendingPathComponent("tracectl-lint").path
/// The enclosing package's tracectl in the same triple and configuration: `REPO/.build/TRIPLE/CONFIG`.
let tracectl: String = {
    let parts = bin.pathComponents
    guard let build = parts.lastIndex(of: ".build"), build >= 1, parts[build - 1] == "Lint" else { return "" }
    return NSString.path(withComponents: Array(parts[..<(build - 1)] + parts[build...] + ["tracectl"]))
}()

func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
}

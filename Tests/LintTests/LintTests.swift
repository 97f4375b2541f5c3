import Foundation
import Testing
import LintRules

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

@Suite("tracectl lint")
struct LintTests {
    @Test func findsEveryBypass() throws {
        let findings = try Linter.lint([fixtures + "/Bypasses.swift"])
        #expect(findings.map { "\($0.line):\($0.column) \($0.call) -> \($0.fix)" } == [
            "12:20 fc2.forward(h) -> fc2(h)",
            "16:13 self.forward(x) -> self(x)",
            "20:13 forward(x) -> self(x)",
            "24:13 self.fc1.forward( x ) -> self.fc1(x)",
            "32:13 super.forward(x) -> self(x)",
            "37:27 model.forward($0) -> model($0)",
        ])
        #expect(findings[0].diagnostic == "\(fixtures)/Bypasses.swift:12:20: warning: 'fc2.forward(h)' skips the module's call wrapper: hooks do not fire and the profiler does not see the call; write 'fc2(h)' instead")
    }

    @Test func ignoresCommentsStringsDeclarationsLabelsAndSuper() throws {
        #expect(try Linter.lint([fixtures + "/Clean.swift"]) == [])
    }

    @Test func foldersAreSearched() throws {
        let files = try Linter.swiftFiles([fixtures])
        #expect(files.map { URL(fileURLWithPath: $0).lastPathComponent } == ["Bypasses.swift", "Clean.swift"])
        #expect(try Linter.lint([fixtures]).count == 6)
        #expect(throws: LintError.self) { try Linter.lint(["/nonexistent"]) }
    }

    @Test func commandLine() throws {
        let bin = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
            let p = Process()
            p.executableURL = bin.appendingPathComponent(executable)
            p.arguments = arguments
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, text)
        }
        let (status, text) = try run("tracectl", ["lint", fixtures])
        #expect(status == 1)
        #expect(text.split(separator: "\n").count == 6)
        let (clean, _) = try run("tracectl", ["lint", fixtures + "/Clean.swift"])
        #expect(clean == 0)
        let (jsonStatus, json) = try run("tracectl-lint", ["--format", "json", fixtures + "/Bypasses.swift"])
        #expect(jsonStatus == 1)
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]]
        #expect(parsed?.first?["fix"] as? String == "fc2(h)")
        let (missing, _) = try run("tracectl", ["lint", "/nonexistent"])
        #expect(missing == 2)
    }
}

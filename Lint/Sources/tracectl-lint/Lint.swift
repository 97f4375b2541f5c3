import ArgumentParser
import CommandLineSupport
import Foundation
import LintRules

/// `tracectl lint`: runs as its own executable so that swift-syntax (minutes to build in
/// release) stays out of tracectl and the runtime; `tracectl lint` finds and runs it.
@main
struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracectl lint",
        abstract: "Find direct calls of a module's forward in Swift sources (exit 1 when there is one).",
        discussion: """
            Parses the sources with swift-syntax. Reports x.forward(a), self.forward(a) or forward(a) \
            from a method other than forward, super.forward(a) outside an override of forward, and forward \
            passed as a function value (xs.map(fc.forward)): each skips the call wrapper, so hooks do not \
            fire and the profiler cannot see the call. Calls that cannot be Module.forward (labels, other \
            arities, trailing closures) and receivers the file declares as non-module types are not reported. \
            Output: file:line:col: warning: ..., as compilers print it.
            """)

    @Argument(help: "Swift files or folders (searched recursively).")
    var paths: [String]
    @Option(help: "text or json.")
    var format: Format = .text

    enum Format: String, ExpressibleByArgument { case text, json }

    static func main() { runAsTool("tracectl lint") }

    func run() throws {
        let findings = try Linter.lint(paths)
        switch format {
        case .text:
            for f in findings { print(f.diagnostic) }
            let files = Set(findings.map(\.file)).count
            FileHandle.standardError.write(
                (findings.isEmpty
                    ? "no direct forward calls\n"
                    : "\(findings.count) direct forward call\(findings.count == 1 ? "" : "s") in \(files) file\(files == 1 ? "" : "s")\n")
                    .data(using: .utf8)!)
        case .json:
            print(LintFinding.json(findings))
        }
        if !findings.isEmpty { throw ExitCode(1) }
    }
}

extension LintError: OneLineError {}

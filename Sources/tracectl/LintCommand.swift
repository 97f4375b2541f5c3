import ArgumentParser
import CommandLineSupport
import Foundation

struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find direct calls of a module's forward in Swift sources (runs tracectl-lint).",
        discussion: """
            The parser (swift-syntax) lives in a separate executable, tracectl-lint, so that tracectl \
            builds fast; build it with: swift build -c release --product tracectl-lint
            """)

    @Argument(parsing: .allUnrecognized, help: "Swift files or folders, and tracectl-lint's options (--format json).")
    var arguments: [String] = []

    func run() throws {
        let here = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates =
            [here.appendingPathComponent("tracectl-lint").path]
            + (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/tracectl-lint" }
        guard let linter = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw Failure("lint needs the tracectl-lint executable; build it with: swift build -c release --product tracectl-lint")
        }
        let argv = [linter] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        execv(linter, &cArgs)
        throw Failure("lint: cannot run \(linter): \(String(cString: strerror(errno)))")
    }
}

import ArgumentParser
import CommandLineSupport
import Foundation

struct Lint: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find direct calls of a module's forward in Swift sources (runs tracectl-lint).",
        discussion: """
            The parser (swift-syntax) lives in its own package, Lint/, so that tracectl and packages \
            depending on Tracewell never fetch or build it. Build it in the checkout with: \
            swift build -c release --package-path Lint (tracectl then finds it), or put tracectl-lint \
            next to tracectl or on PATH.
            """)

    @Argument(parsing: .allUnrecognized, help: "Swift files or folders, and tracectl-lint's options (--format json).")
    var arguments: [String] = []

    func run() throws {
        guard let linter = Self.candidates().first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw Failure(
                "lint needs tracectl-lint: build it with 'swift build -c release --package-path Lint' in Tracewell's checkout, or run 'swift run -c release --package-path Lint tracectl-lint PATH...'"
            )
        }
        let argv = [linter] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        execv(linter, &cArgs)
        throw Failure("lint: cannot run \(linter): \(String(cString: strerror(errno)))")
    }

    /// Where tracectl-lint may be, first found wins: next to tracectl; the Lint package's build of
    /// the same checkout and configuration (`REPO/.build/X/debug/tracectl` ->
    /// `REPO/Lint/.build/X/debug/tracectl-lint`); then PATH.
    static func candidates() -> [String] {
        let here = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        var paths = [here.appendingPathComponent("tracectl-lint").path]
        let parts = here.pathComponents
        if let build = parts.lastIndex(of: ".build") {
            let lint = parts[..<build] + ["Lint"] + parts[build...] + ["tracectl-lint"]
            paths.append(NSString.path(withComponents: Array(lint)))
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return paths + path.split(separator: ":").map { "\($0)/tracectl-lint" }
    }
}

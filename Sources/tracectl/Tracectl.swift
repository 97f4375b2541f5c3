import ArgumentParser
import CommandLineSupport
import Foundation
import TraceStore
import TraceTools

@main
struct Tracectl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tracectl",
        abstract: "Query Tracewell traces: which layers ran, what bypassed the wrapper, and Chrome JSON for Perfetto.",
        discussion: """
            Every subcommand reads a trace file (SQLite) and needs nothing else, so traces copied from \
            another machine work. Subcommands use the latest run in the file unless --run says otherwise.
            Exit status: 0 success, 1 findings (bypass, lint), 2 usage or input errors.
            """,
        subcommands: [
            Runs.self, Report.self, Query.self, Export.self, Diff.self, Record.self, Graph.self, Bypass.self, Lint.self, HTML.self,
            Ranks.self, Merge.self,
        ])

    /// Maps errors to one line on stderr and the documented exit codes.
    static func main() { runAsTool("tracectl") }
}

extension StoreError: OneLineError {}
extension ExportError: OneLineError {}

/// The trace file every reading subcommand takes.
struct TraceFile: ParsableArguments {
    @Argument(help: "A trace file (.sqlite).")
    var path: String

    init() {}
    init(path: String) { self.path = path }

    /// Opens the trace; a damaged crash record beside it is one line on stderr.
    func open() throws -> TraceReader { try openTrace(path) }
}

/// Opens the trace at `path` for a subcommand; a damaged crash record beside it is one line on stderr.
func openTrace(_ path: String) throws -> TraceReader {
    let reader = try TraceReader(path: path)
    sayCrashNotice(of: reader)
    return reader
}

/// One line on stderr when the crash record beside `reader`'s trace was damaged and set aside.
func sayCrashNotice(of reader: TraceReader) {
    if let notice = reader.crashNotice { FileHandle.standardError.write(Data("tracectl: \(notice)\n".utf8)) }
}

/// The trace file and run every reading subcommand takes.
struct TraceOptions: ParsableArguments {
    @OptionGroup var file: TraceFile

    @Option(help: "Run id (default: the latest run in the file).")
    var run: Int64?

    func open() throws -> TraceReader { try file.open() }
}

/// `A..B` or `N`.
struct StepRange: ExpressibleByArgument {
    let range: ClosedRange<Int64>

    init?(argument: String) {
        let parts = argument.split(separator: ".", omittingEmptySubsequences: true)
        if argument.contains(".."), parts.count == 2, let a = Int64(parts[0]), let b = Int64(parts[1]), a <= b, a >= 0 {
            range = a...b
        } else if let n = Int64(argument), n >= 0, !argument.contains(".") {
            range = n...n
        } else {
            return nil
        }
    }

    static var defaultCompletionKind: CompletionKind { .default }
}

extension OutputFormat: ExpressibleByArgument {}
extension ReportRenderer.Sort: ExpressibleByArgument {}

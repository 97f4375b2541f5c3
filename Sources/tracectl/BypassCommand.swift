import ArgumentParser
import TraceStore
import TraceTools

struct Bypass: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every call path that skipped a module's wrapper (exit 1 when there is one).",
        discussion: """
            Evidence: parameter_read (an op read the module's parameter outside its wrapper), \
            forward_without_wrapper (a built-in layer's forward ran inside another module's wrapper), \
            never_ran (registered, never called although its parent was). Hooks on such modules did not fire. \
            Findings are written when a run ends: for an incomplete run (killed, or still running) this exits 2.
            """)

    @OptionGroup var trace: TraceOptions
    @Option(help: "table or json (an object with a bypasses array).")
    var format: OutputFormat = .table

    func run() throws {
        let list = try BypassList(reader: trace.open(), run: trace.run)
        print(list.render(format))
        if let unknown = list.unknown { throw StoreError(unknown) }
        if !list.findings.isEmpty { throw ExitCode(1) }
    }
}

import TraceEvents
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
        let reader = try trace.open()
        let model = try TraceModel(reader: reader, run: reader.run(trace.run))
        let findings = try TraceTools.Report.loadBypasses(reader, model)
        if findings.isEmpty && model.run.runStatus != .complete {
            throw Failure("run \(model.run.id) is \(model.run.status) (still running, or its process was killed): "
                + "bypass findings are written when a run ends, so none are known")
        }
        let table = ReportRenderer.bypassTable(findings)
        switch format {
        case .json: print("{\"run\":\(model.run.id),\"bypasses\":\(table.render(.json))}")
        case .csv: print(table.render(.csv))
        case .table: print(findings.isEmpty ? "No bypasses in run \(model.run.id)." : table.render(.table))
        }
        if !findings.isEmpty { throw ExitCode(1) }
    }
}

import ArgumentParser
import TraceTools

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Which layers ran: time, memory and shapes per module, modules that never ran, bypasses.",
        discussion: """
            Forward and backward time per module, total and self (excluding child spans), mean, p50 and \
            p95 per call, share of step time, bytes allocated per call and peak live bytes, the input \
            shapes seen (* marks modules that saw several) and the train/eval mode. Percentiles come \
            from log-linear histograms, within 1.6%.
            """)

    @OptionGroup var trace: TraceOptions
    @Option(help: "Only steps A..B (inclusive), or one step N.")
    var steps: StepRange?
    @Option(help: "tree (default), total, self, calls, mean, p95, alloc or name.")
    var sort: ReportRenderer.Sort = .tree
    @Option(help: "Show only the first N modules.")
    var top: Int?
    @Option(help: "Show modules down to depth N (the root is 0).")
    var depth: Int?
    @Option(help: "table, json or csv (csv: the module table).")
    var format: OutputFormat = .table

    func validate() throws {
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
        if let depth, depth < 0 { throw ValidationError("--depth must not be negative") }
    }

    func run() throws {
        let reader = try trace.open()
        let report = try TraceTools.Report(reader: reader, run: trace.run, steps: steps?.range)
        print(ReportRenderer(sort: sort, top: top, depth: depth).render(report, format: format))
    }
}

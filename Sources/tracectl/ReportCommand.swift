import ArgumentParser
import TraceStore
import TraceTools

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Which layers ran: time, memory and shapes per module, modules that never ran, bypasses.",
        discussion: """
            Forward and backward time per module, total and self (excluding child spans), mean, p50 and \
            p95 per call, share of step time, bytes allocated per call and peak live bytes, the input \
            shapes seen (* marks modules that saw several) and the train/eval mode. Percentiles come \
            from log-linear histograms, within 1.6%. Several files (one per rank of a data-parallel run, \
            checked as tracectl ranks does) give one report per rank, in rank order (json: an array).
            """)

    @Argument(help: "A trace file (.sqlite), or one per rank of a data-parallel run.")
    var traces: [String]
    @Option(name: .customLong("run"), help: "Run id (default: the latest run of each file).")
    var runID: Int64?
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
        guard !traces.isEmpty else { throw ValidationError("give a trace file") }
        if traces.count > 1 && format == .csv { throw ValidationError("csv takes one trace file; use table or json for several") }
        if let top, top < 1 { throw ValidationError("--top must be at least 1") }
        if let depth, depth < 0 { throw ValidationError("--depth must not be negative") }
    }

    func run() throws {
        let renderer = ReportRenderer(sort: sort, top: top, depth: depth)
        guard traces.count > 1 else {
            let report = try TraceTools.Report(reader: openTrace(traces[0]), run: runID, steps: steps?.range)
            print(renderer.render(report, format: format))
            return
        }
        let set = try RankSet(paths: traces, run: runID)
        for rank in set.ranks { sayCrashNotice(of: rank.reader) }
        let parts = try set.ranks.map { rank in
            (rank, renderer.render(try TraceTools.Report(reader: rank.reader, run: rank.run.id, steps: steps?.range), format: format))
        }
        if format == .json {
            print("[" + parts.map(\.1).joined(separator: ",\n") + "]")
            return
        }
        print(
            parts.map { rank, text in "== rank \(rank.run.rank) of \(rank.run.worldSize): \(rank.path) (run \(rank.run.id)) ==\n" + text }
                .joined(separator: "\n\n"))
    }
}

import ArgumentParser
import Foundation
import TraceStore
import TraceTools

struct HTML: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "html",
        abstract: "One self-contained HTML report: flame graph, module table, steps, memory, findings, graph.",
        discussion: """
            The page has its CSS, JavaScript and data inline (compressed) and a Content-Security-Policy \
            that forbids every network request, so it opens offline and can be attached to a bug report. \
            Aggregates cover the whole run (or --steps); raw spans are embedded for a window of steps \
            (--window, by default around the slowest step) of at most --max-spans spans. Several trace \
            files of one data-parallel job give a rank × step heatmap; two runs give a diff.
            """)

    @Argument(help: "Trace files (.sqlite); the latest run of each unless --run.")
    var traces: [String]
    @Option(
        name: .customLong("run"),
        help:
            "Run id (default: the latest run of each file). Repeat it for one file's runs (--run 1 --run 2: their diff), or give one per file."
    )
    var runIDs: [Int64] = []
    @Option(help: "Aggregate only steps A..B (inclusive), or one step N.")
    var steps: StepRange?
    @Option(help: "Embed the raw spans of steps A..B (default: around the slowest step).")
    var window: StepRange?
    @Option(help: "At most this many raw spans per run.")
    var maxSpans: Int = 100_000
    @Option(name: .shortAndLong, help: "Output file (default: report.html).")
    var output: String = "report.html"

    func validate() throws {
        if traces.isEmpty { throw ValidationError("give at least one trace file") }
        if maxSpans < 0 { throw ValidationError("--max-spans must not be negative") }
        if runIDs.count > 1 && traces.count > 1 && runIDs.count != traces.count {
            throw ValidationError("give one --run for every file, one for all, or several with one file")
        }
    }

    func run() throws {
        var inputs: [(reader: TraceReader, run: Int64?)] = []
        if traces.count == 1 && runIDs.count > 1 {
            let reader = try openTrace(traces[0])
            inputs = runIDs.map { (reader, $0) }
        } else {
            for (i, path) in traces.enumerated() {
                inputs.append((try openTrace(path), runIDs.count > 1 ? runIDs[i] : runIDs.first))
            }
        }
        let report = try HTMLReport(traces: inputs, options: .init(steps: steps?.range, window: window?.range, spanBudget: maxSpans))
        try report.write(to: output)
        let s = report.summary
        FileHandle.standardError.write(
            """
            wrote \(output): \(Units.bytes(Double(s.htmlBytes))), \(s.runs) run\(s.runs == 1 ? "" : "s"), \
            \(s.embeddedSpans) raw spans embedded (data \(Units.bytes(Double(s.compressedBytes))) compressed)\n
            """.data(using: .utf8)!)
    }
}

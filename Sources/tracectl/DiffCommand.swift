import ArgumentParser
import TraceStore
import TraceTools

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare per-module time and memory of two runs.",
        discussion: """
            Two files: tracectl diff base.sqlite new.sqlite (latest run of each; --base-run and --run pick others). \
            One file: compares two of its runs (default: the one before the latest against the latest). \
            Times are per step when both runs have steps. Sorted by the size of the change.
            """)

    @OptionGroup var base: TraceFile
    @Argument(help: "The trace file to compare (default: the baseline file).")
    var new: String?
    @Option(name: .customLong("base-run"), help: "Run id in the baseline file.")
    var baseRun: Int64?
    @Option(name: .customLong("run"), help: "Run id in the compared file.")
    var newRun: Int64?
    @Option(help: "table, json or csv.")
    var format: OutputFormat = .table

    func run() throws {
        let baseReader = try base.open()
        let newReader = try new.map { try TraceFile(path: $0).open() } ?? baseReader
        let baseRunID = new == nil && baseRun == nil ? try RunDiff.baseRun(in: baseReader, comparedWith: newRun) : baseRun
        let diff = RunDiff(
            base: try TraceTools.Report(reader: baseReader, run: baseRunID),
            new: try TraceTools.Report(reader: newReader, run: newRun))
        print(diff.render(format, baseName: base.path, newName: new ?? base.path))
    }
}

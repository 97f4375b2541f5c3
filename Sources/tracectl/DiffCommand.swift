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

    @Argument(help: "The baseline trace file.")
    var base: String
    @Argument(help: "The trace file to compare (default: the baseline file).")
    var new: String?
    @Option(name: .customLong("base-run"), help: "Run id in the baseline file.")
    var baseRun: Int64?
    @Option(name: .customLong("run"), help: "Run id in the compared file.")
    var newRun: Int64?
    @Option(help: "table, json or csv.")
    var format: OutputFormat = .table

    func run() throws {
        let baseReader = try TraceReader(path: base)
        let newReader = try new.map { try TraceReader(path: $0) } ?? baseReader
        var baseRunID = baseRun
        if new == nil && baseRun == nil {
            let runs = try baseReader.runs()
            guard runs.count >= 2 else { throw Failure("diff: \(base) holds one run; name a second file or --base-run") }
            let newID = try newReader.run(newRun).id
            guard let previous = runs.last(where: { $0.id < newID }) ?? runs.first(where: { $0.id != newID }) else {
                throw Failure("diff: no other run to compare with")
            }
            baseRunID = previous.id
        }
        let diff = RunDiff(base: try TraceTools.Report(reader: baseReader, run: baseRunID),
                           new: try TraceTools.Report(reader: newReader, run: newRun))
        let table = diff.table()
        switch format {
        case .table:
            print("base: \(base) run \(diff.base.model.run.id); new: \(new ?? base) run \(diff.new.model.run.id)")
            print(table.render(.table))
            if !diff.onlyInBase.isEmpty {
                print("\nOnly in base: " + diff.onlyInBase.map { "\($0.module) (\($0.type))" }.joined(separator: ", "))
            }
            if !diff.onlyInNew.isEmpty {
                print("\nOnly in new: " + diff.onlyInNew.map { "\($0.module) (\($0.type))" }.joined(separator: ", "))
            }
        case .csv:
            print(table.render(.csv))
        case .json:
            func names(_ rows: [RunDiff.Row]) -> String {
                "[" + rows.map { "{\"module\":\(JSON.quote($0.module)),\"type\":\(JSON.quote($0.type))}" }.joined(separator: ",") + "]"
            }
            print("{\"per_step\":\(diff.perStep),\"modules\":\(table.render(.json)),\"only_in_base\":\(names(diff.onlyInBase)),\"only_in_new\":\(names(diff.onlyInNew))}")
        }
    }
}

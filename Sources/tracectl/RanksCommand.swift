import ArgumentParser
import Foundation
import TraceTools

struct Ranks: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare the ranks of a data-parallel run: one trace file per rank.",
        discussion: """
            Per step and rank: forward, backward, all-reduce wait (for the slowest rank) and transfer that \
            training waited for, optimizer and other, summing to the step; which rank arrived last at each \
            bucket; the straggler and the module that grew on it; POP load balance and communication \
            efficiency. Files of different mpirun jobs are refused.
            """)

    @Argument(help: "The rank trace files (.sqlite), e.g. Traces/mlp.rank*.sqlite.")
    var databases: [String]
    @Option(name: .customLong("run"), help: "Run id in every file (default: each file's latest run).")
    var runID: Int64?
    @Option(help: "Only steps A..B (inclusive), or one step N.")
    var steps: StepRange?
    @Option(help: "table, json or csv.")
    var format: OutputFormat = .table

    func run() throws {
        let set = try RankSet(paths: databases, run: runID)
        for rank in set.ranks { sayCrashNotice(of: rank.reader) }
        let report = try RankReport(set, steps: steps?.range)
        print(report.render(format))
    }
}

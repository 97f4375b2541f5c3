import ArgumentParser
import Foundation
import TraceTools

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Merge the rank traces of one data-parallel run into one Chrome trace, one process per rank.",
        discussion: """
            The ranks are placed on one time axis (on one host the shared monotonic clock; across hosts \
            rank 0's, through the clock offsets each rank measured by ping-pong; the method and its error \
            bound are printed). Files of different mpirun jobs, or two files of one rank, are refused.
            """)

    @Argument(help: "The rank trace files (.sqlite), e.g. Traces/mlp.rank*.sqlite.")
    var databases: [String]
    @Option(name: .shortAndLong, help: "Output file, ending in .json or .json.gz.")
    var output: String
    @Option(name: .customLong("run"), help: "Run id in every file (default: each file's latest run).")
    var runID: Int64?
    @Option(help: "Only steps A..B (inclusive), or one step N.")
    var steps: StepRange?

    func validate() throws {
        guard output.hasSuffix(".json") || output.hasSuffix(".json.gz") else {
            throw ValidationError("the output must end in .json or .json.gz")
        }
    }

    func run() throws { try Merge.write(databases, run: runID, to: output, steps: steps?.range) }

    /// The rank files as one Chrome trace (also `export chrome` with several files).
    static func write(_ paths: [String], run: Int64?, to output: String, steps: ClosedRange<Int64>?) throws {
        let set = try RankSet(paths: paths, run: run)
        for rank in set.ranks { sayCrashNotice(of: rank.reader) }
        let summary = try set.exportChrome(to: output, steps: steps)
        FileHandle.standardError.write(
            """
            wrote \(output): \(set.ranks.count) ranks, \(summary.events) events (\(summary.spans) spans); \(set.alignment)\n
            """.data(using: .utf8)!)
    }
}

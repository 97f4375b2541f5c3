import ArgumentParser
import CommandLineSupport
import Foundation
import TraceStore
import TraceTools

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a trace for other tools.", subcommands: [Chrome.self, Speedscope.self])

    struct Chrome: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Chrome Trace Event JSON for Perfetto (ui.perfetto.dev) and chrome://tracing.",
            discussion: """
                Follows PyTorch's profiler output: X events nested per thread, microsecond timestamps with \
                nanosecond decimals relative to baseTimeNanoseconds, ProfilerStep#N, cpu_op args with \
                Input Dims, a Memory counter, forward-to-backward flow arrows, process and thread names. \
                Streamed: memory use does not grow with the trace. A .json.gz name writes gzip. Several \
                files (one per rank of a data-parallel run) give one process per rank, like tracectl merge.
                """)

        @Argument(help: "A trace file (.sqlite), or one per rank of a data-parallel run (one process per rank, as merge writes).")
        var traces: [String]
        @Option(name: .customLong("run"), help: "Run id (default: the latest run of each file).")
        var runID: Int64?
        @Option(name: .shortAndLong, help: "Output file, ending in .json or .json.gz.")
        var output: String
        @Option(help: "Only steps A..B (inclusive), or one step N.")
        var steps: StepRange?

        func validate() throws {
            guard !traces.isEmpty else { throw ValidationError("give a trace file") }
            guard output.hasSuffix(".json") || output.hasSuffix(".json.gz") else {
                throw ValidationError("the output must end in .json or .json.gz")
            }
        }

        func run() throws {
            guard traces.count == 1 else {
                // Several files: the ranks of one run, each a process on the common time axis.
                try Merge.write(traces, run: runID, to: output, steps: steps?.range)
                return
            }
            let reader = try openTrace(traces[0])
            let exporter = try ChromeExporter(reader: reader, run: runID, steps: steps?.range)
            let summary = try exporter.export(to: output)
            FileHandle.standardError.write(
                """
                wrote \(output): \(summary.events) events (\(summary.spans) spans, \(summary.counters) counter samples, \
                \(summary.flows) flows), \(Units.bytes(Double(summary.bytes))) uncompressed\n
                """.data(using: .utf8)!)
        }
    }

    struct Speedscope: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The module flame graph for speedscope (speedscope.app): time and bytes profiles, one per rank.",
            discussion: """
                Each run (one per trace file: several files of a data-parallel job give one pair of profiles \
                per rank) becomes an evented profile weighted by time and one by allocated bytes, with \
                forward and backward frames holding the module tree, as tracectl html draws it.
                """)

        @Argument(help: "Trace files (.sqlite).")
        var traces: [String]
        @Option(name: .customLong("run"), help: "Run id (default: the latest run of each file).")
        var runID: Int64?
        @Option(help: "Only steps A..B (inclusive), or one step N.")
        var steps: StepRange?
        @Option(name: .shortAndLong, help: "Output file (.json).")
        var output: String

        func run() throws {
            let inputs = try traces.map { (reader: try openTrace($0), run: runID) }
            let text = try SpeedscopeExporter(traces: inputs, steps: steps?.range).json()
            guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
                throw Failure("cannot write \(output)")
            }
            FileHandle.standardError.write("wrote \(output): \(inputs.count * 2) profiles (time and bytes per run)\n".data(using: .utf8)!)
        }
    }
}

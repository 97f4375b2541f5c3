import ArgumentParser
import Foundation
import TraceTools

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a trace for other tools.", subcommands: [Chrome.self])

    struct Chrome: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Chrome Trace Event JSON for Perfetto (ui.perfetto.dev) and chrome://tracing.",
            discussion: """
                Follows PyTorch's profiler output: X events nested per thread, microsecond timestamps with \
                nanosecond decimals relative to baseTimeNanoseconds, ProfilerStep#N, cpu_op args with \
                Input Dims, a Memory counter, forward-to-backward flow arrows, process and thread names. \
                Streamed: memory use does not grow with the trace. A .json.gz name writes gzip.
                """)

        @OptionGroup var trace: TraceOptions
        @Option(name: .shortAndLong, help: "Output file, ending in .json or .json.gz.")
        var output: String
        @Option(help: "Only steps A..B (inclusive), or one step N.")
        var steps: StepRange?

        func validate() throws {
            guard output.hasSuffix(".json") || output.hasSuffix(".json.gz") else {
                throw ValidationError("the output must end in .json or .json.gz")
            }
        }

        func run() throws {
            let reader = try trace.open()
            let exporter = try ChromeExporter(reader: reader, run: trace.run, steps: steps?.range)
            let summary = try exporter.export(to: output)
            FileHandle.standardError.write("""
                wrote \(output): \(summary.events) events (\(summary.spans) spans, \(summary.counters) counter samples, \
                \(summary.flows) flows), \(Units.bytes(Double(summary.bytes))) uncompressed\n
                """.data(using: .utf8)!)
        }
    }
}

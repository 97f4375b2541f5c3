import Examples
import Foundation
import Profiler
import TraceRuntime
import TraceStore
import TraceTools

/// The store: bytes per span, writer throughput, Chrome export, and the report on 10M spans.
enum StoreBench {
    static var cache: URL {
        URL(fileURLWithPath: ".build/bench-cache", isDirectory: true)
    }

    static func fileSize(_ path: String) -> Double {
        Double((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
    }

    /// Trains the example MLP for `steps` steps under a profiler writing `path`.
    static func traceMLP(steps: Int, to path: String) throws -> [TraceResult] {
        let trainer = Trainer(TrainingConfig(model: .mlp, steps: steps))
        let profiler = Profiler(output: path)
        profiler.watch(trainer.model)
        try profiler.start()
        for _ in 0..<steps {
            _ = try trainer.trainStep()
            profiler.step()
        }
        return profiler.stop()
    }

    /// A real trace of the example MLP: file size over spans.
    static func bytesPerSpan(steps: Int) throws -> Result {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-bytes-\(getpid()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let spans = try traceMLP(steps: steps, to: path).reduce(0) { $0 + $1.spans }
        return .atMost(
            "bytes_per_span", "trace file size / spans (example MLP, \(steps) steps, shapes and memory on)",
            fileSize(path) / Double(spans), "B", 40, samples: "\(spans) spans, one file")
    }

    /// Our Chrome export of `steps` traced MLP steps: bytes per event.
    static func chromeBytesPerEvent(steps: Int) throws -> Double {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-chrome-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.sqlite").path
        let trainer = Trainer(TrainingConfig(model: .mlp, steps: steps))
        let profiler = Profiler(output: path)
        try profiler.start()
        for _ in 0..<steps {
            _ = try trainer.trainStep()
            profiler.step()
        }
        profiler.stop()
        let json = dir.appendingPathComponent("t.json").path
        let summary = try ChromeExporter(reader: TraceReader(path: path), run: nil).export(to: json)
        return fileSize(json) / Double(summary.events)
    }

    /// Synthetic spans through the SQLite writer (batches of 65536, as the drain hands them).
    static func ingest(spans: Int) throws -> (Result, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-ingest-\(getpid()).sqlite").path
        try? FileManager.default.removeItem(atPath: path)
        let trace = SyntheticTrace(steps: spans / 19)
        var batches: [[SpanRecord]] = []
        try trace.generate { batches.append($0) }
        var rates: [Double] = []
        for _ in 0..<5 {
            try? FileManager.default.removeItem(atPath: path)
            let writer = try trace.open(path)
            // Only the sink's work counts: what the drain thread must keep up with.
            let ns = try Measure.nanoseconds {
                for batch in batches { try batch.withUnsafeBufferPointer { try writer.write($0, dropped: 0) } }
            }
            try trace.finish(writer)
            rates.append(Double(trace.steps * trace.spansPerStep) / ns * 1e9)
        }
        return (
            .atLeast(
                "ingest_spans_per_s", "writer: spans into SQLite (sort, signatures, batched inserts, commit per batch)",
                Measure.median(rates), "1/s", 1.5e6, samples: "median of 5 runs × \(trace.steps * 19) spans"), path
        )
    }

    static func export(_ path: String) throws -> Result {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-export-\(getpid()).json").path
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: path)
        }
        var rates: [Double] = []
        var events: Int64 = 0
        for _ in 0..<3 {
            let reader = try TraceReader(path: path)
            let exporter = try ChromeExporter(reader: reader, run: nil)
            var summary: ChromeExporter.Summary?
            let ns = try Measure.nanoseconds { summary = try exporter.export(to: out) }
            events = summary?.events ?? 0
            rates.append(Double(events) / ns * 1e9)
        }
        return .atLeast(
            "export_events_per_s", "Chrome JSON export (spans, counters, flows, streamed)",
            Measure.median(rates), "1/s", 1e6, samples: "median of 3 runs × \(events) events")
    }

    /// `tracectl report` (the executable next to this one) on a 10M-span synthetic trace.
    static func report10M() throws -> Result {
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let path = cache.appendingPathComponent("synthetic-10m.sqlite").path
        let steps = 10_000_000 / 19 + 1
        let ready = (try? TraceReader(path: path).runs().first?.spanCount).flatMap { $0 } ?? 0 >= 10_000_000
        if !ready {
            try? FileManager.default.removeItem(atPath: path)
            note("  building a 10M-span trace in \(path) (once)...")
            try SyntheticTrace(steps: steps).write(to: path, name: "synthetic 10M")
        }
        let tracectl = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("tracectl").path
        guard FileManager.default.isExecutableFile(atPath: tracectl) else {
            throw BenchError("report_10m_s needs tracectl next to bench: swift build -c release --product tracectl")
        }
        var times: [Double] = []
        for _ in 0..<3 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tracectl)
            process.arguments = ["report", path]
            process.standardOutput = FileHandle.nullDevice
            let ns = try Measure.nanoseconds {
                try process.run()
                process.waitUntilExit()
            }
            guard process.terminationStatus == 0 else { throw BenchError("tracectl report failed on \(path)") }
            times.append(ns / 1e9)
        }
        let spans = try TraceReader(path: path).runs().first?.spanCount ?? 0
        return .atMost(
            "report_10m_s", "tracectl report on a \(spans)-span trace (wall time, whole process)",
            Measure.median(times), "s", 2, samples: "median of 3 runs")
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

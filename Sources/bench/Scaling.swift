import Foundation
import Modules
import Profiler
import Tensors
import TraceRuntime
import TraceStore
import TraceTools

/// How costs grow: with the number of module calls per step, and with the size of a trace.
enum Scaling {
    /// A model of `blocks` Linear(8, 8)+ReLU pairs: 2 × blocks + 1 module calls per forward.
    final class Deep: Module<Tensor, Tensor> {
        let layers: Sequential
        init(blocks: Int) {
            layers = Sequential((0..<blocks).flatMap { _ in [Linear(8, 8), ReLU()] as [Module<Tensor, Tensor>] })
            super.init()
        }
        override func forward(_ x: Tensor) throws -> Tensor { try layers(x) }
    }

    /// The small-layer model with 50 blocks (102 module calls per forward), traced and untraced
    /// steps interleaved in one profiler run: what every check costs per span in a real step.
    static func spanInModel(rounds: Int) throws -> [Result] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-inmodel-\(getpid()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (plain, traced, spans) = try interleaved(blocks: 50, rounds: rounds, path: path)
        let samples = "median of \(rounds) traced and \(rounds) untraced steps, interleaved"
        return [
            .atMost(
                "span_in_model_ns", "ns added per span in the small-layer model (Linear(8,8)+ReLU ×50, every check on)",
                (traced - plain) / spans, "ns", 100, samples: samples),
            .atMost(
                "small_layer_overhead_pct", "that model's step traced vs untraced", (traced / plain - 1) * 100, "%", 5,
                samples: samples),
        ]
    }

    /// Median untraced and traced step times of `Deep(blocks:)`, and the spans a traced step writes.
    static func interleaved(blocks: Int, rounds: Int, path: String) throws -> (plain: Double, traced: Double, spans: Double) {
        let model = Deep(blocks: blocks)
        let x = Tensor.ones([4, 8])
        let calls = 2 * blocks + 2  // the Sequential and Deep themselves, forward only
        let sgd = SGD(parameters: model.parameters(), learningRate: 0.001)
        func step() throws {
            sgd.zeroGrad()
            try model(x).sum().backward()
            sgd.step()
        }
        for _ in 0..<3 { try step() }
        let profiler = Profiler(output: path)
        try profiler.start()
        var plain: [Double] = []
        var traced: [Double] = []
        for round in 0..<rounds {
            for on in round % 2 == 0 ? [false, true] : [true, false] {
                if on { profiler.resume() } else { profiler.pause() }
                let ns = try Measure.nanoseconds {
                    try step()
                    profiler.step()
                }
                if on { traced.append(ns) } else { plain.append(ns) }
            }
        }
        profiler.stop()
        // Forward and backward spans per module, plus the step and optimizer spans.
        return (Measure.median(plain), Measure.median(traced), Double(2 * calls + 3))
    }

    static func modelSize() throws -> String {
        var lines = [
            "| module calls per step | step untraced | step traced | added per call | overhead |",
            "|---:|---:|---:|---:|---:|",
        ]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-scaling-\(getpid()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for blocks in [5, 50, 500, 5000] {
            let rounds = blocks >= 5000 ? 6 : blocks >= 500 ? 20 : 60
            let (p, t, spans) = try interleaved(blocks: blocks, rounds: rounds, path: path)
            lines.append(
                "| \(2 * blocks + 2) | \(Units.duration(p)) | \(Units.duration(t)) | \(Result.format((t - p) / spans)) ns/span | "
                    + String(format: "%+.1f%%", (t / p - 1) * 100) + " |")
            try? FileManager.default.removeItem(atPath: path)
        }
        return lines.joined(separator: "\n")
    }

    static func traceSize(includeTenMillion: Bool) throws -> String {
        var lines = [
            "| spans | file | bytes/span | write (ingest) | report, whole run | report --steps (scan) | Chrome export |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        let tracectl = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("tracectl").path
        func time(_ arguments: [String]) throws -> Double {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: tracectl)
            p.arguments = arguments
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            return try Measure.nanoseconds {
                try p.run()
                p.waitUntilExit()
            }
        }
        let sizes = includeTenMillion ? [10_000, 100_000, 1_000_000, 10_000_000] : [10_000, 100_000, 1_000_000]
        for spans in sizes {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-size-\(getpid())")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let path = dir.appendingPathComponent("t.sqlite").path
            let trace = SyntheticTrace(steps: spans / 19)
            let writer = try trace.open(path)
            var ingest = 0.0
            try trace.generate { batch in
                ingest += try Measure.nanoseconds { try batch.withUnsafeBufferPointer { try writer.write($0, dropped: 0) } }
            }
            try trace.finish(writer)
            let size = StoreBench.fileSize(path)
            let whole = try time(["report", path])
            let scan = try time(["report", path, "--steps", "0..\(trace.steps)"])
            let export = try time(["export", "chrome", path, "-o", dir.appendingPathComponent("t.json").path])
            lines.append(
                "| \(spans) | \(Units.bytes(size)) | \(Result.format(size / Double(trace.steps * 19))) | "
                    + "\(Units.duration(ingest)) | \(Units.duration(whole)) | \(Units.duration(scan)) | \(Units.duration(export)) |")
        }
        return lines.joined(separator: "\n")
    }
}

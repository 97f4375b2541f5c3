import Examples
import Foundation
import Profiler
import Tracing

/// The example MLP (784-256-256-10, batch 64, SGD momentum 0.9) stepped with and without the
/// profiler, in alternating blocks, comparing median step times.
enum TrainBench {
    static let blockSteps = 25

    /// Median ms per step untraced, and the overheads traced and with op-level tracing.
    static func run(blocks: Int) throws -> [Result] {
        let trainer = Trainer(TrainingConfig(model: .mlp, steps: 1))
        for _ in 0..<20 { _ = try trainer.trainStep() }  // warm up caches and allocator
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var plain: [Double] = [], traced: [Double] = [], ops: [Double] = []
        var opOptions = ProfilerOptions()
        opOptions.ops = true
        for block in 0..<blocks {
            // Rotate the order so that drift does not favour one variant.
            let order = [0, 1, 2].map { ($0 + block) % 3 }
            for variant in order {
                switch variant {
                case 0: plain += try steps(trainer, profiler: nil)
                case 1: traced += try steps(trainer, profiler: Profiler(output: dir.appendingPathComponent("t.sqlite").path))
                default:
                    ops += try steps(trainer, profiler: Profiler(output: dir.appendingPathComponent("ops.sqlite").path,
                                                                 options: opOptions))
                }
            }
        }
        let base = Measure.median(plain)
        let samples = "median of \(plain.count) steps per variant, \(blocks) alternating blocks of \(blockSteps)"
        return [
            Result("train_step_ms", "MLP 784-256-256-10 training step, batch 64, SGD momentum, untraced", base / 1e6, "ms",
                   samples: samples),
            .atMost("train_overhead_pct", "that step traced (shapes, memory, graph, bypass checks) vs untraced",
                    (Measure.median(traced) / base - 1) * 100, "%", 3, samples: samples),
            Result("train_op_overhead_pct", "the same with op-level tracing", (Measure.median(ops) / base - 1) * 100, "%",
                   samples: samples),
        ]
    }

    /// Per-step nanoseconds of one block; the profiler (if any) is started and stopped outside the timing.
    static func steps(_ trainer: Trainer, profiler: Profiler?) throws -> [Double] {
        try profiler?.start()
        defer { profiler?.stop() }
        var times: [Double] = []
        for _ in 0..<blockSteps {
            times.append(try Measure.nanoseconds {
                _ = try trainer.trainStep()
                profiler?.step()
            })
        }
        // The first steps of a run record the static graph; they are not steady state.
        return profiler == nil ? times : times
    }
}

import Examples
import Foundation
import Profiler
import TraceRuntime

/// The example MLP (784-256-256-10, batch 64, SGD momentum 0.9) stepped with and without the
/// profiler, in alternating blocks, comparing median step times.
enum TrainBench {
    static let blockSteps = 10

    /// Median ms per step untraced, and the overheads traced and with op-level tracing.
    /// Each traced variant is one profiler run, paused for the untraced blocks in between, so
    /// that only steady-state recording is compared (no session start or stop in the timings).
    static func run(blocks: Int) throws -> [Result] {
        let trainer = Trainer(TrainingConfig(model: .mlp, steps: 1))
        for _ in 0..<20 { _ = try trainer.trainStep() }  // warm up caches and allocator
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var opOptions = ProfilerOptions()
        opOptions.ops = true
        var plain: [Double] = []
        func overhead(_ options: ProfilerOptions, _ name: String) throws -> [Double] {
            let profiler = Profiler(output: dir.appendingPathComponent(name).path, options: options)
            profiler.watch(trainer.model)
            try profiler.start()
            defer { profiler.stop() }
            for _ in 0..<12 {
                _ = try trainer.trainStep()
                profiler.step()
            }  // past the graph captures
            var ratios: [Double] = []
            // Adjacent blocks, alternating which goes first: the machine is shared and drifts.
            for block in 0..<blocks {
                var medians = [0.0, 0.0]
                for traced in block % 2 == 0 ? [false, true] : [true, false] {
                    if traced { profiler.resume() } else { profiler.pause() }
                    let times = try steps(trainer, profiler: profiler)
                    medians[traced ? 1 : 0] = Measure.median(times)
                    if !traced { plain += times }
                }
                ratios.append(medians[1] / medians[0])
            }
            return ratios
        }
        let traced = try overhead(ProfilerOptions(), "t.sqlite")
        let ops = try overhead(opOptions, "ops.sqlite")
        var nonFiniteOptions = ProfilerOptions()
        nonFiniteOptions.detectNonFinite = true
        let nonFinite = try overhead(nonFiniteOptions, "nonfinite.sqlite")
        let samples = "median of \(blocks) ratios of adjacent blocks of \(blockSteps) steps"
        return [
            Result(
                "train_step_ms", "MLP 784-256-256-10 training step, batch 64, SGD momentum, untraced",
                Measure.median(plain) / 1e6, "ms", samples: "median of \(plain.count) steps"),
            .atMost(
                "train_overhead_pct", "that step traced (shapes, memory, bypass checks, step spans) vs untraced",
                (Measure.median(traced) - 1) * 100, "%", 3, samples: samples),
            Result(
                "train_op_overhead_pct", "the same with op-level tracing", (Measure.median(ops) - 1) * 100, "%",
                samples: samples),
            Result(
                "nonfinite_check_pct", "what detectNonFinite adds to the traced step (points of the untraced step)",
                (Measure.median(nonFinite) - Measure.median(traced)) * 100, "%", samples: samples),
        ]
    }

    /// Per-step nanoseconds of one block.
    static func steps(_ trainer: Trainer, profiler: Profiler) throws -> [Double] {
        (0..<blockSteps).map { _ in
            (try? Measure.nanoseconds {
                _ = try trainer.trainStep()
                profiler.step()
            }) ?? .nan
        }
    }
}

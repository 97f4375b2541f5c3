import Distributed
import Examples
import Foundation
import Profiler

/// `mpirun -n 2 bench --ddp`: the MLP step data-parallel on two ranks (global batch 64,
/// 32 per rank), the share of all-reduce time hidden under backward, and the tracing overhead
/// of a 2-rank step; rank 0 reports. `bench --ddp` without mpirun measures the one-process
/// step on the whole batch, the baseline.
enum DDPBench {
    static func run(blocks: Int) throws -> [Result] {
        let group = try ProcessGroup.world()
        var results: [Result] = []
        // Without mpirun: one process on the combined batch (the baseline; no idle peer polls meanwhile).
        if group.size == 1 {
            let single = Trainer(TrainingConfig(model: .mlp, steps: 1))
            for _ in 0..<20 { _ = try single.trainStep() }
            let times = try (0..<blocks * 10).map { _ in try Measure.nanoseconds { _ = try single.trainStep() } }
            results.append(
                Result(
                    "ddp_single_step_ms", "MLP step, batch 64, one process", Measure.median(times) / 1e6, "ms",
                    samples: "median of \(times.count) steps"))
            return results
        }
        let trainer = Trainer(TrainingConfig(model: .mlp, steps: 1))
        try trainer.distribute(over: group, bucketCapMB: 0.25)
        for _ in 0..<20 { _ = try trainer.trainStep() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-ddp-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let profiler = Profiler(output: dir.appendingPathComponent("rank\(group.rank).sqlite").path)
        profiler.watch(trainer.ddp!)
        try profiler.start()
        var plain: [Double] = []
        var hidden: [Double] = []
        var ratios: [Double] = []
        for block in 0..<blocks {
            var medians = [0.0, 0.0]
            for traced in block % 2 == 0 ? [false, true] : [true, false] {
                if traced { profiler.resume() } else { profiler.pause() }
                let times = try (0..<10).map { _ in
                    let t = try Measure.nanoseconds {
                        _ = try trainer.trainStep()
                        profiler.step()
                    }
                    if !traced { hidden.append(trainer.ddp!.lastHiddenFraction) }
                    return t
                }
                medians[traced ? 1 : 0] = Measure.median(times)
                if !traced { plain += times }
            }
            ratios.append(medians[1] / medians[0])
        }
        profiler.stop()
        let buckets = trainer.ddp!.bucketBytes.count
        results += [
            Result(
                "ddp_step_ms",
                "the same step data-parallel on \(group.size) ranks (\(64 / group.size) each, \(buckets) buckets of ≤0.25 MiB), untraced",
                Measure.median(plain) / 1e6, "ms", samples: "median of \(plain.count) steps on rank 0"),
            Result(
                "ddp_hidden_allreduce_pct", "all-reduce time that ran before backward ended (communication thread's clock)",
                Measure.median(hidden) * 100, "%", samples: "median of \(hidden.count) steps"),
            .atMost(
                "ddp_trace_overhead_pct", "a \(group.size)-rank step traced (collective, wait and transfer spans) vs untraced",
                (Measure.median(ratios) - 1) * 100, "%", 3, samples: "median of \(blocks) ratios of adjacent blocks of 10 steps"),
        ]
        try group.barrier(label: "bench end")
        group.finalize()
        return group.rank == 0 ? results : []
    }
}

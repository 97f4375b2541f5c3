import ArgumentParser
import Distributed
import Examples
import Foundation
import Profiler
import TraceStore
import TraceTools

@main
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an example model on generated data (the main job).")

    @Option(help: "mlp (784-256-256-10 on drawn shapes), cnn (same images), or gpt (characters).")
    var model: ModelKind = .mlp
    @Option(help: "Optimizer steps (default: 600 mlp, 300 cnn and gpt).")
    var steps: Int?
    @Option(name: .customLong("batch-size"), help: "Examples per step (default: 64 mlp, 32 cnn, 16 gpt).")
    var batchSize: Int?
    @Option(help: "Learning rate (default: 0.05 with SGD momentum 0.9; 3e-3 with AdamW for gpt).")
    var lr: Float?
    @Option(help: "Seed for weights, data and shuffling.")
    var seed: UInt64 = 0
    @Option(name: .customLong("log-format"), help: "text (a live progress line on a terminal) or jsonl (one object per step).")
    var logFormat: LogFormat = .text
    @Option(help: "Where the trace goes (default: Traces/<model>.sqlite). TRACEWELL_TRACE in the environment wins.")
    var trace: String?
    @Flag(name: .customLong("no-trace"), help: "Train without the profiler.")
    var noTrace = false
    @Option(help: "Also write the HTML report of the trace here (one offline file; see tracectl html).")
    var html: String?
    @Flag(name: .customLong("demo-bypass"), help: "Make the model call its last layer's forward directly (a bypass the trace exposes).")
    var demoBypass = false
    @Flag(
        name: .customLong("demo-ddp-bypass"),
        help:
            "Data-parallel: on step 3 call the wrapped model directly, skipping DistributedDataParallel's forward (a bypass the run reports)."
    )
    var demoDDPBypass = false
    @Option(
        name: .customLong("bucket-cap-mb"), help: "Data-parallel: gradient bucket cap in MiB (default 25; the first bucket is at most 1).")
    var bucketCapMB: Double = 25
    @Option(
        name: .customLong("check-every"),
        help:
            "Data-parallel: compare parameter checksums across ranks every K steps (default 100 under mpirun, 1 with --demo-ddp-bypass; 0 never)."
    )
    var checkEvery: Int?
    @Option(
        name: .customLong("save-state"),
        help: ArgumentHelp("Write the trained parameters (safetensors) here; ranks other than 0 add .rankN.", visibility: .hidden))
    var saveState: String?
    @Option(
        name: .customLong("demo-crash"),
        help: ArgumentHelp(
            "Die inside blocks.1.attn (fatal, index, segv, abort, overflow; backward: in its backward): the flight recorder's test.",
            visibility: .hidden))
    var demoCrash: CrashDemo.Kind?
    @Option(name: .customLong("crash-step"), help: ArgumentHelp("The step --demo-crash dies in.", visibility: .hidden))
    var crashStep = 3

    enum LogFormat: String, ExpressibleByArgument { case text, jsonl }

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
        if html != nil && noTrace { throw ValidationError("--html needs the trace: leave out --no-trace") }
        if !(bucketCapMB > 0) { throw ValidationError("--bucket-cap-mb must be positive") }
        if let checkEvery, checkEvery < 0 { throw ValidationError("--check-every must be 0 or more") }
    }

    func run() throws {
        if let demoCrash { try CrashDemo.run(demoCrash, step: crashStep, trace: trace ?? "Traces/crash.sqlite") }
        var config = TrainingConfig(model: model, steps: steps, batchSize: batchSize, learningRate: lr, seed: seed)
        config.demoBypass = demoBypass
        // Data-parallel under mpirun (and for the DDP-bypass demo, which also works alone).
        let group = ProcessGroup.launchedByMPI || demoDDPBypass ? try ProcessGroup.world() : nil
        if demoDDPBypass { config.ddpBypassStep = min(3, config.steps) }
        if group != nil { config.consistencyEvery = checkEvery ?? (demoDDPBypass ? 1 : 100) }
        let trainer = Trainer(config)
        if let group { try trainer.distribute(over: group, bucketCapMB: bucketCapMB) }
        let leader = (group?.rank ?? 0) == 0
        let hookCalls = demoBypass ? trainer.countLastLayerHookCalls() : nil
        let profiler = startProfiler(for: trainer, group: group)
        let stepsExplicitly = !(profiler?.startedFromEnvironment ?? true)
        let progress = ProgressLine(enabled: leader && logFormat == .text && isatty(STDOUT_FILENO) == 1)
        let summary = try trainer.run { log in
            if stepsExplicitly { profiler?.step() }
            guard leader else { return }
            switch logFormat {
            case .jsonl: print(log.json)
            case .text: progress.show(log, of: config.steps)
            }
        }
        progress.finish()
        if leader && logFormat == .text { print(summary.text(model: model, steps: config.steps)) }
        // The end-of-run clock estimate goes into the trace, so take it before the profiler stops
        // (on every rank, traced or not: it is a collective).
        try group?.synchronizeClocks()
        if let profiler { report(profiler.stop(), of: profiler) }
        if let group { try finish(trainer, group) }
        if let hookCalls {
            print(
                "demo-bypass: the forward hook on \(hookCalls.layer) fired \(hookCalls.count()) times in \(config.steps) steps "
                    + "(its forward was called directly); see `tracectl bypass` and `tracectl graph`")
        }
    }

    /// The environment's profiler if it set one, else ours unless --no-trace. A trace that
    /// cannot be written is reported once; training goes on without it.
    /// Rank 0 reports the data-parallel checks; every rank saves its state if asked, then leaves MPI.
    func finish(_ trainer: Trainer, _ group: ProcessGroup) throws {
        if let saveState {
            try trainer.model.save(to: URL(fileURLWithPath: group.rank == 0 ? saveState : "\(saveState).rank\(group.rank)"))
        }
        if group.rank == 0, let ddp = trainer.ddp {
            let buckets = ddp.bucketBytes.map { String(format: "%.2f MB", Double($0) / 1e6) }.joined(separator: ", ")
            print(
                "data-parallel: \(group.size) rank\(group.size == 1 ? "" : "s"), global batch \(trainer.config.batchSize), "
                    + "\(ddp.bucketBytes.count) gradient buckets (\(buckets))")
            if trainer.consistencyChecks > 0 {
                print(
                    trainer.firstMismatch.map { "consistency: \($0)" }
                        ?? "consistency: parameters identical on all \(group.size) ranks at \(trainer.consistencyChecks) checks")
            }
            if demoDDPBypass {
                print("demo-ddp-bypass: \(ddp.bypasses.count) step(s) ran without DistributedDataParallel's forward; see the warning above")
            }
        }
        try group.barrier(label: "exit")
        group.finalize()
    }

    func startProfiler(for trainer: Trainer, group: ProcessGroup?) -> Profiler? {
        if let active = Profiler.active, active.startedFromEnvironment {
            active.watch(trainer.model)
            return active
        }
        guard !noTrace else { return nil }
        let output = trace ?? "Traces/\(model.rawValue).sqlite"
        let profiler = Profiler(
            output: (group?.size ?? 1) > 1 ? Profiler.perRank(output, rank: group!.rank) : output,
            runName: "train --model \(model.rawValue)")
        profiler.watch(trainer.ddp ?? trainer.model)
        do {
            try profiler.start()
            return profiler
        } catch {
            FileHandle.standardError.write("train: tracing disabled: \(error)\n".data(using: .utf8)!)
            return nil
        }
    }

    func report(_ results: [TraceResult], of profiler: Profiler) {
        let spans = results.reduce(0) { $0 + $1.spans }
        let dropped = results.reduce(0) { $0 + $1.dropped }
        let runs = results.map { String($0.runID) }.joined(separator: ", ")
        let line: String
        if let last = results.last {
            line = "trace: \(last.path) (run \(runs), \(spans) spans, \(dropped) dropped)"
        } else if profiler.failure != nil {
            // The failure itself was reported when it happened; committed batches are still in the file.
            line = "trace: \(profiler.output) keeps what was committed before tracing stopped (the run is incomplete)"
        } else {
            line = "trace: nothing written to \(profiler.output)"
        }
        FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
        guard !results.isEmpty else { return }
        FileHandle.standardError.write((htmlReport(profiler.output) + "\n").data(using: .utf8)!)
    }

    /// Writes the HTML report with --html, or says how to; one line either way.
    func htmlReport(_ trace: String) -> String {
        guard let html else {
            let page = trace.hasSuffix(".sqlite") ? String(trace.dropLast(7)) + ".html" : trace + ".html"
            return "report: tracectl html \(trace) -o \(page)   (or train --html \(page))"
        }
        do {
            let report = try HTMLReport(traces: [(TraceReader(path: trace), nil)])
            try report.write(to: html)
            return "report: \(html) (one offline HTML file; open it in a browser)"
        } catch {
            return "report: not written (\(error))"
        }
    }
}

extension ModelKind: ExpressibleByArgument {}

extension StepLog {
    var json: String {
        var fields = ["\"step\":\(step)", "\"loss\":\(loss)"]
        if let accuracy { fields.append("\"accuracy\":\(accuracy)") }
        fields.append("\"steps_per_s\":\((stepsPerSecond * 10).rounded() / 10)")
        return "{" + fields.joined(separator: ",") + "}"
    }
}

extension TrainingSummary {
    func text(model: ModelKind, steps: Int) -> String {
        var lines = ["\(model.rawValue): \(steps) steps at \(Int(stepsPerSecond)) steps/s; loss \(fmt(firstLoss)) -> \(fmt(finalLoss))"]
        if let trainAccuracy, let testAccuracy {
            lines.append("accuracy: train \(pct(trainAccuracy)), held-out \(pct(testAccuracy)) (chance \(pct(chance)))")
        } else {
            lines.append("uniform-guess loss would be \(fmt(Float(log(Double(chance)))))")
        }
        if let sample { lines.append("sample: \(sample.replacingOccurrences(of: "\n", with: "⏎"))") }
        return lines.joined(separator: "\n")
    }

    private func fmt(_ x: Float) -> String { String(format: "%.4f", x) }
    private func pct(_ x: Float) -> String { String(format: "%.1f%%", x * 100) }
}

/// One line on a terminal, redrawn in place.
final class ProgressLine {
    let enabled: Bool
    private var lastDraw = ContinuousClock.now - .seconds(1)

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ log: StepLog, of total: Int) {
        guard enabled, ContinuousClock.now - lastDraw > .milliseconds(50) || log.step == total else { return }
        lastDraw = .now
        var line = "step \(log.step)/\(total)  loss \(String(format: "%.4f", log.loss))"
        if let accuracy = log.accuracy { line += "  acc \(String(format: "%.1f%%", accuracy * 100))" }
        line += "  \(Int(log.stepsPerSecond)) steps/s"
        FileHandle.standardOutput.write(("\r\u{1B}[2K" + line).data(using: .utf8)!)
    }

    func finish() {
        if enabled { print() }
    }
}

extension CrashDemo.Kind: ExpressibleByArgument {}

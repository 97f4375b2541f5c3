import Foundation
import Modules
import ProfilerAutostart
import TraceRuntime
import TraceStore

/// Activation from outside the program: with `TRACEWELL_TRACE=<file.sqlite>` set, any
/// program linking the profiler is traced from its first instruction to its exit,
/// without changing its code. `TRACEWELL_OPTIONS` takes a comma-separated list:
/// `ops`, `noshapes`, `nomemory`, `nograph`, `wait=N`, `warmup=N`, `active=N`,
/// `repeat=N`, `skip_first=N`, `name=TEXT`. Steps are counted at each `Optimizer.step()`.
extension Profiler {
    /// The variable that names the trace file (`TRACEWELL_TRACE=run.sqlite`).
    public static let traceVariable = "TRACEWELL_TRACE"
    /// The variable that holds options (`TRACEWELL_OPTIONS=ops,wait=1,active=3`).
    public static let optionsVariable = "TRACEWELL_OPTIONS"

    /// The profiler the environment asks for, or nil when `TRACEWELL_TRACE` is not set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Profiler? {
        guard var output = environment[traceVariable], !output.isEmpty else { return nil }
        // Under mpirun every rank sees the same variable: each writes its own file.
        let launcher = RunDescription.launcher(environment)
        if launcher.size > 1 { output = perRank(output, rank: launcher.rank) }
        var options = ProfilerOptions()
        var schedule: [String: Int] = [:]
        var name: String?
        for item in (environment[optionsVariable] ?? "").split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) })
        where !item.isEmpty {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            switch (parts[0], parts.count) {
            case ("ops", 1): options.ops = true
            case ("noshapes", 1): options.shapes = false
            case ("nomemory", 1): options.memory = false
            case ("nograph", 1): options.graph = false
            case ("name", 2): name = parts[1]
            case ("wait", 2), ("warmup", 2), ("active", 2), ("repeat", 2), ("skip_first", 2):
                guard let n = Int(parts[1]), n >= 0 else {
                    throw ProfilerError(description: "\(optionsVariable): \(parts[0]) needs a non-negative integer, got '\(parts[1])'")
                }
                schedule[parts[0]] = n
            default:
                throw ProfilerError(
                    description:
                        "\(optionsVariable): unknown option '\(item)' (known: ops, noshapes, nomemory, nograph, name=, wait=, warmup=, active=, repeat=, skip_first=)"
                )
            }
        }
        var plan: ProfilerSchedule?
        if !schedule.isEmpty {
            guard let active = schedule["active"], active > 0 else {
                throw ProfilerError(description: "\(optionsVariable): a schedule needs active=N with N > 0")
            }
            plan = ProfilerSchedule(
                wait: schedule["wait"] ?? 0, warmup: schedule["warmup"] ?? 0, active: active,
                repeat: schedule["repeat"] ?? 0, skipFirst: schedule["skip_first"] ?? 0)
        }
        let profiler = Profiler(output: output, options: options, schedule: plan, runName: name)
        profiler.startedFromEnvironment = true
        return profiler
    }

    /// `run.sqlite` → `run.rank1.sqlite`: the file of rank `rank` in a data-parallel run.
    public static func perRank(_ path: String, rank: Int) -> String {
        let url = URL(fileURLWithPath: path)
        guard !url.pathExtension.isEmpty else { return path + ".rank\(rank)" }
        return url.deletingPathExtension().path + ".rank\(rank)." + url.pathExtension
    }

    /// Whether the running profiler came from the environment.
    public static var isActiveFromEnvironment: Bool { active?.startedFromEnvironment ?? false }
}

/// Called before `main` by the C constructor when `TRACEWELL_TRACE` is set.
@_cdecl("tracewell_autostart")
public func tracewellAutostart() {
    tracewell_autostart_anchor()
    do {
        guard let profiler = try Profiler.fromEnvironment() else { return }
        try profiler.start()
        Optimizer.stepObserver = { _ in Profiler.active?.stepFromOptimizer() }
        atexit { Profiler.stopFromEnvironment() }
    } catch {
        StandardError.write("tracewell: \(Profiler.traceVariable) is set but tracing could not start: \(error)\n")
    }
}

extension Profiler {
    /// At exit: writes the run and says where it went.
    static func stopFromEnvironment() {
        guard let profiler = active, profiler.startedFromEnvironment else { return }
        let results = profiler.stop()
        let spans = results.reduce(0) { $0 + $1.spans }
        let runs = results.map { String($0.runID) }.joined(separator: ", ")
        StandardError.write("tracewell: trace written to \(results.last?.path ?? profiler.output) (run \(runs), \(spans) spans)\n")
    }
}

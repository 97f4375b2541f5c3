import TraceRuntime

/// What the profiler records.
public struct ProfilerOptions: Sendable, Equatable {
    /// Input and output shapes of module calls (PyTorch's `record_shapes`).
    public var shapes = true
    /// Bytes allocated and freed, peak and live bytes per span (`profile_memory`).
    public var memory = true
    /// One span per tensor op, like PyTorch's `cpu_op` events. Off by default: it costs about a microsecond per op.
    public var ops = false
    /// A static graph of the first active step and a later one (the last of a schedule's
    /// window, or `graphCompareAfter` steps later); the two are compared.
    public var graph = true
    /// Without a schedule, how many steps after the first the second graph is captured.
    public var graphCompareAfter = 10
    /// How often buffered spans are written (and committed) to the database.
    public var drainInterval: Duration = .milliseconds(50)
    /// Each bypass finding records the source line of the call that caused it (`detail` ends in
    /// `at FILE:LINE`), from a backtrace symbolicated once per finding (milliseconds; seconds in a
    /// very large debug binary). Needs the binary's debug line tables, which SwiftPM emits in debug
    /// and release builds; a stripped binary gives none.
    public var sourceLocations = true
    /// The largest the trace file may grow; past it tracing stops (as on a full disk) and the
    /// program goes on. Nil: no limit.
    public var maxFileBytes: Int?
    /// Checks every module's forward output for NaN and infinity: the first module whose output
    /// holds one is a `non_finite` finding (path, root, type, step, output shapes), later ones are
    /// counted in it. Off by default: it reads every output once (see BENCHMARKS.md for the cost).
    public var detectNonFinite = false

    /// The defaults record spans with shapes and memory, and capture graphs; `ops` adds a span per tensor op.
    public init(shapes: Bool = true, memory: Bool = true, ops: Bool = false, graph: Bool = true) {
        self.shapes = shapes
        self.memory = memory
        self.ops = ops
        self.graph = graph
    }

    /// Tracer flags for recording steps. Bypass detection is always on while profiling.
    var flags: TraceFlags {
        var f: TraceFlags = [.spans, .bypass]
        if shapes { f.insert(.shapes) }
        if memory { f.insert(.memory) }
        if ops { f.insert(.ops) }
        if detectNonFinite { f.insert(.nonFinite) }
        return f
    }

    var json: String {
        "{\"shapes\":\(shapes),\"memory\":\(memory),\"ops\":\(ops),\"graph\":\(graph),\"detect_non_finite\":\(detectNonFinite)}"
    }
}

/// Which steps are recorded, as `torch.profiler.schedule`: skip `skipFirst` steps, then
/// cycles of `wait` idle, `warmup` traced-but-discarded and `active` recorded steps,
/// `repeat` times (0: forever). Each active window becomes one run in the database.
public struct ProfilerSchedule: Sendable, Equatable {
    /// Idle steps at the start of each cycle.
    public var wait: Int
    /// Steps traced and thrown away before each window (the first traced steps are slower).
    public var warmup: Int
    /// Steps recorded per window.
    public var active: Int
    /// Number of cycles (0: repeat until the profiler stops).
    public var repeatCount: Int
    /// Steps skipped once before the first cycle.
    public var skipFirst: Int

    /// A schedule; `active` must be positive.
    public init(wait: Int = 0, warmup: Int = 0, active: Int, repeat: Int = 0, skipFirst: Int = 0) {
        precondition(
            active > 0 && wait >= 0 && warmup >= 0 && `repeat` >= 0 && skipFirst >= 0,
            "ProfilerSchedule: active must be positive and the rest non-negative")
        self.wait = wait
        self.warmup = warmup
        self.active = active
        repeatCount = `repeat`
        self.skipFirst = skipFirst
    }

    /// What the profiler does in one step.
    public enum Action: Equatable, Sendable {
        case none, warmup, record, recordAndSave
    }

    /// What to do during step `step` (0-based), exactly as PyTorch's schedule function.
    public func action(at step: Int) -> Action {
        guard step >= skipFirst else { return .none }
        let s = step - skipFirst
        let cycle = wait + warmup + active
        if repeatCount > 0 && s / cycle >= repeatCount { return .none }
        let m = s % cycle
        if m < wait { return .none }
        if m < wait + warmup { return .warmup }
        return m < cycle - 1 ? .record : .recordAndSave
    }
}

/// Threads a profiler records instead of the whole process (see `Profiler.threads`).
public typealias ThreadGroup = TraceRuntime.ThreadGroup

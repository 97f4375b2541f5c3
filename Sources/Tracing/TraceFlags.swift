import CTracing

/// What the tracer records. Read with one relaxed load on every module call;
/// all zero means the call wrapper takes its fast path.
public struct TraceFlags: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Module, step, range, backward and optimizer spans with timing.
    public static let spans = TraceFlags(rawValue: 1 << 0)
    /// Input and output shapes of module calls.
    public static let shapes = TraceFlags(rawValue: 1 << 1)
    /// Bytes allocated, freed and peak live bytes per span.
    public static let memory = TraceFlags(rawValue: 1 << 2)
    /// One child span per tensor op.
    public static let ops = TraceFlags(rawValue: 1 << 3)
    /// Tensor ops are recorded into a static graph.
    public static let graph = TraceFlags(rawValue: 1 << 4)
    /// Parameter reads and built-in layers check that their module's wrapper is active.
    public static let bypass = TraceFlags(rawValue: 1 << 5)
    /// Spans keep the module stack (for graph scopes) but are not written.
    public static let silent = TraceFlags(rawValue: 1 << 6)
    /// Global module hooks are registered (not a tracer setting: the hook registry owns it).
    public static let globalHooks = TraceFlags(rawValue: 1 << 7)

    /// The bits a trace session controls.
    public static let tracerMask: TraceFlags = [.spans, .shapes, .memory, .ops, .graph, .bypass, .silent]

    /// The flags in force right now.
    @inlinable public static var current: TraceFlags { TraceFlags(rawValue: ct_get_flags()) }

    /// Replaces the tracer's flags, leaving `globalHooks` alone.
    public static func set(_ flags: TraceFlags) { ct_update_flags(tracerMask.rawValue, flags.rawValue) }

    /// Sets or clears `globalHooks`.
    public static func setGlobalHooks(_ on: Bool) {
        ct_update_flags(globalHooks.rawValue, on ? globalHooks.rawValue : 0)
    }

    /// True when module calls must take the slow path (tracing, or global hooks).
    @inlinable public static var anyActive: Bool { ct_get_flags() != 0 }
}

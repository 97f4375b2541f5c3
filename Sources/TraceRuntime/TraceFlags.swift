import CTracing

/// What the tracer records. Read with one relaxed load on every module call;
/// all zero means the call wrapper takes its fast path.
@usableFromInline package struct TraceFlags: OptionSet, Sendable {
    @usableFromInline package let rawValue: Int32
    @inlinable package init(rawValue: Int32) { self.rawValue = rawValue }

    /// Module, step, range, backward and optimizer spans with timing.
    @inlinable package static var spans: TraceFlags { TraceFlags(rawValue: 1 << 0) }
    /// Input and output shapes of module calls.
    @inlinable package static var shapes: TraceFlags { TraceFlags(rawValue: 1 << 1) }
    /// Bytes allocated, freed and peak live bytes per span.
    @inlinable package static var memory: TraceFlags { TraceFlags(rawValue: 1 << 2) }
    /// One child span per tensor op.
    @inlinable package static var ops: TraceFlags { TraceFlags(rawValue: 1 << 3) }
    /// Tensor ops are recorded into a static graph.
    @inlinable package static var graph: TraceFlags { TraceFlags(rawValue: 1 << 4) }
    /// Parameter reads and built-in layers check that their module's wrapper is active.
    @inlinable package static var bypass: TraceFlags { TraceFlags(rawValue: 1 << 5) }
    /// Spans keep the module stack (for graph scopes) but are not written.
    @inlinable package static var silent: TraceFlags { TraceFlags(rawValue: 1 << 6) }
    /// Global module hooks are registered (not a tracer setting: the hook registry owns it).
    @inlinable package static var globalHooks: TraceFlags { TraceFlags(rawValue: 1 << 7) }

    /// Module outputs are checked for NaN and infinity (`ProfilerOptions.detectNonFinite`).
    @inlinable package static var nonFinite: TraceFlags { TraceFlags(rawValue: 1 << 8) }

    /// The bits a trace session controls.
    @inlinable package static var tracerMask: TraceFlags { [.spans, .shapes, .memory, .ops, .graph, .bypass, .silent, .nonFinite] }

    /// The flags in force on the calling thread: the session's, if this thread's calls belong
    /// to it (see `TraceSession.Threads`), and `globalHooks` in any case.
    @inlinable package static var current: TraceFlags {
        let raw = ct_get_flags()
        if raw == 0 || ct_thread_records() != 0 { return TraceFlags(rawValue: raw) }
        return TraceFlags(rawValue: raw & globalHooks.rawValue)
    }

    /// Replaces the tracer's flags, leaving `globalHooks` alone (the session owns them).
    @usableFromInline package static func set(_ flags: TraceFlags) { ct_update_flags(tracerMask.rawValue, flags.rawValue) }

    /// Sets or clears `globalHooks`.
    @usableFromInline package static func setGlobalHooks(_ on: Bool) {
        ct_update_flags(globalHooks.rawValue, on ? globalHooks.rawValue : 0)
    }

    /// True when module calls must take the slow path (tracing, or global hooks).
    @inlinable package static var anyActive: Bool { ct_get_flags() != 0 }
}

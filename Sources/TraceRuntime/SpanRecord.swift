import TraceEvents

/// One finished span, as the hot path writes it into a per-thread buffer.
/// Fixed size, no references: copying it is a few stores.
public struct SpanRecord: Sendable {
    /// Unique in the process, assigned when the span begins (pre-order).
    public var id: UInt64 = 0
    /// The enclosing span on the same thread, or 0.
    public var parent: UInt64 = 0
    /// Ticks at begin and end (nanoseconds once drained).
    public var start: UInt64 = 0
    public var end: UInt64 = 0
    /// Bytes allocated and freed on this thread during the span.
    public var allocated: Int64 = 0
    public var freed: Int64 = 0
    /// Highest process-wide live tensor bytes during the span.
    public var peak: Int64 = 0
    /// Process-wide live tensor bytes when the span ended.
    public var live: Int64 = 0
    /// Module id (forward, backward), string id (range, op, optimizer) or step number (step).
    public var subject: UInt32 = 0
    /// Interned shape lists, 0 when not recorded.
    public var inputShapes: UInt32 = 0
    public var outputShapes: UInt32 = 0
    /// The profiler step the span belongs to.
    public var step: UInt32 = 0
    /// The tracer's index of the thread.
    public var thread: UInt16 = 0
    public var depth: UInt16 = 0
    public var kind: UInt8 = 0
    public var flags: UInt8 = 0
    public var hooks: UInt8 = 0
    public var reserved: UInt8 = 0

    public init() {}

    public var spanKind: SpanKind { SpanKind(rawValue: kind) ?? .range }
}

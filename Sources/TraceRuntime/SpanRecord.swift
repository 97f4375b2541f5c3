import TraceEvents

/// One finished span, as the hot path writes it into a per-thread buffer.
/// Fixed size, no references: copying it is a few stores.
@usableFromInline package struct SpanRecord: Sendable {
    /// Unique in the process, assigned when the span begins (pre-order).
    @usableFromInline package var id: UInt64 = 0
    /// The enclosing span on the same thread, or 0.
    @usableFromInline package var parent: UInt64 = 0
    /// Ticks at begin and end (nanoseconds once drained).
    @usableFromInline package var start: UInt64 = 0
    @usableFromInline package var end: UInt64 = 0
    /// Bytes allocated and freed on this thread during the span.
    @usableFromInline package var allocated: Int64 = 0
    @usableFromInline package var freed: Int64 = 0
    /// Highest process-wide live tensor bytes during the span.
    @usableFromInline package var peak: Int64 = 0
    /// Process-wide live tensor bytes when the span ended.
    @usableFromInline package var live: Int64 = 0
    /// Module id (forward, backward), string id (range, op, optimizer) or step number (step).
    @usableFromInline package var subject: UInt32 = 0
    /// Interned shape lists, 0 when not recorded.
    @usableFromInline package var inputShapes: UInt32 = 0
    @usableFromInline package var outputShapes: UInt32 = 0
    /// The profiler step the span belongs to.
    @usableFromInline package var step: UInt32 = 0
    /// The tracer's index of the thread.
    @usableFromInline package var thread: UInt16 = 0
    @usableFromInline package var depth: UInt16 = 0
    @usableFromInline package var kind: UInt8 = 0
    @usableFromInline package var flags: UInt8 = 0
    @usableFromInline package var hooks: UInt8 = 0
    @usableFromInline package var reserved: UInt8 = 0

    @usableFromInline package init() {}

    @usableFromInline package var spanKind: SpanKind { SpanKind(rawValue: kind) ?? .range }
}

/// Where drained spans go (the SQLite writer implements it).
/// Called on the tracer's drain thread only, never concurrently.
public protocol TraceSink: AnyObject {
    /// Stores finished spans whose `start`/`end` are nanoseconds since the session began.
    /// `dropped` is the number of spans lost so far in the session.
    func write(_ records: UnsafeBufferPointer<SpanRecord>, dropped: UInt64) throws
}

/// Where drained spans go (the SQLite writer implements it).
/// Called on the session's drain thread, and on the thread that flushes or stops the
/// session; never concurrently.
package protocol TraceSink: AnyObject {
    /// Stores finished spans whose `start`/`end` are nanoseconds since the session began.
    /// `dropped` is the number of spans lost so far in the session.
    func write(_ records: UnsafeBufferPointer<SpanRecord>, dropped: UInt64) throws
    /// Called when a drain found nothing to write (housekeeping such as checkpoints).
    func idle() throws
}

extension TraceSink {
    /// Nothing to do by default.
    package func idle() throws {}
}

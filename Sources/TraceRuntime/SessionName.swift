import CTracing

/// A name interned in the active session, looked up once per session: for names used on
/// every step (optimizer spans). Not thread-safe; keep one per object that uses it.
package struct SessionName {
    /// The name as spans show it.
    package let text: String
    private var epoch: UInt32 = 0
    private var cached: UInt32 = 0

    package init(_ text: String) { self.text = text }

    /// The name's id in the active session (0 when none is active).
    package mutating func id() -> UInt32 {
        let current = ct_get_epoch()
        if current != epoch || cached == 0 {
            cached = Tracer.current?.names.intern(text) ?? 0
            epoch = current
        }
        return cached
    }
}

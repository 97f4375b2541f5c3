import CTracing
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Owns the per-thread trace states and publishes the one active session.
@usableFromInline package enum Tracer {
    // Sendable by hand: the pointers are only dereferenced under `contexts`' lock or by their
    // own thread (its ring head and frames) and the drain (the ring tail), as ThreadTrace says.
    struct Contexts: @unchecked Sendable {
        var live: [UnsafeMutablePointer<ThreadTrace>] = []
        var nextIndex: UInt16 = 0
        /// Drops counted on threads that have exited and been freed.
        var retiredDrops: UInt64 = 0
        /// Threads that exited and were freed, by index: their spans still need a name.
        var retired: [UInt16: Int32] = [:]
    }
    static let contexts = Mutex(Contexts())

    /// Every session ever published. A thread may still hold the unretained reference it
    /// loaded from `ct_session` when the session stops, so a session is never freed; a
    /// stopped one lets go of its sink, and what is left is a few small tables.
    static let published = Mutex<[TraceSession]>([])

    /// The active session, if any: one acquire load, no reference counting.
    @inlinable package static var current: TraceSession? {
        guard let raw = ct_get_session() else { return nil }
        return Unmanaged<TraceSession>.fromOpaque(raw).takeUnretainedValue()
    }

    /// Makes `session` the active one (fails when another is).
    static func publish(_ session: TraceSession) throws {
        try published.withLock { all in
            guard ct_get_session() == nil else { throw TraceSession.Failure.alreadyActive }
            all.append(session)
            ct_set_session(Unmanaged.passUnretained(session).toOpaque())
        }
    }

    /// Clears the active session if it is `session`.
    static func unpublish(_ session: TraceSession) {
        published.withLock { _ in
            if ct_get_session() == Unmanaged.passUnretained(session).toOpaque() { ct_set_session(nil) }
        }
    }

    /// Creates and registers the calling thread's state (first traced call on a thread).
    @usableFromInline static func registerCurrentThread() -> UnsafeMutablePointer<ThreadTrace> {
        let trace = contexts.withLock { c -> UnsafeMutablePointer<ThreadTrace> in
            let p = UnsafeMutablePointer<ThreadTrace>.allocate(capacity: 1)
            p.initialize(to: ThreadTrace(index: c.nextIndex))
            c.nextIndex &+= 1
            c.live.append(p)
            return p
        }
        ct_state().pointee.context = UnsafeMutableRawPointer(trace)
        ct_register_thread_exit(threadExited, UnsafeMutableRawPointer(trace))
        ct_crash_add_thread(trace, trace.pointee.index, trace.pointee.osThreadID)
        return trace
    }

    /// All contexts, for the drain.
    static func snapshot() -> [UnsafeMutablePointer<ThreadTrace>] { contexts.withLock { $0.live } }

    /// Frees states of exited threads whose buffers are empty.
    static func reapExited() {
        contexts.withLock { c in
            c.live.removeAll { p in
                let exited = ct_load_acquire(p.pointee.shared + 24) == 1
                let empty = ct_load_acquire(p.pointee.shared) == ct_load_acquire(p.pointee.shared + 8)
                guard exited && empty else { return false }
                // A crash record being written may be reading this state: keep it (the process is dying).
                guard ct_crash_remove_thread(p) != 0 else { return false }
                c.retiredDrops &+= ct_load_acquire(p.pointee.shared + 16)
                c.retired[p.pointee.index] = p.pointee.osThreadID
                p.pointee.deallocate()
                p.deallocate()
                return true
            }
        }
    }

    /// Spans dropped so far in the process.
    static func totalDropped() -> UInt64 {
        contexts.withLock { c in c.live.reduce(c.retiredDrops) { $0 &+ ct_load_acquire($1.pointee.shared + 16) } }
    }

    /// The tracer's index and the kernel's id of every thread that has traced, exited ones included.
    package static func threads() -> [(index: UInt16, osThreadID: Int32)] {
        contexts.withLock { c in
            let live = c.live.map { ($0.pointee.index, $0.pointee.osThreadID) }
            let liveIndexes = Set(live.map(\.0))
            return c.retired.filter { !liveIndexes.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } + live
        }
    }
}

private func threadExited(_ raw: UnsafeMutableRawPointer?) {
    guard let raw else { return }
    let trace = raw.assumingMemoryBound(to: ThreadTrace.self)
    ct_state().pointee.context = nil
    ct_crash_thread_exit()
    ct_store_release(trace.pointee.shared + 24, 1)
}

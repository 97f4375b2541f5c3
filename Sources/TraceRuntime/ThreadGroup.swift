import CTracing
import Synchronization

/// Threads that a session records instead of the whole process: a program (or a test) that
/// traces its own work while other threads run modules of their own.
public final class ThreadGroup: Sendable {
    private static let ids = Atomic<UInt32>(1)

    /// Never 0 (0 stands for every thread).
    public let id: UInt32

    /// A new group with no thread enrolled.
    public init() { id = ThreadGroup.ids.wrappingAdd(1, ordering: .relaxed).oldValue }

    /// Makes the calling thread's calls part of every session that records this group
    /// (a thread belongs to one group at a time).
    public func enrollCurrentThread() { ct_state().pointee.group = id }
}

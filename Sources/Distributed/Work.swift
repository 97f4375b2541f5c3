import Dispatch
import Synchronization

/// A collective in flight, like PyTorch's `Work`: `wait()` returns once it finished on
/// this rank, or throws the error (or timeout) that ended it.
public final class Work: @unchecked Sendable {
    /// What it is, for errors and logs: `all_reduce (bucket 1, 262144 float32)`.
    public let collective: String
    private let finished = DispatchSemaphore(value: 0)
    private let state = Mutex<(done: Bool, failure: DistributedError?)>((false, nil))
    /// Monotonic nanoseconds: queued by the caller, started on the communication thread,
    /// transfer begun (once the last rank entered, when measured), finished.
    public internal(set) var queuedNs: UInt64 = 0
    /// When the communication thread started it (monotonic ns).
    public internal(set) var startedNs: UInt64 = 0
    /// When the transfer began: when the last rank entered (monotonic ns; with tracing on,
    /// else `startedNs`).
    public internal(set) var transferNs: UInt64 = 0
    /// When it finished on this rank (monotonic ns).
    public internal(set) var finishedNs: UInt64 = 0

    init(_ collective: String) { self.collective = collective }

    /// A work that already finished (size-1 groups).
    static func completed(_ collective: String, at now: UInt64) -> Work {
        let work = Work(collective)
        (work.queuedNs, work.startedNs, work.transferNs, work.finishedNs) = (now, now, now, now)
        work.complete(nil)
        return work
    }

    func complete(_ failure: DistributedError?) {
        state.withLock { $0.failure = failure }
        finished.signal()
    }

    /// Whether it finished (without blocking).
    public var isCompleted: Bool {
        if state.withLock({ $0.done }) { return true }
        guard finished.wait(timeout: .now()) == .success else { return false }
        state.withLock { $0.done = true }
        return true
    }

    /// Blocks until the collective finished on this rank; rethrows its failure. The
    /// communication thread enforces the group's timeout, so this never waits forever.
    public func wait() throws {
        if !state.withLock({ $0.done }) {
            finished.wait()
            state.withLock { $0.done = true }
        }
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    /// Nanoseconds spent waiting for the slowest rank (0 unless measured), and transferring.
    public var waitNs: UInt64 { transferNs >= startedNs ? transferNs - startedNs : 0 }
    /// Nanoseconds spent transferring.
    public var transferDurationNs: UInt64 { finishedNs >= transferNs ? finishedNs - transferNs : 0 }
}

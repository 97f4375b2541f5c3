/// Work to run when the current backward pass finished (PyTorch's
/// `Variable._execution_engine.queue_callback`): a gradient hook that started something
/// asynchronous (a bucket's all-reduce) queues the wait for it here.
public final class BackwardCallbacks: @unchecked Sendable {
    var callbacks: [() throws -> Void] = []

    @TaskLocal static var current: BackwardCallbacks?

    /// Queues `callback` to run once the backward pass that is running on this thread ends,
    /// before `backward()` returns; its error is thrown from `backward()`. Returns false when
    /// no backward pass is running.
    @discardableResult
    public static func queue(_ callback: @escaping () throws -> Void) -> Bool {
        guard let list = current else { return false }
        list.callbacks.append(callback)
        return true
    }

    /// Runs `body` as one backward pass, then its queued callbacks in order. A callback may
    /// queue more; all run even if one throws, and the first error is rethrown.
    static func run(_ body: () throws -> Void) throws {
        let list = BackwardCallbacks()
        var failure: (any Error)?
        do { try $current.withValue(list) { try body() } } catch { failure = error }
        var i = 0
        while i < list.callbacks.count {
            do { try list.callbacks[i]() } catch { failure = failure ?? error }
            i += 1
        }
        if let failure { throw failure }
    }
}

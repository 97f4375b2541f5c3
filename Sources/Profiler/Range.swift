import Synchronization
import TraceRuntime

/// User ranges (PyTorch's `record_function`): a named span around any code.
extension Profiler {
    private static let names = Mutex<[String: UInt32]>([:])

    /// Runs `body` inside a span named `name` when tracing is on.
    public static func range<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        guard TraceFlags.current.contains(.spans) else { return try body() }
        let id = names.withLock { cache in
            if let id = cache[name] { return id }
            let id = Interner.shared.intern(name)
            cache[name] = id
            return id
        }
        let token = SpanTracer.begin(.range, subject: id)
        defer { SpanTracer.end(token) }
        return try body()
    }
}

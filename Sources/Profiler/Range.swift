import TraceRuntime

/// User ranges (PyTorch's `record_function`): a named span around any code.
extension Profiler {
    /// Runs `body` inside a span named `name` when tracing is on.
    public static func range<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        guard TraceFlags.current.contains(.spans), let session = Tracer.current else { return try body() }
        let token = SpanTracer.begin(.range, subject: session.names.intern(name))
        defer { SpanTracer.end(token) }
        return try body()
    }
}

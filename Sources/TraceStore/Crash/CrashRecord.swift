import TraceEvents

/// What the flight recorder saw when a traced process died: the signal, and for every traced
/// thread the spans that were open (outermost first) and the last spans it finished.
package struct CrashRecord: Sendable, Equatable {
    /// One span of a thread's stack or of its last finished spans.
    package struct Span: Sendable, Equatable {
        package var spanID: Int64
        /// The span kind's name (`forward`, `backward`, `range`, `step`, ...).
        package var kind: String
        /// The module's path (its type for a root), the range or op name, or `ProfilerStep#N`.
        package var name: String
        /// The module's type, for module spans.
        package var moduleType: String?
        /// `[8,64,128]`, several tensors separated by `;`; nil when not recorded.
        package var inputShapes: String?
        package var step: Int64
        package var depth: Int64
        /// Nanoseconds from the run's time zero to the span's start.
        package var startNanoseconds: Int64
        /// How long it ran; for an open span, how long it had been open when the process died.
        package var durationNanoseconds: Int64

        /// True for a module's forward or backward span.
        package var isModule: Bool { kind == SpanKind.forward.name || kind == SpanKind.backward.name }

        /// `forward` or `backward` for module spans, else nil.
        package var phase: String? { isModule ? kind : nil }

        package init(
            spanID: Int64, kind: String, name: String, moduleType: String?, inputShapes: String?, step: Int64, depth: Int64,
            startNanoseconds: Int64, durationNanoseconds: Int64
        ) {
            self.spanID = spanID
            self.kind = kind
            self.name = name
            self.moduleType = moduleType
            self.inputShapes = inputShapes
            self.step = step
            self.depth = depth
            self.startNanoseconds = startNanoseconds
            self.durationNanoseconds = durationNanoseconds
        }
    }

    /// One traced thread at the moment of the crash.
    package struct ThreadStack: Sendable, Equatable {
        /// The tracer's index of the thread (`threads.id`, `spans.thread`).
        package var index: Int64
        package var osThreadID: Int64
        /// True for the thread that received the signal.
        package var crashed: Bool
        /// Spans open when the process died, outermost first.
        package var open: [Span]
        /// The last spans it finished (at most 32), oldest first.
        package var last: [Span]
    }

    package var runID: Int64
    package var signal: Int64
    /// The signal's `si_code` (why the kernel sent it) and the faulting address, if any.
    package var code: Int64
    package var address: Int64
    package var pid: Int64
    /// The kernel's id of the thread that received the signal.
    package var osThreadID: Int64
    /// Nanoseconds from the run's time zero to the crash.
    package var crashNanoseconds: Int64
    package var threads: [ThreadStack]

    /// `SIGSEGV`, or `signal N` for one the recorder does not name.
    package var signalName: String { CrashRecord.signalName(signal) }

    static func signalName(_ signal: Int64) -> String {
        let names: [Int64: String] = [4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 11: "SIGSEGV"]
        return names[signal] ?? "signal \(signal)"
    }

    /// The thread that received the signal, if it was traced.
    package var crashedThread: ThreadStack? { threads.first(where: \.crashed) }

    /// The innermost module span open on the thread that died: where it crashed.
    package var crashedIn: Span? { crashedThread?.open.last(where: \.isModule) }

    /// `crashed in `blocks.1.attn` (MultiheadSelfAttention), forward, input [8,64,128], step 412 — signal SIGSEGV`.
    package var summary: String {
        guard let span = crashedIn else {
            let where_ = crashedThread.map { "thread \($0.index), outside any traced module" } ?? "an untraced thread"
            return "crashed in \(where_) — signal \(signalName)"
        }
        var parts = ["crashed in `\(span.name)` (\(span.moduleType ?? "?"))", span.kind]
        if let shapes = span.inputShapes { parts.append("input \(shapes)") }
        parts.append("step \(span.step)")
        return parts.joined(separator: ", ") + " — signal \(signalName)"
    }
}

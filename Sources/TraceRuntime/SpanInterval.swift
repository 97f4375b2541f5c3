import CTracing
import TraceEvents

extension SpanTracer {
    /// Writes a finished span, from `startTicks` to `endTicks`, as a child of the span open on
    /// this thread: for an interval known only afterwards (a collective's measured wait, split
    /// off once every rank's entry time is known). Call only when spans are recorded.
    package static func record(_ kind: SpanKind, subject: UInt32, startTicks: UInt64, endTicks: UInt64) {
        let token = begin(kind, subject: subject)
        guard token >= 0 else { return }
        let trace = ThreadTrace.current
        let frame = trace.pointee.frames + Int(token)
        if frame.pointee.flags & SpanFlag.memory != 0 {
            // Undo what `begin` did to the process-wide peak window; this span carries no memory.
            _ = closeWindow(frame)
            frame.pointee.flags &= ~SpanFlag.memory
        }
        frame.pointee.start = startTicks
        trace.pointee.depth = Int(token)
        finish(frame, trace, outputShapes: 0, hooks: 0, failed: false, at: max(startTicks, endTicks))
    }
}

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
            let state = ct_state()!
            state.pointee.windowPeak = max(frame.pointee.savedPeak, state.pointee.windowPeak)
            frame.pointee.flags &= ~SpanFlag.memory
        }
        frame.pointee.start = startTicks
        trace.pointee.depth = Int(token)
        let flags = ct_get_flags()
        guard frame.pointee.epoch == ct_get_epoch(), flags & TraceFlags.spans.rawValue != 0,
            flags & TraceFlags.silent.rawValue == 0, let slot = trace.pointee.reserve()
        else { return }
        slot.pointee.id = frame.pointee.id
        slot.pointee.parent = frame.pointee.parent
        slot.pointee.start = startTicks
        slot.pointee.end = max(startTicks, endTicks)
        (slot.pointee.allocated, slot.pointee.freed, slot.pointee.peak, slot.pointee.live) = (0, 0, 0, 0)
        slot.pointee.subject = subject
        slot.pointee.inputShapes = 0
        slot.pointee.outputShapes = 0
        slot.pointee.step = frame.pointee.step
        slot.pointee.thread = trace.pointee.index
        slot.pointee.depth = frame.pointee.depth
        slot.pointee.kind = frame.pointee.kind
        slot.pointee.flags = frame.pointee.flags
        slot.pointee.hooks = 0
        trace.pointee.commit()
    }
}

import CTracing
import TraceEvents

/// The hot path: open and close spans on the calling thread.
///
/// `begin` returns a token (the stack slot) that `end` takes back; a negative token
/// means nothing was opened. Spans opened in an earlier session, or while recording
/// was off, are closed without being written.
@usableFromInline package enum SpanTracer {
    /// Opens a span. Call only when `TraceFlags.current.contains(.spans)`.
    @inlinable package static func begin(
        _ kind: SpanKind, subject: UInt32, flags: UInt8 = 0, inputShapes: UInt32 = 0
    ) -> Int32 {
        open(kind, subject: subject, flags: flags, inputShapes: inputShapes, at: nil)
    }

    /// Opens a span that starts at `time` (`Clock.ticks()`, taken by the caller for several
    /// spans that end and begin at one point, as backward spans do when the module changes).
    @inlinable package static func begin(_ kind: SpanKind, subject: UInt32, at time: UInt64) -> Int32 {
        open(kind, subject: subject, flags: 0, inputShapes: 0, at: time)
    }

    @inlinable @inline(__always) static func open(
        _ kind: SpanKind, subject: UInt32, flags: UInt8, inputShapes: UInt32, at time: UInt64?
    ) -> Int32 {
        let trace = ThreadTrace.current
        let depth = trace.pointee.depth
        guard depth < ThreadTrace.frameCapacity else {
            trace.pointee.countDropped()
            return -1
        }
        let epoch = ct_get_epoch()
        let frame = trace.pointee.frames + depth
        let below = depth > 0 && frame[-1].epoch == epoch
        if below {
            frame.pointee.parent = frame[-1].id
            frame.pointee.depth = frame[-1].depth &+ 1
        } else {
            frame.pointee.parent = 0
            frame.pointee.depth = 0
        }
        frame.pointee.innermost = innermost(of: frame, below: below, kind, subject: subject)
        start(frame, trace, epoch: epoch, kind, subject: subject, flags: flags, inputShapes: inputShapes)
        trace.pointee.depth = depth &+ 1
        frame.pointee.start = time ?? Clock.ticks()
        return Int32(truncatingIfNeeded: depth)
    }

    /// The innermost module while a span of `kind` and `subject` in `frame` is on top: its own
    /// for a forward span, else that of the frame below (when `below`: it is of the same session).
    @inlinable @inline(__always) static func innermost(
        of frame: UnsafeMutablePointer<Frame>, below: Bool, _ kind: SpanKind, subject: UInt32
    ) -> UInt32 {
        kind == .forward ? subject : below ? frame[-1].innermost : 0
    }

    /// Ends the memory window of the span in `frame`: the highest live bytes seen inside it (which
    /// it returns) count for the window of the span around it again.
    @inlinable @inline(__always) static func closeWindow(_ frame: UnsafeMutablePointer<Frame>) -> Int64 {
        let state = ct_state()!
        let peak = state.pointee.windowPeak
        state.pointee.windowPeak = max(frame.pointee.savedPeak, peak)
        return peak
    }

    /// Fills `frame` (whose parent and depth are set) for a span that begins now, but its time.
    @inlinable @inline(__always) static func start(
        _ frame: UnsafeMutablePointer<Frame>, _ trace: UnsafeMutablePointer<ThreadTrace>, epoch: UInt32,
        _ kind: SpanKind, subject: UInt32, flags: UInt8, inputShapes: UInt32
    ) {
        frame.pointee.id = trace.pointee.takeID(epoch: epoch)
        frame.pointee.epoch = epoch
        frame.pointee.subject = subject
        frame.pointee.inputShapes = inputShapes
        frame.pointee.kind = kind.rawValue
        frame.pointee.step = ct_get_step()
        var spanFlags = flags
        if ct_get_flags() & TraceFlags.memory.rawValue != 0 {
            let state = ct_state()!
            frame.pointee.allocated = state.pointee.allocated
            frame.pointee.freed = state.pointee.freed
            frame.pointee.savedPeak = state.pointee.windowPeak
            state.pointee.windowPeak = ct_get_live_bytes()
            spanFlags |= SpanFlag.memory
        }
        frame.pointee.flags = spanFlags
    }

    /// Closes the span `token` (and any left open above it) and writes its record.
    @inlinable package static func end(
        _ token: Int32, outputShapes: UInt32 = 0, hooks: UInt8 = 0, failed: Bool = false
    ) {
        close(token, outputShapes: outputShapes, hooks: hooks, failed: failed, at: Clock.ticks())
    }

    /// Closes the span `token` at `time` (see `begin(_:subject:at:)`).
    @inlinable package static func end(_ token: Int32, at time: UInt64) {
        close(token, outputShapes: 0, hooks: 0, failed: false, at: time)
    }

    @inlinable @inline(__always) static func close(
        _ token: Int32, outputShapes: UInt32, hooks: UInt8, failed: Bool, at now: UInt64
    ) {
        guard token >= 0 else { return }
        let trace = ThreadTrace.current
        let frame = trace.pointee.frames + Int(token)
        trace.pointee.depth = Int(token)
        finish(frame, trace, outputShapes: outputShapes, hooks: hooks, failed: failed, at: now)
    }

    /// Ends the span of `frame` at `now` and writes its record (unless it belongs to an earlier
    /// session or recording is off).
    @inlinable @inline(__always) static func finish(
        _ frame: UnsafeMutablePointer<Frame>, _ trace: UnsafeMutablePointer<ThreadTrace>, outputShapes: UInt32,
        hooks: UInt8, failed: Bool, at now: UInt64
    ) {
        var allocated: Int64 = 0
        var freed: Int64 = 0
        var peak: Int64 = 0
        var live: Int64 = 0
        if frame.pointee.flags & SpanFlag.memory != 0 {
            peak = closeWindow(frame)
            let state = ct_state()!
            allocated = state.pointee.allocated &- frame.pointee.allocated
            freed = state.pointee.freed &- frame.pointee.freed
            live = ct_get_live_bytes()
        }
        let flags = ct_get_flags()
        guard frame.pointee.epoch == ct_get_epoch(), flags & TraceFlags.spans.rawValue != 0,
            flags & TraceFlags.silent.rawValue == 0, let slot = trace.pointee.reserve()
        else { return }
        // Written in place: the record is never built on the stack and copied.
        slot.pointee.id = frame.pointee.id
        slot.pointee.parent = frame.pointee.parent
        slot.pointee.start = frame.pointee.start
        slot.pointee.end = now
        slot.pointee.allocated = allocated
        slot.pointee.freed = freed
        slot.pointee.peak = peak
        slot.pointee.live = live
        slot.pointee.subject = frame.pointee.subject
        slot.pointee.inputShapes = frame.pointee.inputShapes
        slot.pointee.outputShapes = outputShapes
        slot.pointee.step = frame.pointee.step
        slot.pointee.thread = trace.pointee.index
        slot.pointee.depth = frame.pointee.depth
        slot.pointee.kind = frame.pointee.kind
        slot.pointee.flags = frame.pointee.flags | (failed ? SpanFlag.failed : 0)
        slot.pointee.hooks = hooks
        trace.pointee.commit()
    }

    /// Closes span `token` (and any left open above it) at `time` and opens a sibling of it that
    /// starts there: one call where backward moves from one layer to the next.
    @inlinable package static func replace(_ token: Int32, with kind: SpanKind, subject: UInt32, at time: UInt64) -> Int32 {
        let epoch = ct_get_epoch()
        let trace = ThreadTrace.current
        guard token >= 0, trace.pointee.frames[Int(token)].epoch == epoch else {
            close(token, outputShapes: 0, hooks: 0, failed: false, at: time)
            return open(kind, subject: subject, flags: 0, inputShapes: 0, at: time)
        }
        // The sibling takes the closed span's frame: the same parent, depth and session.
        let frame = trace.pointee.frames + Int(token)
        trace.pointee.depth = Int(token)
        finish(frame, trace, outputShapes: 0, hooks: 0, failed: false, at: time)
        frame.pointee.innermost = innermost(of: frame, below: token > 0 && frame[-1].epoch == epoch, kind, subject: subject)
        start(frame, trace, epoch: epoch, kind, subject: subject, flags: 0, inputShapes: 0)
        trace.pointee.depth = Int(token) &+ 1
        frame.pointee.start = time
        return token
    }

    /// Closes span `token` (and any left open above it) without writing it.
    @usableFromInline package static func discard(_ token: Int32) {
        guard token >= 0 else { return }
        let trace = ThreadTrace.current
        let frame = trace.pointee.frames + Int(token)
        if frame.pointee.flags & SpanFlag.memory != 0 { _ = closeWindow(frame) }
        trace.pointee.depth = Int(token)
    }

    /// True when this thread opened another span after span `token` began.
    @usableFromInline package static func hasSpans(after token: Int32) -> Bool {
        guard token >= 0 else { return false }
        let trace = ThreadTrace.current
        return trace.pointee.nextID != trace.pointee.frames[Int(token)].id &+ 1
    }

    /// Interns the shapes in a complete `key` for the calling thread.
    @inlinable package static func intern(_ key: inout ShapeKey) -> UInt32 {
        ThreadTrace.current.pointee.intern(&key)
    }

    /// The module whose wrapper is innermost on this thread (0 if none), looking
    /// through backward, range and op spans.
    @inlinable package static var innermostModule: UInt32 {
        guard let raw = ct_state().pointee.context else { return 0 }
        let trace = raw.assumingMemoryBound(to: ThreadTrace.self)
        let depth = trace.pointee.depth
        guard depth > 0 else { return 0 }
        let top = trace.pointee.frames + (depth - 1)
        return top.pointee.epoch == ct_get_epoch() ? top.pointee.innermost : 0
    }

    /// True when the module stack of this thread can be judged: it has a span open in the
    /// current session, or it has none and began after the session did (or started it). A
    /// thread that was inside module calls when tracing started has no spans for them, and its
    /// calls cannot be judged.
    @inlinable package static var canJudgeThread: Bool {
        guard let raw = ct_state().pointee.context else { return judgeNewThread() }
        let trace = raw.assumingMemoryBound(to: ThreadTrace.self)
        let depth = trace.pointee.depth
        if depth > 0 { return trace.pointee.frames[depth - 1].epoch == ct_get_epoch() }
        return judgeNewThread()
    }

    /// For a thread with no open span: whether it began after the session (or started it).
    @usableFromInline package static func judgeNewThread() -> Bool {
        guard let session = Tracer.current else { return false }
        let trace = ThreadTrace.current
        if trace.pointee.judgedEpoch != session.epoch {
            trace.pointee.judgedEpoch = session.epoch
            trace.pointee.judgeable = session.threadBeganInSession(trace.pointee.osThreadID)
        }
        return trace.pointee.judgeable
    }

    /// True when module `id`'s wrapper is open anywhere on this thread's stack.
    @inlinable package static func isActive(module id: UInt32) -> Bool {
        guard let raw = ct_state().pointee.context else { return false }
        let trace = raw.assumingMemoryBound(to: ThreadTrace.self)
        var i = trace.pointee.depth - 1
        let epoch = ct_get_epoch()
        while i >= 0 {
            let f = trace.pointee.frames + i
            if f.pointee.epoch != epoch { return false }
            if f.pointee.kind == SpanKind.forward.rawValue && f.pointee.subject == id { return true }
            i -= 1
        }
        return false
    }

    /// Module ids of the open forward spans on this thread, outermost first.
    @usableFromInline package static func moduleStack() -> [UInt32] {
        guard let raw = ct_state().pointee.context else { return [] }
        let trace = raw.assumingMemoryBound(to: ThreadTrace.self)
        let epoch = ct_get_epoch()
        var ids: [UInt32] = []
        for i in 0..<trace.pointee.depth {
            let f = trace.pointee.frames[i]
            if f.epoch == epoch && f.kind == SpanKind.forward.rawValue { ids.append(f.subject) }
        }
        return ids
    }
}

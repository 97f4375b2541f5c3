import CTracing
import TraceEvents

/// The flight recorder's Swift side: arms the C handler (`ctcrash.h`) for a run, with the memory
/// layout of the structures it reads, and feeds it names as they are first seen (module trees as
/// they are described, strings and shape lists as they are interned), never per span.
package enum CrashRecorder {
    /// Where a crash of a run traced to `tracePath` is recorded.
    package static func crashPath(forTrace tracePath: String) -> String { tracePath + ".crash" }

    /// Arms the recorder for run `runID` of `tracePath`, for the session about to start (the next
    /// epoch until `begin` says which). Call before the session starts: it clears the names of the
    /// previous one.
    package static func arm(tracePath: String, runID: Int64) {
        var layout = CrashRecorder.layout
        let calibration = Clock.calibration
        var clock = ct_crash_clock(
            nsPerTick: calibration.scale, tickOrigin: calibration.tickOrigin, nsOrigin: calibration.nanosecondOrigin,
            sessionStartNs: Clock.monotonicNanoseconds())
        _ = ct_crash_arm(crashPath(forTrace: tracePath), runID, ct_get_epoch() &+ 1, ct_peek_span_block(), &layout, &clock)
    }

    /// The armed run's session has started: its spans are those of `session`'s epoch, and times in
    /// the record count from its time zero, as the trace's do.
    package static func begin(_ session: TraceSession) { ct_crash_begin_session(session.epoch, session.startMonotonic) }

    /// Disarms the recorder: run `runID` ended without crashing.
    package static func disarm(runID: Int64) { ct_crash_disarm(runID) }

    /// True while a run is armed.
    package static var isArmed: Bool { ct_crash_armed() != 0 }

    static func named(module info: ModuleInfo) { ct_crash_name_module(info.id, info.path, info.type) }
    static func named(string id: UInt32, _ text: String) { ct_crash_name_string(id, text) }
    static func named(shapes id: UInt32, _ tokens: [Int32]) { ct_crash_name_shapes(id, ShapeList(tokens: tokens).text) }

    /// Offsets of `ThreadTrace`, `Frame` and `SpanRecord` fields, measured here so that the C
    /// handler never assumes Swift's layout.
    static let layout: ct_crash_layout = {
        func at<Root, Value>(_ path: KeyPath<Root, Value>) -> UInt32 { UInt32(MemoryLayout<Root>.offset(of: path)!) }
        return ct_crash_layout(
            traceFrames: at(\ThreadTrace.frames), traceDepth: at(\ThreadTrace.depth), traceRing: at(\ThreadTrace.ring),
            traceShared: at(\ThreadTrace.shared), frameCapacity: UInt32(ThreadTrace.frameCapacity),
            ringCapacity: UInt32(ThreadTrace.ringCapacity), frameStride: UInt32(MemoryLayout<Frame>.stride),
            frameID: at(\Frame.id), frameStart: at(\Frame.start), frameEpoch: at(\Frame.epoch),
            frameSubject: at(\Frame.subject), frameShapes: at(\Frame.inputShapes), frameStep: at(\Frame.step),
            frameDepth: at(\Frame.depth), frameKind: at(\Frame.kind), frameFlags: at(\Frame.flags),
            recordStride: UInt32(MemoryLayout<SpanRecord>.stride), recordID: at(\SpanRecord.id),
            recordStart: at(\SpanRecord.start), recordEnd: at(\SpanRecord.end), recordSubject: at(\SpanRecord.subject),
            recordShapes: at(\SpanRecord.inputShapes), recordStep: at(\SpanRecord.step), recordDepth: at(\SpanRecord.depth),
            recordKind: at(\SpanRecord.kind), recordFlags: at(\SpanRecord.flags))
    }()
}

extension SpanTracer {
    /// The subject (module id for a forward span) of span `token`, still open on this thread.
    package static func openSubject(_ token: Int32) -> UInt32 {
        guard token >= 0 else { return 0 }
        return ThreadTrace.current.pointee.frames[Int(token)].subject
    }
}

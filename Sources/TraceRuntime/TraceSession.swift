import CTracing
import Synchronization
import TraceEvents

#if canImport(Glibc)
    import Glibc
#endif

/// One recording, and everything that belongs to it: the flags, the module registry, the
/// bypass findings, the interned names, the graph recorder and the drain thread that moves
/// spans to the sink. At most one session is active in a process; threads reach it through
/// `Tracer.current`, one published reference.
///
/// Threads: `init`, `setFlags`, `discard`, `flush` and `stop` may be called from any thread
/// (the profiler's); the sink is called on the session's drain thread only, and by `flush`
/// and `stop` on the calling thread, never concurrently (a lock serializes drains).
@usableFromInline package final class TraceSession: Sendable {
    package enum Failure: Error, CustomStringConvertible {
        case alreadyActive
        package var description: String { "a trace session is already active" }
    }

    /// What the session has done so far.
    package struct Statistics: Sendable {
        package var written: UInt64 = 0
        package var dropped: UInt64 = 0
        package var discarded: UInt64 = 0
        package var batches: UInt64 = 0
    }

    struct State {
        var flags: TraceFlags
        var discardSteps: Set<UInt32> = []
        var stats = Statistics()
        var failure: String?
        var stopping = false
    }

    /// Modules described in this session (paths, types, parents, parameters).
    package let modules: ModuleRegistry
    /// Bypasses seen in this session.
    package let findings = BypassLog()
    /// Names and shapes interned in this session; span records refer to them by id.
    package let names: Interner
    /// The session's number: `ct_epoch` while it is active. Spans opened in other epochs are not its.
    package let epoch: UInt32
    /// The threads it records; nil: every thread of the process.
    package let threads: ThreadGroup?
    /// Monotonic and wall-clock nanoseconds when the session began; span times are relative to them.
    package let startMonotonic: UInt64
    package let startWall: UInt64

    /// The kernel's ids of the threads that existed when the session began, but the one that
    /// began it: their module calls may have started before tracing did.
    let threadsBefore: Set<Int32>
    let state: Mutex<State>
    let graph = Mutex(RecorderBox())
    let drain: DrainThread?

    /// Starts recording with `flags`: every thread's calls, or only those of `threads`. Spans
    /// reach `sink` every `drainInterval`; with no sink they are never written (`trace(_:_:)`
    /// records only a graph). `modules` and `names` may be handed in so that the sink can
    /// share them.
    package init(
        sink: TraceSink?, flags: TraceFlags, threads: ThreadGroup? = nil, modules: ModuleRegistry = ModuleRegistry(),
        names: Interner = Interner(), drainInterval: Duration = .milliseconds(50)
    ) throws {
        self.modules = modules
        self.names = names
        self.threads = threads
        state = Mutex(State(flags: flags))
        _ = Clock.calibration
        startMonotonic = Clock.monotonicNanoseconds()
        startWall = Clock.wallNanoseconds()
        epoch = ct_get_epoch() &+ 1
        threadsBefore = ThreadCensus.threadIDs().subtracting([ct_thread_id()])
        drain = sink.map { DrainThread(sink: $0, interval: drainInterval) }
        try Tracer.publish(self)
        ct_set_epoch(epoch)
        ct_set_thread_group(threads?.id ?? 0)
        drain?.start(for: self)
        TraceFlags.set(flags)
    }

    /// True when the thread with kernel id `osThreadID` began after this session did (or began it).
    package func threadBeganInSession(_ osThreadID: Int32) -> Bool { !threadsBefore.contains(osThreadID) }

    /// True while this session is the active one.
    package var isActive: Bool { Tracer.current === self }

    /// Changes what is recorded (a schedule moving between phases). Empty stops recording
    /// without ending the session.
    package func setFlags(_ flags: TraceFlags) {
        state.withLock { s in
            guard !s.stopping, s.failure == nil else { return }
            s.flags = flags
            TraceFlags.set(flags)
        }
    }

    package var flags: TraceFlags { state.withLock { $0.flags } }

    /// Spans of `step` are drained and thrown away (a schedule's warm-up steps).
    package func discard(step: UInt32) { _ = state.withLock { $0.discardSteps.insert(step) } }

    /// The current profiler step, stamped on every span that begins from now on
    /// (a C atomic: the hot path reads it on every span).
    package static var step: UInt32 {
        get { ct_get_step() }
        set { ct_set_step(newValue) }
    }

    package var statistics: Statistics {
        var s = state.withLock { $0.stats }
        s.dropped = drain?.dropped ?? 0
        return s
    }

    /// Why the sink stopped accepting spans, if it did.
    package var failure: String? { state.withLock { $0.failure } }

    /// The static-graph recorder ops report to while a graph is captured. Typed `AnyObject`
    /// because the recorder is Tensors' `GraphRecorder`, a layer above this one.
    package var graphRecorder: AnyObject? {
        get { graph.withLock { $0.object } }
        set { graph.withLock { $0 = RecorderBox(object: newValue) } }
    }

    /// Moves everything buffered so far to the sink now.
    package func flush() { drain?.drainNow(self) }

    /// Stops recording, drains what is left, lets go of the sink and returns the final statistics.
    @discardableResult
    package func stop() -> Statistics {
        let wasStopping = state.withLock { s -> Bool in
            defer { s.stopping = true }
            return s.stopping
        }
        if !wasStopping {
            if isActive { TraceFlags.set([]) }
            drain?.stop(self)
            graphRecorder = nil
            Tracer.unpublish(self)
        }
        return statistics
    }

    /// Sendable by hand: the recorder ignores calls from threads other than the one it records.
    struct RecorderBox: @unchecked Sendable { var object: AnyObject? }

    /// Records that the sink failed: recording stops, the program goes on.
    func sinkFailed(_ error: any Error) {
        state.withLock { s in
            s.failure = "\(error)"
            s.flags = []
        }
        if isActive { TraceFlags.set([]) }
        StandardError.write("tracewell: tracing stopped: \(error); the program continues without tracing\n")
    }
}

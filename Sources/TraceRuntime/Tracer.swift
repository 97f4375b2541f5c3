import CTracing
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Owns the per-thread trace states and the one active session.
public enum Tracer {
    struct Contexts: @unchecked Sendable {
        var live: [UnsafeMutablePointer<ThreadTrace>] = []
        var nextIndex: UInt16 = 0
        /// Drops counted on threads that have exited and been freed.
        var retiredDrops: UInt64 = 0
    }
    static let contexts = Mutex(Contexts())
    static let active = Mutex<TraceSession?>(nil)

    /// Creates and registers the calling thread's state (first traced call on a thread).
    @usableFromInline static func registerCurrentThread() -> UnsafeMutablePointer<ThreadTrace> {
        let trace = contexts.withLock { c -> UnsafeMutablePointer<ThreadTrace> in
            let p = UnsafeMutablePointer<ThreadTrace>.allocate(capacity: 1)
            p.initialize(to: ThreadTrace(index: c.nextIndex))
            c.nextIndex &+= 1
            c.live.append(p)
            return p
        }
        ct_state().pointee.context = UnsafeMutableRawPointer(trace)
        ct_register_thread_exit(threadExited, UnsafeMutableRawPointer(trace))
        return trace
    }

    /// All contexts, for the drain.
    static func snapshot() -> [UnsafeMutablePointer<ThreadTrace>] { contexts.withLock { $0.live } }

    /// Frees states of exited threads whose buffers are empty.
    static func reapExited() {
        contexts.withLock { c in
            c.live.removeAll { p in
                let exited = ct_load_acquire(p.pointee.shared + 24) == 1
                let empty = ct_load_acquire(p.pointee.shared) == ct_load_acquire(p.pointee.shared + 8)
                guard exited && empty else { return false }
                c.retiredDrops &+= ct_load_acquire(p.pointee.shared + 16)
                p.pointee.deallocate()
                p.deallocate()
                return true
            }
        }
    }

    /// Spans dropped so far in the process.
    static func totalDropped() -> UInt64 {
        contexts.withLock { c in c.live.reduce(c.retiredDrops) { $0 &+ ct_load_acquire($1.pointee.shared + 16) } }
    }

    /// The tracer's index and the kernel's id of every thread that has traced.
    public static func threads() -> [(index: UInt16, osThreadID: Int32)] {
        snapshot().map { ($0.pointee.index, $0.pointee.osThreadID) }
    }

    /// The session that is recording, if any.
    public static var session: TraceSession? { active.withLock { $0 } }
}

private func threadExited(_ raw: UnsafeMutableRawPointer?) {
    guard let raw else { return }
    let trace = raw.assumingMemoryBound(to: ThreadTrace.self)
    ct_state().pointee.context = nil
    ct_store_release(trace.pointee.shared + 24, 1)
}

/// One recording: flags switched on, a drain thread moving spans to a sink.
public final class TraceSession: @unchecked Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case alreadyActive
        public var description: String { "a trace session is already active" }
    }

    /// What the session has done so far.
    public struct Statistics: Sendable {
        public var written: UInt64 = 0
        public var dropped: UInt64 = 0
        public var discarded: UInt64 = 0
        public var batches: UInt64 = 0
    }

    private struct State {
        var flags: TraceFlags
        var discardSteps: Set<UInt32> = []
        var stats = Statistics()
        var failure: String?
        var stopping = false
        var stopped = false
    }

    public let sink: TraceSink
    /// Monotonic and wall-clock nanoseconds when the session began; span times are relative to them.
    public let startMonotonic: UInt64
    public let startWall: UInt64
    /// How often the drain hands spans to the sink.
    public let drainInterval: Duration
    private let state: Mutex<State>
    private let dropBaseline: UInt64
    private let calibration = Clock.calibration
    private let drainLock = Mutex(())
    private var thread: pthread_t?

    /// Starts recording with `flags`; spans reach `sink` every `drainInterval`.
    public init(sink: TraceSink, flags: TraceFlags, drainInterval: Duration = .milliseconds(50)) throws {
        self.sink = sink
        self.drainInterval = drainInterval
        state = Mutex(State(flags: flags))
        _ = Clock.calibration
        startMonotonic = Clock.monotonicNanoseconds()
        startWall = Clock.wallNanoseconds()
        dropBaseline = Tracer.totalDropped()
        try Tracer.active.withLock { current in
            guard current == nil else { throw Failure.alreadyActive }
            current = self
        }
        ct_set_epoch(ct_get_epoch() &+ 1)
        // Whatever earlier sessions left in the buffers is not ours.
        for trace in Tracer.snapshot() {
            ct_store_release(trace.pointee.shared + 8, ct_load_acquire(trace.pointee.shared))
        }
        ModuleRegistry.shared.reset()
        TraceFlags.set(flags)
        startDrainThread()
    }

    /// Changes what is recorded (a schedule moving between phases). Empty stops recording
    /// without ending the session.
    public func setFlags(_ flags: TraceFlags) {
        state.withLock { s in
            guard !s.stopping, s.failure == nil else { return }
            s.flags = flags
            TraceFlags.set(flags)
        }
    }

    public var flags: TraceFlags { state.withLock { $0.flags } }

    /// Spans of `step` are drained and thrown away (a schedule's warm-up steps).
    public func discard(step: UInt32) { _ = state.withLock { $0.discardSteps.insert(step) } }

    /// The current profiler step, stamped on every span that begins from now on.
    public static var step: UInt32 {
        get { ct_get_step() }
        set { ct_set_step(newValue) }
    }

    public var statistics: Statistics {
        var s = state.withLock { $0.stats }
        s.dropped = Tracer.totalDropped() &- dropBaseline
        return s
    }

    /// Why the sink stopped accepting spans, if it did.
    public var failure: String? { state.withLock { $0.failure } }

    /// Moves everything buffered so far to the sink now.
    public func flush() { drain() }

    /// Stops recording, drains what is left and returns the final statistics.
    @discardableResult
    public func stop() -> Statistics {
        let wasStopped = state.withLock { s -> Bool in
            defer { s.stopping = true }
            return s.stopping
        }
        if !wasStopped {
            TraceFlags.set([])
            requestStop()
            if let thread { pthread_join(thread, nil) }
            drain()
            state.withLock { $0.stopped = true }
            Tracer.active.withLock { if $0 === self { $0 = nil } }
        }
        return statistics
    }

    private func startDrainThread() {
        pthread_mutex_init(&wakeLock, nil)
        pthread_cond_init(&wake, nil)
        let box = Unmanaged.passRetained(self)
        var t = pthread_t()
        let rc = pthread_create(&t, nil, { raw in
            let session = Unmanaged<TraceSession>.fromOpaque(raw!).takeRetainedValue()
            session.drainLoop()
            return nil
        }, box.toOpaque())
        if rc == 0 { thread = t } else { box.release() }
    }

    /// Wakes once per interval (or when stopped), so the drain costs the traced threads nothing between.
    private func drainLoop() {
        let interval = UInt64(drainInterval.components.seconds) * 1_000_000_000
            + UInt64(drainInterval.components.attoseconds / 1_000_000_000)
        while true {
            pthread_mutex_lock(&wakeLock)
            if !stopRequested {
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                let deadline = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec) + interval
                var until = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                pthread_cond_timedwait(&wake, &wakeLock, &until)
            }
            let stop = stopRequested
            pthread_mutex_unlock(&wakeLock)
            if stop { return }
            drain()
        }
    }

    private var wakeLock = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var stopRequested = false

    private func requestStop() {
        pthread_mutex_lock(&wakeLock)
        stopRequested = true
        pthread_cond_signal(&wake)
        pthread_mutex_unlock(&wakeLock)
    }

    /// Copies every thread's finished spans into one batch and hands it to the sink.
    private func drain() {
        drainLock.withLock { _ in
            let (discard, failed) = state.withLock { ($0.discardSteps, $0.failure != nil) }
            var batch: [SpanRecord] = []
            var discarded: UInt64 = 0
            for trace in Tracer.snapshot() {
                let shared = trace.pointee.shared
                let head = ct_load_acquire(shared)
                var tail = ct_load_acquire(shared + 8)
                let mask = UInt64(ThreadTrace.ringCapacity - 1)
                while tail != head {
                    var r = trace.pointee.ring[Int(tail & mask)]
                    tail &+= 1
                    if failed || discard.contains(r.step) {
                        discarded &+= 1
                        continue
                    }
                    r.start = UInt64(bitPattern: calibration.nanoseconds(r.start) &- Int64(startMonotonic))
                    r.end = UInt64(bitPattern: calibration.nanoseconds(r.end) &- Int64(startMonotonic))
                    batch.append(r)
                }
                ct_store_release(shared + 8, tail)
            }
            Tracer.reapExited()
            let dropped = Tracer.totalDropped() &- dropBaseline
            state.withLock { $0.stats.discarded &+= discarded }
            guard !failed, !batch.isEmpty || dropped != state.withLock({ $0.stats.dropped }) else { return }
            do {
                try batch.withUnsafeBufferPointer { try sink.write($0, dropped: dropped) }
                state.withLock { s in
                    s.stats.written &+= UInt64(batch.count)
                    s.stats.batches &+= 1
                    s.stats.dropped = dropped
                }
            } catch {
                state.withLock { s in
                    s.failure = "\(error)"
                    s.flags = []
                }
                TraceFlags.set([])
                StandardError.write("tracewell: tracing stopped: \(error); the program continues without tracing\n")
            }
        }
    }
}

/// Text to stderr without Foundation (the tracing core has no dependencies).
public enum StandardError {
    public static func write(_ text: String) {
        var t = text
        t.withUTF8 { buf in _ = Glibc.write(2, buf.baseAddress, buf.count) }
    }
}

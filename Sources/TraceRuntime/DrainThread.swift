import CTracing
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A session's background thread: wakes every interval (or when stopped), copies every
/// thread's finished spans into one batch and hands it to the sink, so the traced threads
/// never wait for storage.
///
/// Sendable by hand: `sink` and the batch are touched only by drains, which `drainLock`
/// serializes; the wake mutex and condition variable live in memory allocated once (stable
/// addresses, as pthreads requires) and guard `stopRequested`.
final class DrainThread: @unchecked Sendable {
    private var sink: TraceSink?
    private let interval: Duration
    private let drainLock = Mutex(())
    private let wakeLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var stopRequested = false
    private var thread: pthread_t?
    private var dropBaseline: UInt64 = 0
    private let calibration = Clock.calibration

    init(sink: TraceSink, interval: Duration) {
        self.sink = sink
        self.interval = interval
        pthread_mutex_init(wakeLock, nil)
        pthread_cond_init(wake, nil)
    }

    deinit {
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(wakeLock)
        wake.deallocate()
        wakeLock.deallocate()
    }

    /// Spans dropped since the session began.
    var dropped: UInt64 { Tracer.totalDropped() &- dropBaseline }

    /// Starts the thread, after throwing away whatever earlier sessions left in the buffers.
    func start(for session: TraceSession) {
        dropBaseline = Tracer.totalDropped()
        for trace in Tracer.snapshot() {
            ct_store_release(trace.pointee.shared + 8, ct_load_acquire(trace.pointee.shared))
        }
        let context = Unmanaged.passRetained(Context(drain: self, session: session))
        var t = pthread_t()
        let rc = pthread_create(
            &t, nil,
            { raw in
                let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
                context.drain.loop(context.session)
                return nil
            }, context.toOpaque())
        if rc == 0 { thread = t } else { context.release() }
    }

    private final class Context {
        let drain: DrainThread
        let session: TraceSession
        init(drain: DrainThread, session: TraceSession) {
            self.drain = drain
            self.session = session
        }
    }

    /// Stops the thread, drains what is left on the calling thread and lets go of the sink.
    func stop(_ session: TraceSession) {
        pthread_mutex_lock(wakeLock)
        stopRequested = true
        pthread_cond_signal(wake)
        pthread_mutex_unlock(wakeLock)
        if let thread { pthread_join(thread, nil) }
        drainNow(session)
        drainLock.withLock { _ in sink = nil }
    }

    private func loop(_ session: TraceSession) {
        let nanoseconds =
            UInt64(interval.components.seconds) * 1_000_000_000
            + UInt64(interval.components.attoseconds / 1_000_000_000)
        while true {
            pthread_mutex_lock(wakeLock)
            if !stopRequested {
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                let deadline = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec) + nanoseconds
                var until = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                pthread_cond_timedwait(wake, wakeLock, &until)
            }
            let stop = stopRequested
            pthread_mutex_unlock(wakeLock)
            if stop { return }
            drainNow(session)
        }
    }

    /// Copies every thread's finished spans of this session into one batch and writes it.
    func drainNow(_ session: TraceSession) {
        drainLock.withLock { _ in
            guard let sink else { return }
            let (discard, failed, reported) = session.state.withLock { ($0.discardSteps, $0.failure != nil, $0.stats.dropped) }
            var batch: [SpanRecord] = []
            var discarded: UInt64 = 0
            let origin = Int64(session.startMonotonic)
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
                    r.start = UInt64(bitPattern: calibration.nanoseconds(r.start) &- origin)
                    r.end = UInt64(bitPattern: calibration.nanoseconds(r.end) &- origin)
                    batch.append(r)
                }
                ct_store_release(shared + 8, tail)
            }
            Tracer.reapExited()
            let dropped = self.dropped
            session.state.withLock { $0.stats.discarded &+= discarded }
            guard !failed else { return }
            do {
                guard !batch.isEmpty || dropped != reported else {
                    try sink.idle()
                    return
                }
                try batch.withUnsafeBufferPointer { try sink.write($0, dropped: dropped) }
                session.state.withLock { s in
                    s.stats.written &+= UInt64(batch.count)
                    s.stats.batches &+= 1
                    s.stats.dropped = dropped
                }
            } catch {
                session.sinkFailed(error)
            }
        }
    }
}

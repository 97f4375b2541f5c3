import CMPI
import Foundation
import Synchronization
import TraceEvents
import TraceRuntime

/// The one thread that calls MPI (initialised with `MPI_THREAD_FUNNELED`). Collectives run
/// in the order they were queued — the same order on every rank, as MPI requires — as
/// non-blocking calls polled against a deadline, so a dead or absent peer ends in a
/// `DistributedError` after `timeout` instead of a hang. Training threads keep computing
/// while a bucket's all-reduce progresses here.
final class CommThread: @unchecked Sendable {
    /// Starts a non-blocking collective; returns MPI's error code.
    typealias Start = (_ request: inout MPI_Request?) -> Int32

    struct Job: @unchecked Sendable {
        let work: Work
        /// Nil: finalize MPI and stop.
        let start: Start?
        /// The span name (empty: not traced), what it carries, and whether to split it into the
        /// wait for the slowest rank and the transfer (from every rank's entry time).
        let name: String
        let shape: [(dtype: DTypeCode, dims: [Int])]
        let measureWait: Bool
        /// Instead of `start`: a sequence of point-to-point exchanges run on this thread
        /// (the clock ping-pong); returns what went wrong, or nil.
        var body: ((CommThread) -> String?)? = nil
    }

    private let queue = Mutex<[Job]>([])
    private let available = DispatchSemaphore(value: 0)
    private let timeoutNs: UInt64
    private(set) var rank = 0
    private(set) var size = 1
    /// Set after a timeout: the group cannot be trusted any more.
    private var broken: String?
    /// This clock minus rank 0's (ns), subtracted from entry times before they are compared
    /// across ranks: 0 on rank 0's host (one shared clock), else the ping-pong estimate.
    /// Only this thread reads and writes it.
    var offsetToRoot: Int64 = 0

    /// Starts the thread and initialises MPI on it.
    init(timeout: Duration) throws {
        timeoutNs = UInt64(timeout.components.seconds) * 1_000_000_000 + UInt64(timeout.components.attoseconds / 1_000_000_000)
        let ready = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var failure: String?
        let thread = Thread { [self] in
            failure = initialise()
            ready.signal()
            if failure == nil { loop() }
        }
        thread.name = "mpi"
        thread.start()
        ready.wait()
        if let failure { throw DistributedError(collective: "init", rank: 0, size: 1, message: failure) }
    }

    private func initialise() -> String? {
        var provided: Int32 = 0
        var rc = MPI_Init_thread(nil, nil, Int32(MPI_THREAD_FUNNELED), &provided)
        guard rc == MPI_SUCCESS else { return "MPI_Init_thread failed: \(Self.errorString(rc))" }
        rc = cmpi_errors_return()
        guard rc == MPI_SUCCESS else { return "MPI_Comm_set_errhandler failed: \(Self.errorString(rc))" }
        var r: Int32 = 0
        var s: Int32 = 0
        MPI_Comm_rank(cmpi_comm_world(), &r)
        MPI_Comm_size(cmpi_comm_world(), &s)
        (rank, size) = (Int(r), Int(s))
        return nil
    }

    /// Queues a collective; it starts after everything queued before it.
    func submit(
        _ collective: String, name: String = "", shape: [(dtype: DTypeCode, dims: [Int])] = [], measureWait: Bool = false,
        _ start: @escaping Start
    ) -> Work {
        let work = Work(collective)
        work.queuedNs = Clock.monotonicNanoseconds()
        queue.withLock { $0.append(Job(work: work, start: start, name: name, shape: shape, measureWait: measureWait)) }
        available.signal()
        return work
    }

    /// Runs `body` on this thread after everything queued before it (point-to-point
    /// exchanges that must not interleave with collectives).
    func run(_ what: String, _ body: @escaping (CommThread) -> String?) -> Work {
        let work = Work(what)
        work.queuedNs = Clock.monotonicNanoseconds()
        queue.withLock {
            // `start` is not called for a body; it is set because a nil start means finalize.
            $0.append(Job(work: work, start: { _ in MPI_SUCCESS }, name: "", shape: [], measureWait: false, body: body))
        }
        available.signal()
        return work
    }

    /// Finalizes MPI after the queued collectives and stops the thread.
    func finalize() {
        let work = Work("finalize")
        queue.withLock { $0.append(Job(work: work, start: nil, name: "", shape: [], measureWait: false)) }
        available.signal()
        try? work.wait()
    }

    private func loop() {
        while true {
            available.wait()
            let job = queue.withLock { $0.removeFirst() }
            guard let start = job.start else {
                if broken == nil { MPI_Finalize() }
                job.work.complete(nil)
                return
            }
            if let body = job.body {
                job.work.startedNs = Clock.monotonicNanoseconds()
                let message = broken.map { "the group is unusable after an earlier failure (\($0))" } ?? body(self)
                job.work.finishedNs = Clock.monotonicNanoseconds()
                job.work.complete(message.map { failure(job.work, $0) })
                continue
            }
            run(job, start)
        }
    }

    private func run(_ job: Job, _ start: @escaping Start) {
        let work = job.work
        work.startedNs = Clock.monotonicNanoseconds()
        work.transferNs = work.startedNs
        if let broken {
            work.complete(failure(work, "the group is unusable after an earlier failure (\(broken))"))
            return
        }
        let session = job.name.isEmpty || !TraceFlags.current.contains(.spans) ? nil : Tracer.current
        let span =
            session.map {
                SpanTracer.begin(
                    .collective, subject: $0.names.intern(job.name),
                    inputShapes: job.shape.isEmpty ? 0 : $0.names.intern(shapeTokens: ShapeKey.tokens(job.shape)))
            } ?? -1
        defer { if span >= 0 { SpanTracer.end(span) } }
        let deadline = work.startedNs + timeoutNs
        // Every rank posts the entry-time all-reduce for such a job, traced or not: whether a rank
        // traces is its own (a window edge, a thread group, only some ranks traced), and an
        // all-reduce posted by some ranks only would be matched against the next bucket's.
        if job.measureWait && size > 1 {
            if let message = measured(job, start, session: session, deadline: deadline) { return fail(work, message) }
        } else if let message = execute([start], deadline: deadline, what: nil) {
            return fail(work, message)
        }
        work.finishedNs = Clock.monotonicNanoseconds()
        work.complete(nil)
    }

    /// The collective with its wait split off, without a barrier: alongside it, a one-element
    /// MAX all-reduce of this rank's entry time (on rank 0's clock) gives the last rank's entry;
    /// the wait is `last - mine`, the transfer the rest. Both spans are written afterwards when
    /// this rank traces (`session`).
    private func measured(_ job: Job, _ start: @escaping Start, session: TraceSession?, deadline: UInt64) -> String? {
        let work = job.work
        let entryTicks = Clock.ticks()
        let entry = Clock.monotonicNanoseconds()
        let stamp = CollectiveBuffer<Int64>([Int64(bitPattern: entry) &- offsetToRoot])
        let stampStart: Start = { MPI_Iallreduce(cmpi_in_place(), stamp.pointer, 1, Int64.mpiType, cmpi_op_max(), cmpi_comm_world(), &$0) }
        work.startedNs = entry
        if let message = execute([stampStart, start], deadline: deadline, what: nil) { return message }
        let endTicks = Clock.ticks()
        let last = UInt64(bitPattern: stamp.pointer[0] &+ offsetToRoot)
        work.transferNs = max(entry, last)
        guard let session else { return nil }
        let waitTicks = UInt64((Double(work.transferNs - entry) / Clock.calibration.scale).rounded())
        let arrived = min(entryTicks &+ waitTicks, endTicks)
        SpanTracer.record(.commWait, subject: session.names.intern("wait for slowest rank"), startTicks: entryTicks, endTicks: arrived)
        SpanTracer.record(.commTransfer, subject: session.names.intern("transfer"), startTicks: arrived, endTicks: endTicks)
        return nil
    }

    private func fail(_ work: Work, _ message: String) {
        work.finishedNs = Clock.monotonicNanoseconds()
        work.complete(failure(work, message))
    }

    private func failure(_ work: Work, _ message: String) -> DistributedError {
        DistributedError(collective: work.collective, rank: rank, size: size, message: message)
    }

    /// Starts requests and polls them together; nil on success, else what went wrong.
    func execute(_ starts: [Start], deadline: UInt64, what: String?) -> String? {
        var requests = [MPI_Request?](repeating: cmpi_request_null(), count: starts.count)
        for (i, start) in starts.enumerated() {
            let rc = start(&requests[i])
            guard rc == MPI_SUCCESS else { return Self.errorString(rc) }
        }
        var flag: Int32 = 0
        var polls = 0
        while true {
            let rc = MPI_Testall(Int32(requests.count), &requests, &flag, cmpi_statuses_ignore())
            guard rc == MPI_SUCCESS else { return Self.errorString(rc) }
            if flag != 0 { return nil }
            polls += 1
            // Spin briefly (shared-memory transfers finish in microseconds), then yield the
            // core to the training thread between polls.
            if polls > 2000 { sched_yield() }
            if polls & 255 == 0, Clock.monotonicNanoseconds() > deadline {
                let seconds = Double(timeoutNs) / 1e9
                let message =
                    "timed out after \(seconds.formatted()) s\(what.map { " in \($0)" } ?? ""): "
                    + "a peer died, hung or skipped this collective"
                broken = message
                return message
            }
        }
    }

    /// The group's timeout from now, as a deadline for `execute`.
    var deadline: UInt64 { Clock.monotonicNanoseconds() + timeoutNs }

    static func errorString(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &buffer, &length) == MPI_SUCCESS else { return "MPI error \(code)" }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

import CMPI
import Foundation
import Synchronization
import TraceEvents
import TraceRuntime

/// The processes of one data-parallel job and the collectives between them, over Open MPI.
///
/// `ProcessGroup.world()` joins the job `mpirun` started; run without `mpirun` it is a
/// group of one (rank 0, size 1) whose collectives are local copies, so tests and plain
/// runs never initialise MPI. Blocking collectives wait; `allReduceAsync` returns a `Work`.
/// Every collective is bounded by `timeout`: a peer that died or skipped it gives a
/// `DistributedError` naming the collective, not a hang.
public final class ProcessGroup: @unchecked Sendable {
    /// This process's index, 0..<size.
    public let rank: Int
    /// The number of processes.
    public let size: Int
    /// How long any collective may take before the group gives up on its peers.
    public let timeout: Duration
    private let comm: CommThread?

    private static let shared = Mutex<ProcessGroup?>(nil)

    /// Whether this process was started by `mpirun` (Open MPI's environment is present).
    public static var launchedByMPI: Bool {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil
    }

    /// The default timeout: 60 s, or `TRACEWELL_COLLECTIVE_TIMEOUT` seconds.
    public static var defaultTimeout: Duration {
        if let text = ProcessInfo.processInfo.environment["TRACEWELL_COLLECTIVE_TIMEOUT"], let seconds = Double(text), seconds > 0 {
            return .milliseconds(Int64(seconds * 1000))
        }
        return .seconds(60)
    }

    /// The job's group: joins MPI once per process when launched by `mpirun`, else a group of one.
    public static func world(timeout: Duration = defaultTimeout) throws -> ProcessGroup {
        try shared.withLock { group in
            if let group { return group }
            let made = launchedByMPI ? try ProcessGroup(mpiTimeout: timeout) : ProcessGroup(single: timeout)
            group = made
            return made
        }
    }

    /// A group of one process (no MPI).
    public init(single timeout: Duration = defaultTimeout) {
        (rank, size, self.timeout, comm) = (0, 1, timeout, nil)
    }

    private init(mpiTimeout: Duration) throws {
        let comm = try CommThread(timeout: mpiTimeout)
        (rank, size, timeout, self.comm) = (comm.rank, comm.size, mpiTimeout, comm)
        try measureClocks(phase: "start")
    }

    private let endMeasured = Mutex(false)

    /// Estimates this rank's clock offset to rank 0 again (ping-pong, see `ClockSync`) for the
    /// traces: call it on every rank at the end of the run, before the profiler stops, so the
    /// trace holds an end estimate next to the start one (`finalize` takes it otherwise).
    public func synchronizeClocks() throws {
        guard comm != nil, !endMeasured.withLock({ $0 }) else { return }
        try measureClocks(phase: "end")
        endMeasured.withLock { $0 = true }
    }

    private func measureClocks(phase: String) throws {
        guard let comm, size > 1 else { return }
        try comm.run("clock ping-pong (\(phase))") { ClockSync.measure(on: $0, phase: phase) }.wait()
    }

    /// Whether collectives go through MPI (false for a group of one).
    public var usesMPI: Bool { comm != nil }

    /// Finishes MPI (`MPI_Finalize`) after the queued collectives (and the end-of-run clock
    /// estimate, unless `synchronizeClocks` took it). Call once, at the end.
    public func finalize() {
        try? synchronizeClocks()
        comm?.finalize()
    }

    // MARK: Collectives

    /// Reduces `buffer` across ranks in place, without blocking; keep `buffer` alive and
    /// untouched until the work finished. `label` names it in errors and traces (`bucket 3`).
    public func allReduceAsync<T: CollectiveScalar>(
        _ buffer: CollectiveBuffer<T>, op: ReduceOp = .sum,
        label: String = ""
    ) -> Work {
        let what = describe("all_reduce", label, buffer.count, T.self)
        guard let comm else { return local(what, label: "all_reduce", label, count: buffer.count, T.self) }
        let pointer = buffer.pointer
        let count = Int32(buffer.count)
        let mpiOp = op.mpiOp
        return comm.submit(
            what, name: spanName("all_reduce", label), shape: shapeID(buffer.count, T.self),
            measureWait: true
        ) { request in
            MPI_Iallreduce(cmpi_in_place(), pointer, count, T.mpiType, mpiOp, cmpi_comm_world(), &request)
        }
    }

    /// Reduces `values` across ranks in place and waits.
    public func allReduce<T: CollectiveScalar>(_ values: inout [T], op: ReduceOp = .sum, label: String = "") throws {
        let buffer = CollectiveBuffer(values)
        try allReduceAsync(buffer, op: op, label: label).wait()
        values = buffer.array
    }

    /// Replaces `values` with rank `root`'s and waits; every rank passes the same count.
    public func broadcast<T: CollectiveScalar>(_ values: inout [T], root: Int = 0, label: String = "") throws {
        let what = describe("broadcast", label, values.count, T.self)
        try checkRoot(root, what)
        guard let comm else {
            _ = local(what, label: "broadcast", label, count: values.count, T.self)
            return
        }
        let buffer = CollectiveBuffer(values)
        let pointer = buffer.pointer
        let count = Int32(values.count)
        let root = Int32(root)
        try comm.submit(what, name: spanName("broadcast", label), shape: shapeID(values.count, T.self)) { request in
            MPI_Ibcast(pointer, count, T.mpiType, root, cmpi_comm_world(), &request)
        }.wait()
        values = buffer.array
    }

    /// Every rank's `values`, concatenated in rank order (all ranks pass the same count).
    public func allGather<T: CollectiveScalar>(_ values: [T], label: String = "") throws -> [T] {
        let what = describe("all_gather", label, values.count, T.self)
        guard let comm else {
            _ = local(what, label: "all_gather", label, count: values.count, T.self)
            return values
        }
        let send = CollectiveBuffer(values)
        let receive = CollectiveBuffer<T>(count: values.count * size)
        let count = Int32(values.count)
        try comm.submit(what, name: spanName("all_gather", label), shape: shapeID(values.count, T.self)) { request in
            MPI_Iallgather(send.pointer, count, T.mpiType, receive.pointer, count, T.mpiType, cmpi_comm_world(), &request)
        }.wait()
        return receive.array
    }

    /// Waits until every rank reached it.
    public func barrier(label: String = "") throws {
        guard let comm else { return }
        try comm.submit(describe("barrier", label, 0, Int32.self), name: spanName("barrier", label)) { request in
            MPI_Ibarrier(cmpi_comm_world(), &request)
        }.wait()
    }

    // MARK: Helpers

    private func checkRoot(_ root: Int, _ what: String) throws {
        guard (0..<size).contains(root) else {
            throw DistributedError(collective: what, rank: rank, size: size, message: "root \(root) is not a rank (size \(size))")
        }
    }

    private func describe<T: CollectiveScalar>(_ op: String, _ label: String, _ count: Int, _: T.Type) -> String {
        let parts = (label.isEmpty ? [] : [label]) + (op == "barrier" ? [] : ["\(count) \(T.typeName)"])
        return parts.isEmpty ? op : "\(op) (\(parts.joined(separator: ", ")))"
    }

    /// A group of one: nothing to exchange; the collective is still traced.
    private func local<T: CollectiveScalar>(_ what: String, label op: String, _ label: String, count: Int, _: T.Type) -> Work {
        if TraceFlags.current.contains(.spans), let session = Tracer.current {
            let shape = session.names.intern(shapeTokens: ShapeKey.tokens(shapeID(count, T.self)))
            SpanTracer.end(SpanTracer.begin(.collective, subject: session.names.intern(spanName(op, label)), inputShapes: shape))
        }
        return Work.completed(what, at: Clock.monotonicNanoseconds())
    }

    private func spanName(_ op: String, _ label: String) -> String { label.isEmpty ? op : "\(op) \(label)" }

    private func shapeID<T: CollectiveScalar>(_ count: Int, _: T.Type) -> [(dtype: DTypeCode, dims: [Int])] {
        [(T.self == Float.self ? .float32 : .int32, [count])]
    }
}

/// A buffer a non-blocking collective reads and writes; owned here so that it outlives
/// the call that started the collective.
public final class CollectiveBuffer<T: CollectiveScalar>: @unchecked Sendable {
    /// The elements.
    public let pointer: UnsafeMutablePointer<T>
    /// How many.
    public let count: Int

    /// `count` zeros.
    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// A copy of `values`.
    public convenience init(_ values: [T]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { if let base = $0.baseAddress { pointer.update(from: base, count: values.count) } }
    }

    /// The elements as an array.
    public var array: [T] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    deinit { pointer.deallocate() }
}

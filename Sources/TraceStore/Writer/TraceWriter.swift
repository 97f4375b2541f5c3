import Foundation
import Synchronization
import TraceEvents
import TraceRuntime

/// Writes one run into a trace database: the sink of a trace session.
///
/// Spans arrive in batches from the session's drain thread; each batch is one transaction,
/// so a killed process leaves every committed batch readable and the run marked `incomplete`,
/// and the batch reaches the main file (not only the `-wal`) within about a second. `finish`
/// writes what is known only at the end (module tree, steps, bypass findings, statistics),
/// builds the indexes and marks the run `complete` (or `interrupted`).
///
/// The writer holds the file for its run: a second process tracing to the same path gets a
/// fresh file beside it (`notice` says so), so two runs never share a span id range.
package final class TraceWriter: TraceSink {
    /// The file written: the path asked for, or a fresh one beside it when that was taken.
    package let path: String
    /// One line for the user when the run went to another file than the one asked for.
    package let notice: String?
    /// One line for the user when a damaged crash record beside the file was set aside.
    package let crashNotice: String?
    /// The run's id in the `runs` table.
    package var runID: Int64 { run.runID }
    /// The process's modules and threads, asked for (on the drain thread) when a span names one
    /// not yet written, so the trace of a killed run still names them. `finish` writes the final lists.
    package var describeModules: () -> [ModuleInfo] = { [] }
    package var describeThreads: () -> [(index: UInt16, osThreadID: Int32)] = { [] }
    /// The interned names and shapes the spans' ids refer to (the session's).
    package let names: Interner
    /// Spans written so far. (Exclusivity unchecked on the writer's per-batch state below: it is
    /// touched by one drain at a time, then by `finish` after the drain thread ended.)
    @exclusivity(unchecked) package private(set) var spanCount: Int64 = 0

    private let db: Database
    private let claim: TraceFileClaim
    private let run: RunRows
    private let interned: InternTables
    private let signatures: SignatureTable
    private let rows: SpanRows
    private let graphs = GraphStore()
    // Exclusivity unchecked: one drain at a time, then `finish` (see `spanCount`).
    @exclusivity(unchecked) private var planner: RowPlanner
    @exclusivity(unchecked) private var statistics = SignatureStatistics()
    @exclusivity(unchecked) private var ran: [Bool] = []
    private var namedModules = Set<UInt32>(), namedThreads = Set<UInt16>()
    @exclusivity(unchecked) private var lastCheckpoint = Clock.monotonicNanoseconds()
    @exclusivity(unchecked) private var uncheckpointed = false

    /// Committed batches reach the main file at most this long after they commit (nanoseconds).
    static let checkpointInterval: UInt64 = 1_000_000_000

    /// Opens (creating if needed) the database at `path` and starts a run in it. An existing file
    /// is checked first (a damaged or foreign one is refused). With `maxBytes`, the file may not
    /// grow beyond that size: writing more fails with a message that names the limit.
    /// Runs on the thread that starts the profiler.
    package init(path requested: String, run description: RunDescription, maxBytes: Int? = nil, names: Interner = Interner()) throws {
        self.names = names
        (path, claim, notice) = try TraceFileClaim.claimOrMoveAside(requested)
        var st = stat()
        guard stat(path, &st) == 0 else { throw StoreError("cannot read \(path): \(String(cString: strerror(errno)))") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw StoreError("\(path): not a regular file") }
        try TraceFileCheck.checkHeader(path, size: Int64(st.st_size))
        db = try Database(path: path, mode: .readWrite)
        try TraceFileCheck.prepare(db, size: Int64(st.st_size))
        // The previous run's crash record, before a new run is appended.
        let crash = CrashStore.importCrash(tracePath: path, into: db)
        crashNotice = crash.notice
        try Schema.recordSpanKinds(db)
        if let maxBytes {
            let pageSize = try db.scalar("PRAGMA page_size") ?? 4096
            try db.execute("PRAGMA max_page_count = \(max(maxBytes / Int(pageSize), 1))")
            db.fullMessage = "the trace reached its size limit (ProfilerOptions.maxFileBytes = \(maxBytes) bytes)"
        }
        let db = self.db
        let (run, firstRow) = try db.transaction { () throws -> (RunRows, Int64) in
            let next = (try db.scalar("SELECT COALESCE(MAX(id), 0) FROM span_data") ?? 0) + 1
            return (try RunRows(db, run: description, firstSpanID: next), next)
        }
        self.run = run
        planner = RowPlanner(nextRow: firstRow)
        interned = try InternTables(db, names: names)
        signatures = try SignatureTable(db, runID: run.runID, interned: interned)
        rows = try SpanRows(db, runID: run.runID)
    }

    deinit { claim.release() }

    /// Records the run's time zero (the instant span timestamps count from) on the wall and
    /// monotonic clocks, read together, and the MPI launcher's job id: `tracectl` aligns and
    /// matches rank traces with them. Any thread; written with the next batch (on the thread
    /// that writes batches, which alone uses the connection).
    package func recordClockOrigin(
        wallNanoseconds: UInt64, monotonicNanoseconds: UInt64,
        job: String? = RunDescription.launcher.job
    ) {
        let values: [SQLValue] = [
            .int(run.runID), job.map(SQLValue.text) ?? .null,
            .int(Int64(wallNanoseconds)), .int(Int64(monotonicNanoseconds)),
        ]
        pendingClock.withLock { $0 = values }
    }

    private let pendingClock = Mutex<[SQLValue]?>(nil)

    private func writePendingClock() throws {
        guard
            let values = pendingClock.withLock({ v -> [SQLValue]? in
                defer { v = nil }
                return v
            })
        else { return }
        try db.prepare("INSERT OR REPLACE INTO run_clock VALUES (?, ?, ?, ?)").run(values)
    }

    /// The process group's clock offset estimates (data-parallel runs), as the run ends.
    private func writeClockSamples() throws {
        let insert = try db.prepare("INSERT INTO clock_sync VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        for s in ClockAlignment.all {
            try insert.run([
                .int(run.runID), .text(s.phase), .text(s.method), .int(s.offsetNs), .int(s.boundNs), .int(s.minRoundTripNs),
                .int(Int64(s.exchanges)), .int(s.sameHost ? 1 : 0),
            ])
        }
    }

    // MARK: TraceSink

    /// Writes one batch in one transaction. Runs on the session's drain thread, never concurrently.
    package func write(_ records: UnsafeBufferPointer<SpanRecord>, dropped: UInt64) throws {
        try db.transaction {
            try writePendingClock()
            planner.startBatch()
            // In arrival order (children before parents on each thread): signatures, statistics
            // (so that whole-run reports need not scan spans), and the order rows are written in.
            for r in records {
                let sig = try signatures.cached(r) ?? signature(r)
                statistics.add(r, sig: sig)
                if r.kind == SpanKind.forward.rawValue { markRan(r.subject) }
                planner.arrive(r, sig: sig)
            }
            planner.endBatch()
            let written = try rows.write(planner)
            try run.updateCounts(spans: spanCount + written, dropped: dropped)
            try graphs.writePending(db, runID: run.runID)
            spanCount += written
        }
        uncheckpointed = true
        try checkpointIfDue()
    }

    /// Checkpoints committed batches into the main file when one is due. Runs on the drain
    /// thread when it has nothing to write.
    package func idle() throws { try checkpointIfDue() }

    /// A passive checkpoint (never waits for readers) at most once per `checkpointInterval`:
    /// a copy of the `.sqlite` alone then holds everything but the last second.
    private func checkpointIfDue() throws {
        guard uncheckpointed else { return }
        let now = Clock.monotonicNanoseconds()
        guard now &- lastCheckpoint >= TraceWriter.checkpointInterval else { return }
        lastCheckpoint = now
        uncheckpointed = false
        try db.execute("PRAGMA wal_checkpoint(PASSIVE)")
    }

    /// A signature not in the cache: its module and thread get their rows first if they are new.
    private func signature(_ r: SpanRecord) throws -> Int64 {
        let isModule = r.kind == SpanKind.forward.rawValue || r.kind == SpanKind.backward.rawValue
        if isModule && namedModules.insert(r.subject).inserted { try run.write(modules: describeModules(), onlyNew: true) }
        if namedThreads.insert(r.thread).inserted { try run.write(threads: describeThreads(), onlyNew: true) }
        return try signatures.id(for: r)
    }

    @inline(__always)
    private func markRan(_ module: UInt32) {
        let m = Int(module)
        if m >= ran.count { ran += [Bool](repeating: false, count: m + 64 - ran.count) }
        ran[m] = true
    }

    // MARK: End of run

    /// Modules with at least one forward span in the run (for `NeverRan`). Read after the session stopped.
    package var modulesThatRan: Set<UInt32> { Set(ran.indices.lazy.filter { self.ran[$0] }.map { UInt32($0) }) }

    /// The lowest step a span of the run belongs to. Read after the session stopped.
    package var firstStep: UInt32? { rows.steps.firstStep }

    /// Queues a captured graph; it is written with the next batch. Any thread.
    package func enqueue(_ graph: StaticGraph) { graphs.enqueue(graph) }

    /// Writes the module tree, threads, steps, `bypasses` and statistics, builds the indexes
    /// and marks the run `status`. Runs on the thread that stops the profiler, after the session
    /// stopped (its drain thread has ended).
    package func finish(
        modules: [ModuleInfo], bypasses: [BypassFinding], threads: [(index: UInt16, osThreadID: Int32)],
        endWallNanoseconds: UInt64, dropped: UInt64, status: RunStatus = .complete
    ) throws {
        defer { claim.release() }
        try db.transaction {
            try writePendingClock()
            // Whatever still waits for a parent that never ended (the session stopped inside it).
            planner.startBatch()
            planner.planAll()
            spanCount += try rows.write(planner)
            try graphs.writePending(db, runID: run.runID)
            try run.write(modules: modules)
            try run.write(threads: threads)
            try run.write(steps: rows.steps.finalRanges())
            try run.write(bypasses: bypasses)
            try writeClockSamples()
            try run.write(statistics: statistics.all)
            try run.end(status: status, endWallNanoseconds: endWallNanoseconds, spans: spanCount, dropped: dropped)
            try db.execute(Schema.indexes)
        }
        // Never wait for readers here: a reader at the end of a run must not delay the program's exit.
        db.setBusyTimeout(milliseconds: 0)
        try? db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }
}

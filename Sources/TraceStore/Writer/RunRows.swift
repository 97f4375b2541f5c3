import TraceEvents

/// The rows that describe a run rather than its spans: the `runs` row, modules and threads
/// (written as they first appear, so a killed run names them, and completed at the end), steps,
/// bypass findings and statistics. Used on the drain thread while the run is written and by `finish`.
final class RunRows {
    private let db: Database
    let runID: Int64
    private let pid: Int
    private let updateCounts: Statement
    private let module: Statement
    private let thread: Statement
    private var writtenModules = Set<UInt32>()
    private var writtenThreads = Set<UInt16>()

    /// Inserts the `runs` row of a new run whose spans start at id `firstSpanID`.
    init(_ db: Database, run: RunDescription, firstSpanID: Int64) throws {
        self.db = db
        pid = run.pid
        try db.prepare(
            """
            INSERT INTO runs(name, start_wall_ns, status, command, host, pid, rank, world_size, options, first_span_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ).run([
            .text(run.name), .int(Int64(run.startWallNanoseconds)), .text(RunStatus.incomplete.rawValue),
            .text(run.command), .text(run.host), .int(Int64(run.pid)), .int(Int64(run.rank)),
            .int(Int64(run.worldSize)), .text(run.options), .int(firstSpanID),
        ])
        runID = db.lastInsertID
        updateCounts = try db.prepare("UPDATE runs SET dropped_events = ?, span_count = ? WHERE id = ?")
        module = try db.prepare("INSERT OR REPLACE INTO modules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        thread = try db.prepare("INSERT OR REPLACE INTO threads VALUES (?, ?, ?, ?)")
    }

    /// Updates the run's span and drop counts.
    func updateCounts(spans: Int64, dropped: UInt64) throws {
        try updateCounts.run([.int(Int64(dropped)), .int(spans), .int(runID)])
    }

    /// Writes `modules` (with `onlyNew`, those not written yet: a model that keeps creating
    /// modules costs one row each, not the whole registry again).
    func write(modules: [ModuleInfo], onlyNew: Bool = false) throws {
        for (ordinal, m) in modules.enumerated() where !(onlyNew && writtenModules.contains(m.id)) {
            try module.run([
                .int(runID), .int(Int64(m.id)), .text(m.path), .text(m.type),
                m.parent == 0 ? .null : .int(Int64(m.parent)), .int(Int64(m.directParameters)),
                .int(Int64(m.totalParameters)), .text(HookBit.names(m.hooks).joined(separator: ",")),
                .int(m.isBuiltIn ? 1 : 0), .int(Int64(ordinal)),
            ])
            writtenModules.insert(m.id)
        }
    }

    /// Writes `threads` (with `onlyNew`, those not written yet). The process's main thread is `main`.
    func write(threads: [(index: UInt16, osThreadID: Int32)], onlyNew: Bool = false) throws {
        for t in threads where !(onlyNew && writtenThreads.contains(t.index)) {
            try thread.run([
                .int(runID), .int(Int64(t.index)), .int(Int64(t.osThreadID)),
                .text(Int(t.osThreadID) == pid ? "main" : "thread \(t.index)"),
            ])
            writtenThreads.insert(t.index)
        }
    }

    /// True once thread `index` has its row.
    func hasThread(_ index: UInt16) -> Bool { writtenThreads.contains(index) }

    /// Completes the `steps` rows: each step's span and id range.
    func write(steps: [(step: UInt32, range: StepTracker.Range)]) throws {
        let update = try db.prepare(
            """
            UPDATE steps SET span_id = ?, ts_ns = ?, dur_ns = ?, first_span_id = ?, last_span_id = ?
            WHERE run_id = ? AND step = ?
            """)
        for (n, r) in steps {
            try update.run([
                r.span.map { .int($0) } ?? .null, r.span == nil ? .null : .int(r.ts),
                r.span == nil ? .null : .int(r.dur), .int(r.first), .int(r.last), .int(runID), .int(Int64(n)),
            ])
        }
    }

    /// Writes the run's bypass findings.
    func write(bypasses: [BypassFinding]) throws {
        let bypass = try db.prepare("INSERT OR REPLACE INTO bypasses VALUES (?, ?, ?, ?, ?, ?, ?)")
        for f in bypasses {
            try bypass.run([
                .int(runID), .int(Int64(f.module)), .int(Int64(f.caller)), .text(f.evidence.name),
                .int(Int64(f.count)), .int(Int64(f.firstStep)), .text(f.detail),
            ])
        }
    }

    /// Writes the per-signature statistics.
    func write(statistics: [(sig: Int64, stats: SpanStats)]) throws {
        let stat = try db.prepare("INSERT OR REPLACE INTO span_stats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        for (sig, st) in statistics {
            try stat.run([
                .int(runID), .int(sig), .int(st.calls), .int(st.total), .int(st.selfTime),
                .int(st.allocated), .int(st.freed), st.peak.map { .int($0) } ?? .null, .blob(st.histogram.serialized),
            ])
        }
    }

    /// Marks the run ended with `status`.
    func end(status: RunStatus, endWallNanoseconds: UInt64, spans: Int64, dropped: UInt64) throws {
        try db.prepare("UPDATE runs SET status = ?, end_wall_ns = ?, dropped_events = ?, span_count = ? WHERE id = ?")
            .run([.text(status.rawValue), .int(Int64(endWallNanoseconds)), .int(Int64(dropped)), .int(spans), .int(runID)])
    }
}

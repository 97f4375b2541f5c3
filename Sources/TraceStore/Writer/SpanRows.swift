import TraceEvents
import TraceRuntime

/// The `span_data` statements and how a span binds to them: appends many rows per INSERT
/// (which halves SQLite's per-row cost) and fills in placeholders. Used on the drain thread
/// while a run is written and by `finish`.
final class SpanRows {
    /// The columns of `span_data`, by their 1-based position in a row's parameters.
    enum Column: Int32, CaseIterable {
        case id = 1
        case sig, up, step, ts, dur, alloc, freed, peak, live
    }

    /// Rows per multi-row INSERT.
    static let rowsPerInsert = 100
    static let columnCount = Int32(Column.allCases.count)

    private let insertMany: Statement
    private let insertOne: Statement
    private let update: Statement
    private let insertStep: Statement
    private let runID: Int64
    /// (Exclusivity unchecked: only drains touch it, and drains never overlap; the checks cost more than the per-span work.)
    @exclusivity(unchecked) var steps = StepTracker()

    init(_ db: Database, runID: Int64) throws {
        self.runID = runID
        let row = "(" + Column.allCases.map { _ in "?" }.joined(separator: ",") + ")"
        insertMany = try db.prepare(
            "INSERT INTO span_data VALUES " + Array(repeating: row, count: SpanRows.rowsPerInsert).joined(separator: ","))
        insertOne = try db.prepare("INSERT INTO span_data VALUES \(row)")
        let assignments = Column.allCases.dropFirst().map { "\($0) = ?\($0.rawValue)" }.joined(separator: ", ")
        update = try db.prepare("UPDATE span_data SET \(assignments) WHERE id = ?\(SpanRows.columnCount + 1)")
        insertStep = try db.prepare("INSERT OR IGNORE INTO steps(run_id, step, base_ns) VALUES (?, ?, ?)")
    }

    /// Inserts the planned rows and fills in placeholders whose spans ended.
    /// Returns the number of spans written (placeholders are not spans yet).
    func write(_ planner: RowPlanner) throws -> Int64 {
        let rows = planner.rows
        let first = planner.firstRow
        var index = 0
        while index + SpanRows.rowsPerInsert <= rows.count {
            for i in 0..<SpanRows.rowsPerInsert {
                bind(rows[index + i], planner, id: first + Int64(index + i), insertMany, row: i)
            }
            try insertMany.step()
            insertMany.resetKeepingBindings()
            index += SpanRows.rowsPerInsert
        }
        while index < rows.count {
            bind(rows[index], planner, id: first + Int64(index), insertOne, row: 0)
            try insertOne.step()
            insertOne.resetKeepingBindings()
            index += 1
        }
        // Step base times, in the same transaction as the rows that need them.
        for new in steps.takeNewSteps() { try insertStep.run([.int(runID), .int(Int64(new.step)), .int(new.base)]) }
        for u in planner.updates {
            bind(u.record, u.sig, up: u.up, id: u.row, update, row: 0)
            update.bind(u.row, at: SpanRows.columnCount + 1)
            try update.step()
            update.resetKeepingBindings()
        }
        var spans = planner.updates.count
        for r in rows where !r.isPlaceholder { spans += 1 }
        return Int64(spans)
    }

    @inline(__always)
    private func bind(_ p: RowPlanner.Row, _ planner: RowPlanner, id: Int64, _ s: Statement, row: Int) {
        guard !p.isPlaceholder else {
            // A span still open: filled in when it ends.
            let base = Int32(row) * SpanRows.columnCount
            s.bindNull(at: base + Column.id.rawValue)
            s.bind(0, at: base + Column.sig.rawValue)
            s.bindNull(at: base + Column.up.rawValue)
            s.bind(Int64(p.step), at: base + Column.step.rawValue)
            _ = steps.base(step: p.step, ts: 0, row: id)
            s.bind(0, at: base + Column.ts.rawValue)
            s.bind(0, at: base + Column.dur.rawValue)
            bindNoMemory(s, base)
            return
        }
        let span = planner.span(p)
        bind(span.record, span.sig, up: p.up, id: id, s, row: row)
    }

    @inline(__always)
    private func bind(_ r: SpanRecord, _ sig: Int64, up: Int64?, id: Int64, _ s: Statement, row: Int) {
        let base = Int32(row) * SpanRows.columnCount
        // The id column is left NULL: SQLite appends with max(id) + 1, which is `id`.
        s.bindNull(at: base + Column.id.rawValue)
        s.bind(sig, at: base + Column.sig.rawValue)
        if let up { s.bind(up, at: base + Column.up.rawValue) } else { s.bindNull(at: base + Column.up.rawValue) }
        s.bind(Int64(r.step), at: base + Column.step.rawValue)
        let ts = Int64(bitPattern: r.start)
        let dur = max(Int64(bitPattern: r.end) &- ts, 0)
        // Times are stored relative to a per-step base, which keeps them to 3-4 bytes.
        s.bind(ts &- steps.base(step: r.step, ts: ts, row: id), at: base + Column.ts.rawValue)
        s.bind(dur, at: base + Column.dur.rawValue)
        if r.flags & SpanFlag.memory != 0 {
            s.bind(r.allocated, at: base + Column.alloc.rawValue)
            s.bind(r.freed, at: base + Column.freed.rawValue)
            // Peak is stored above the live bytes at the end: often 0, which takes no space.
            s.bind(r.peak &- r.live, at: base + Column.peak.rawValue)
            s.bind(r.live, at: base + Column.live.rawValue)
        } else {
            bindNoMemory(s, base)
        }
        steps.track(kind: r.kind, row: id, ts: ts, dur: dur)
    }

    @inline(__always)
    private func bindNoMemory(_ s: Statement, _ base: Int32) {
        s.bindNull(at: base + Column.alloc.rawValue)
        s.bindNull(at: base + Column.freed.rawValue)
        s.bindNull(at: base + Column.peak.rawValue)
        s.bindNull(at: base + Column.live.rawValue)
    }
}

import Foundation
import TraceEvents

/// Crash records in the trace: the `crashes` and `crash_spans` tables (`Traces/README.md`), the
/// import of `<trace>.crash` by the next reader or writer, and loading a run's record back.
package enum CrashStore {
    static let tables = """
        CREATE TABLE IF NOT EXISTS crashes(
            run_id INTEGER PRIMARY KEY,
            signal INTEGER NOT NULL,
            signal_name TEXT NOT NULL,
            code INTEGER NOT NULL,
            address INTEGER NOT NULL,
            pid INTEGER NOT NULL,
            os_tid INTEGER NOT NULL,
            crash_ns INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS crash_spans(
            run_id INTEGER NOT NULL,
            thread INTEGER NOT NULL,
            os_tid INTEGER NOT NULL,
            crashed INTEGER NOT NULL,
            open INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            span_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            module_type TEXT,
            input_shapes TEXT,
            step INTEGER NOT NULL,
            depth INTEGER NOT NULL,
            start_ns INTEGER NOT NULL,
            dur_ns INTEGER NOT NULL,
            PRIMARY KEY(run_id, thread, open, idx)) WITHOUT ROWID;
        """

    /// What happened to a crash file beside a trace.
    package struct Outcome {
        /// The record, imported or (read-only trace) only read; nil when there was none or it was damaged.
        package var record: CrashRecord?
        /// True when it is now in the trace's tables (and the file is gone).
        package var imported = false
        /// One line for the user when the file could not be used.
        package var notice: String?
    }

    /// The crash file of the trace at `tracePath`.
    package static func crashPath(_ tracePath: String) -> String { tracePath + ".crash" }

    /// Imports `<tracePath>.crash` into `db` (opened read-write on the trace) if there is one: one
    /// transaction, then the file is removed. A damaged file or one naming another run is set aside
    /// as `.crash.damaged` with one notice, and the trace is left as it was. When the trace cannot be
    /// written (`db` nil, or a read-only file), the record is only read.
    package static func importCrash(tracePath: String, into db: Database?) -> Outcome {
        let file = crashPath(tracePath)
        let record: CrashRecord
        do {
            guard let read = try CrashFile.read(file) else { return Outcome() }
            record = read
        } catch {
            return Outcome(notice: setAside(file, because: "\(error)"))
        }
        guard let db else { return Outcome(record: record) }
        do {
            let stored = try db.transaction { () throws -> Bool in
                try TraceReader.checkVersion(db)
                let pid = try db.scalar("SELECT pid FROM runs WHERE id = ?", [.int(record.runID)])
                guard pid == record.pid else { throw Mismatch() }
                try db.execute(tables)
                if try db.scalar("SELECT count(*) FROM crashes WHERE run_id = ?", [.int(record.runID)]) == 0 {
                    try write(record, db)
                }
                return true
            }
            if stored { unlink(file) }
            return Outcome(record: record, imported: stored)
        } catch is Mismatch {
            return Outcome(
                notice: setAside(
                    file, because: "\(file): names run \(record.runID) of process \(record.pid), which this trace does not hold"))
        } catch {
            // A read-only file or file system: read it, import it next time.
            return Outcome(record: record)
        }
    }

    private struct Mismatch: Error {}

    private static func setAside(_ file: String, because reason: String) -> String {
        let aside = file + ".damaged"
        let kept = rename(file, aside) == 0 ? "; kept as \(aside)" : ""
        return "\(reason); the trace is read without it\(kept)"
    }

    private static func write(_ record: CrashRecord, _ db: Database) throws {
        try db.prepare("INSERT INTO crashes VALUES (?, ?, ?, ?, ?, ?, ?, ?)").run([
            .int(record.runID), .int(record.signal), .text(record.signalName), .int(record.code), .int(record.address),
            .int(record.pid), .int(record.osThreadID), .int(record.crashNanoseconds),
        ])
        let span = try db.prepare("INSERT OR REPLACE INTO crash_spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        for t in record.threads {
            for (open, spans) in [(1, t.open), (0, t.last)] {
                for (i, s) in spans.enumerated() {
                    try span.run([
                        .int(record.runID), .int(t.index), .int(t.osThreadID), .int(t.crashed ? 1 : 0), .int(Int64(open)),
                        .int(Int64(i)), .int(s.spanID), .text(s.kind), .text(s.name), s.moduleType.map(SQLValue.text) ?? .null,
                        s.inputShapes.map(SQLValue.text) ?? .null, .int(s.step), .int(s.depth), .int(s.startNanoseconds),
                        .int(s.durationNanoseconds),
                    ])
                }
            }
        }
        try db.prepare("UPDATE runs SET status = ? WHERE id = ? AND status = ?").run([
            .text(RunStatus.crashed.rawValue), .int(record.runID), .text(RunStatus.incomplete.rawValue),
        ])
    }

    /// The crash record of run `runID` stored in `db`, if it has one.
    package static func load(_ db: Database, runID: Int64) throws -> CrashRecord? {
        guard try db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('crashes', 'crash_spans')") == 2
        else { return nil }
        let c = try db.prepare("SELECT signal, code, address, pid, os_tid, crash_ns FROM crashes WHERE run_id = ?")
        try c.bind([.int(runID)])
        guard try c.step() else { return nil }
        var record = CrashRecord(
            runID: runID, signal: c.int(0), code: c.int(1), address: c.int(2), pid: c.int(3), osThreadID: c.int(4),
            crashNanoseconds: c.int(5), threads: [])
        let s = try db.prepare(
            """
            SELECT thread, os_tid, crashed, open, span_id, kind, name, module_type, input_shapes, step, depth, start_ns, dur_ns
            FROM crash_spans WHERE run_id = ? ORDER BY thread, open DESC, idx LIMIT 1000000
            """)
        try s.bind([.int(runID)])
        while try s.step() {
            if record.threads.last?.index != s.int(0) {
                record.threads.append(.init(index: s.int(0), osThreadID: s.int(1), crashed: s.int(2) != 0, open: [], last: []))
            }
            let span = CrashRecord.Span(
                spanID: s.int(4), kind: s.text(5), name: s.text(6), moduleType: s.optionalText(7), inputShapes: s.optionalText(8),
                step: s.int(9), depth: s.int(10), startNanoseconds: s.int(11), durationNanoseconds: s.int(12))
            if s.int(3) != 0 {
                record.threads[record.threads.count - 1].open.append(span)
            } else {
                record.threads[record.threads.count - 1].last.append(span)
            }
        }
        // The crashed thread first, as the handler wrote it.
        record.threads.sort { ($0.crashed ? 0 : 1, $0.index) < ($1.crashed ? 0 : 1, $1.index) }
        return record
    }
}

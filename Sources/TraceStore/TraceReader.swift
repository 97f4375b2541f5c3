import Foundation
import TraceEvents

/// One row of the `runs` table.
package struct RunInfo: Sendable, Equatable {
    package var id: Int64
    package var name: String
    package var startWallNanoseconds: Int64
    package var endWallNanoseconds: Int64?
    /// The `runs.status` text as stored; see `runStatus`.
    package var status: String
    /// The status, or nil for a value this version does not know.
    package var runStatus: RunStatus? { RunStatus(rawValue: status) }
    package var command: String
    package var host: String
    package var pid: Int64
    package var rank: Int64
    package var worldSize: Int64
    package var options: String
    package var droppedEvents: Int64
    package var spanCount: Int64
    /// The lowest span id of the run; its spans run up to the next run's first id.
    package var firstSpanID: Int64
}

/// A trace database opened for reading: validated, read-only, refusing writes and ATTACH.
package final class TraceReader {
    package let db: Database
    package let path: String
    /// The crash record found beside the trace (`<trace>.crash`) and not imported because the
    /// trace cannot be written; `Report` shows it as if it were stored.
    package private(set) var unimportedCrash: CrashRecord?
    /// One line for the user when a crash file beside the trace was damaged (and set aside).
    package private(set) var crashNotice: String?

    /// Opens `path`, or throws one clear error: missing file, not a regular file, not SQLite,
    /// a damaged SQLite file, not a trace, or a schema newer than this tool. A WAL trace on a
    /// read-only file system is read as an immutable file.
    package init(path: String) throws {
        self.path = path
        try TraceReader.checkFile(path)
        // A crash file beside the trace is imported by the first reader that sees it.
        if access(CrashStore.crashPath(path), F_OK) == 0 || errno != ENOENT {
            let writable = try? Database(path: path, mode: .readWrite)
            let outcome = CrashStore.importCrash(tracePath: path, into: writable)
            unimportedCrash = outcome.imported ? nil : outcome.record
            crashNotice = outcome.notice
        }
        do {
            db = try TraceReader.open(path, mode: .readOnly)
        } catch let error as StoreError where error.description.contains("unable to open database file") {
            // Reading a WAL file needs its -shm beside it; on a read-only file system there is none.
            db = try TraceReader.open(path, mode: .immutable)
        }
        try db.makeReadOnly()
    }

    private static func open(_ path: String, mode: Database.Mode) throws -> Database {
        let db = try Database(path: path, mode: mode)
        try checkVersion(db)
        return db
    }

    /// Throws unless `path` is a regular file that starts like a SQLite database. Never blocks:
    /// a FIFO or device is refused before anything reads it.
    static func checkFile(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw StoreError(errno == ENOENT ? "\(path): no such file" : "\(path): \(String(cString: strerror(errno)))")
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw StoreError("\(path): is a directory, not a trace file")
        default: throw StoreError("\(path): not a regular file (a pipe, socket or device), so not a trace")
        }
        guard st.st_size > 0 else { throw StoreError("\(path): an empty file, not a trace") }
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError("\(path): cannot read the file: \(String(cString: strerror(errno)))") }
        var header = [UInt8](repeating: 0, count: 100)
        let n = read(fd, &header, 100)
        close(fd)
        guard n >= 16, header.prefix(16).elementsEqual("SQLite format 3\u{0}".utf8) else {
            throw StoreError("\(path): not a SQLite database")
        }
        let size = Int(header[16]) << 8 | Int(header[17])
        let pageSize = size == 1 ? 65536 : size
        guard n == 100, pageSize >= 512, pageSize & (pageSize - 1) == 0 else {
            throw StoreError("\(path): a damaged SQLite database (its header is invalid)")
        }
    }

    /// Throws unless `db` holds a trace this code can read.
    static func checkVersion(_ db: Database) throws {
        let tables: Int64
        do {
            tables = try db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'runs', 'span_data')") ?? 0
        } catch let error as StoreError where error.description.contains("unable to open database file") {
            throw error
        } catch {
            throw StoreError("\(db.path): a damaged SQLite database (\(error))")
        }
        guard tables == 3 else { throw StoreError("\(db.path): a SQLite database, but not a trace (no meta/runs/span_data tables)") }
        guard let text = try? db.prepare("SELECT value FROM meta WHERE key = 'schema_version'"),
            (try? text.step()) == true, let version = Int(text.text(0))
        else {
            throw StoreError("\(db.path): a trace without a schema version")
        }
        guard version <= Schema.version else {
            throw StoreError(
                "\(db.path): trace schema version \(version) is newer than this tool's (\(Schema.version)); use a newer tracectl")
        }
    }

    /// Run `runID`'s crash record: stored in the trace, or read beside a trace that cannot be written.
    package func crash(runID: Int64) throws -> CrashRecord? {
        if let crash = unimportedCrash, crash.runID == runID { return crash }
        return try CrashStore.load(db, runID: runID)
    }

    /// Every run, oldest first.
    package func runs() throws -> [RunInfo] {
        let s = try db.prepare(
            """
            SELECT id, name, start_wall_ns, end_wall_ns, status, command, host, pid, rank, world_size, options,
                   dropped_events, span_count, first_span_id FROM runs ORDER BY id
            """)
        var result: [RunInfo] = []
        while try s.step() {
            result.append(
                RunInfo(
                    id: s.int(0), name: s.text(1), startWallNanoseconds: s.int(2), endWallNanoseconds: s.optionalInt(3),
                    status: s.text(4), command: s.text(5), host: s.text(6), pid: s.int(7), rank: s.int(8),
                    worldSize: s.int(9), options: s.text(10), droppedEvents: s.int(11), spanCount: s.int(12),
                    firstSpanID: s.int(13)))
        }
        if let crash = unimportedCrash, let i = result.firstIndex(where: { $0.id == crash.runID && $0.runStatus == .incomplete }) {
            result[i].status = RunStatus.crashed.rawValue
        }
        return result
    }

    /// Run `id`, or the latest run when nil.
    package func run(_ id: Int64?) throws -> RunInfo {
        let all = try runs()
        guard let last = all.last else { throw StoreError("\(path): the trace holds no runs") }
        guard let id else { return last }
        guard let run = all.first(where: { $0.id == id }) else {
            throw StoreError("\(path): no run \(id) (runs: \(all.map { String($0.id) }.joined(separator: ", ")))")
        }
        return run
    }
}

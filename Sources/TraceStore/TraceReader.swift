import TraceEvents
import Foundation

/// One row of the `runs` table.
public struct RunInfo: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var startWallNanoseconds: Int64
    public var endWallNanoseconds: Int64?
    /// The `runs.status` text as stored; see `runStatus`.
    public var status: String
    /// The status, or nil for a value this version does not know.
    public var runStatus: RunStatus? { RunStatus(rawValue: status) }
    public var command: String
    public var host: String
    public var pid: Int64
    public var rank: Int64
    public var worldSize: Int64
    public var options: String
    public var droppedEvents: Int64
    public var spanCount: Int64
    /// The lowest span id of the run; its spans run up to the next run's first id.
    public var firstSpanID: Int64
}

/// A trace database opened for reading: validated, read-only, refusing writes and ATTACH.
public final class TraceReader {
    public let db: Database
    public let path: String

    /// Opens `path`, or throws one clear error: missing file, not SQLite, not a trace,
    /// or a schema newer than this tool.
    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw StoreError("\(path): no such file")
        }
        guard !isDirectory.boolValue else { throw StoreError("\(path): is a directory, not a trace file") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError("\(path): cannot read the file") }
        let magic = handle.readData(ofLength: 16)
        try? handle.close()
        guard magic == Data("SQLite format 3\u{0}".utf8) else { throw StoreError("\(path): not a SQLite database") }
        db = try Database(path: path, mode: .readOnly)
        try TraceReader.checkVersion(db)
        try db.makeReadOnly()
    }

    /// Throws unless `db` holds a trace this code can read.
    static func checkVersion(_ db: Database) throws {
        let tables: Int64
        do {
            tables = try db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'runs', 'span_data')") ?? 0
        } catch {
            throw StoreError("\(db.path): not a SQLite database (\(error))")
        }
        guard tables == 3 else { throw StoreError("\(db.path): a SQLite database, but not a trace (no meta/runs/span_data tables)") }
        guard let text = try? db.prepare("SELECT value FROM meta WHERE key = 'schema_version'"),
              try text.step(), let version = Int(text.text(0)) else {
            throw StoreError("\(db.path): a trace without a schema version")
        }
        guard version <= Schema.version else {
            throw StoreError("\(db.path): trace schema version \(version) is newer than this tool's (\(Schema.version)); use a newer tracectl")
        }
    }

    /// Every run, oldest first.
    public func runs() throws -> [RunInfo] {
        let s = try db.prepare("""
            SELECT id, name, start_wall_ns, end_wall_ns, status, command, host, pid, rank, world_size, options,
                   dropped_events, span_count, first_span_id FROM runs ORDER BY id
            """)
        var result: [RunInfo] = []
        while try s.step() {
            result.append(RunInfo(id: s.int(0), name: s.text(1), startWallNanoseconds: s.int(2), endWallNanoseconds: s.optionalInt(3),
                                  status: s.text(4), command: s.text(5), host: s.text(6), pid: s.int(7), rank: s.int(8),
                                  worldSize: s.int(9), options: s.text(10), droppedEvents: s.int(11), spanCount: s.int(12),
                                  firstSpanID: s.int(13)))
        }
        return result
    }

    /// Run `id`, or the latest run when nil.
    public func run(_ id: Int64?) throws -> RunInfo {
        let all = try runs()
        guard let last = all.last else { throw StoreError("\(path): the trace holds no runs") }
        guard let id else { return last }
        guard let run = all.first(where: { $0.id == id }) else {
            throw StoreError("\(path): no run \(id) (runs: \(all.map { String($0.id) }.joined(separator: ", ")))")
        }
        return run
    }
}

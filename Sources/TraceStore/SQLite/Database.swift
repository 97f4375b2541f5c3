import CSQLite
import Foundation

/// An error from SQLite or from a trace file that is not what it should be.
package struct StoreError: Error, CustomStringConvertible, Equatable {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// A SQLite connection: just what the store and the tools need.
package final class Database {
    let handle: OpaquePointer
    package let path: String

    /// How a file is opened. `immutable` reads a file that cannot change and needs no lock
    /// or `-shm` file (a WAL trace on a read-only file system).
    package enum Mode { case readOnly, readWrite, immutable }

    /// Opens (or, read-write, creates) the database at `path`.
    package init(path: String, mode: Mode) throws {
        var db: OpaquePointer?
        let flags: Int32
        var name = path
        switch mode {
        case .readOnly: flags = SQLITE_OPEN_READONLY
        case .readWrite: flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .immutable:
            flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/".utf8)
            name =
                "file:" + path.utf8.map { allowed.contains($0) ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0) }.joined()
                + "?immutable=1"
        }
        let rc = sqlite3_open_v2(name, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw StoreError("cannot open \(path): \(message)")
        }
        handle = db
        self.path = path
        sqlite3_busy_timeout(db, 5000)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        sqlite3_close_v2(handle)
        progressBox?.release()
    }

    /// SQLite's message for the last error; a full database says `fullMessage` when it is set.
    var message: String {
        if sqlite3_errcode(handle) & 0xff == SQLITE_FULL, let fullMessage { return fullMessage }
        return String(cString: sqlite3_errmsg(handle))
    }

    /// What "database or disk is full" means for this connection (a size limit set on purpose).
    package var fullMessage: String?

    /// How long a statement waits for another connection's lock before it fails.
    package func setBusyTimeout(milliseconds: Int32) { sqlite3_busy_timeout(handle, milliseconds) }

    /// Runs one or more statements without results.
    package func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let text = rc & 0xff == SQLITE_FULL && fullMessage != nil ? message : error.map { String(cString: $0) } ?? message
            sqlite3_free(error)
            throw StoreError(text)
        }
    }

    package func prepare(_ sql: String) throws -> Statement { try Statement(self, sql) }

    /// Prepares `sql`, which must hold exactly one statement (user queries).
    package func prepareSingle(_ sql: String) throws -> Statement { try Statement(self, sql, single: true) }

    /// Runs `body` in one transaction, rolled back if it throws.
    package func transaction<R>(_ body: () throws -> R) throws -> R {
        try execute("BEGIN")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The first column of the first row of `sql`, as an integer.
    package func scalar(_ sql: String, _ values: [SQLValue] = []) throws -> Int64? {
        let s = try prepare(sql)
        try s.bind(values)
        return try s.step() ? s.optionalInt(0) : nil
    }

    package var lastInsertID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Refuses writes and ATTACH on this connection (for user queries).
    package func makeReadOnly() throws {
        try execute("PRAGMA query_only = 1")
        sqlite3_limit(handle, SQLITE_LIMIT_ATTACHED, 0)
    }

    /// Lets `progress` run every `instructions` virtual-machine steps (nil removes it); when it
    /// returns true the running statement stops with SQLITE_INTERRUPT.
    package func setProgressHandler(every instructions: Int32, _ progress: (() -> Bool)?) {
        guard let progress else {
            sqlite3_progress_handler(handle, 0, nil, nil)
            progressBox?.release()
            progressBox = nil
            return
        }
        let box = Unmanaged.passRetained(ProgressBox(progress))
        progressBox?.release()
        progressBox = box
        sqlite3_progress_handler(
            handle, instructions,
            { raw in
                Unmanaged<ProgressBox>.fromOpaque(raw!).takeUnretainedValue().body() ? 1 : 0
            }, box.toOpaque())
    }

    /// Stops any statement that runs longer than `seconds` from now (nil: no limit).
    package func setTimeLimit(seconds: Double?) {
        guard let seconds else { return setProgressHandler(every: 0, nil) }
        let deadline = Date().addingTimeInterval(seconds)
        setProgressHandler(every: 100_000) { Date() > deadline }
    }

    private var progressBox: Unmanaged<ProgressBox>?
    private final class ProgressBox {
        let body: () -> Bool
        init(_ body: @escaping () -> Bool) { self.body = body }
    }
}

/// A value bound to or read from a statement.
package enum SQLValue: Equatable, Sendable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
}

/// A prepared statement.
package final class Statement {
    let handle: OpaquePointer
    package unowned let db: Database

    /// Prepares the first statement of `sql`; `single` refuses text that holds more than one.
    init(_ db: Database, _ sql: String, single: Bool = false) throws {
        var stmt: OpaquePointer?
        var more = false
        let rc = sql.withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let rc = sqlite3_prepare_v2(db.handle, text, -1, &stmt, &tail)
            if rc == SQLITE_OK, single, let tail {
                // Whatever follows must prepare to nothing (only spaces, semicolons and comments).
                var next: OpaquePointer?
                more = sqlite3_prepare_v2(db.handle, tail, -1, &next, nil) != SQLITE_OK || next != nil
                sqlite3_finalize(next)
            }
            return rc
        }
        guard rc == SQLITE_OK else { throw StoreError(db.message) }
        guard let stmt else { throw StoreError("no SQL statement (the text is empty or only comments)") }
        guard !more else {
            sqlite3_finalize(stmt)
            throw StoreError("one statement at a time: there is more after the first")
        }
        handle = stmt
        self.db = db
    }

    deinit { sqlite3_finalize(handle) }

    package func bind(_ values: [SQLValue]) throws {
        for (i, v) in values.enumerated() { try bind(v, at: Int32(i + 1)) }
    }

    package func bind(_ value: SQLValue, at index: Int32) throws {
        let rc: Int32
        switch value {
        case .null: rc = sqlite3_bind_null(handle, index)
        case .int(let v): rc = sqlite3_bind_int64(handle, index, v)
        case .double(let v): rc = sqlite3_bind_double(handle, index, v)
        case .text(let v):
            // With its length: a NUL inside the text is kept, not the end of it.
            var text = v
            rc = text.withUTF8 { utf8 in
                utf8.withMemoryRebound(to: CChar.self) { chars in
                    // An empty buffer may have no address; SQLite needs one for an empty (not NULL) text.
                    sqlite3_bind_text(
                        handle, index, chars.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(chars.count), SQLITE_TRANSIENT_PTR)
                }
            }
        case .blob(let v): rc = v.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32(v.count), SQLITE_TRANSIENT_PTR) }
        }
        if rc != SQLITE_OK { throw StoreError(db.message) }
    }

    @inline(__always) package func bind(_ value: Int64, at index: Int32) {
        sqlite3_bind_int64(handle, index, value)
    }

    @inline(__always) package func bindNull(at index: Int32) { sqlite3_bind_null(handle, index) }

    /// Advances; true when a row is available.
    @discardableResult
    package func step() throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw StoreError(db.message)
        }
    }

    /// Runs to completion and resets for reuse.
    package func run(_ values: [SQLValue] = []) throws {
        if !values.isEmpty { try bind(values) }
        defer { reset() }
        while try step() {}
    }

    package func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Resets for the next step when every parameter is bound again anyway.
    @inline(__always) package func resetKeepingBindings() { sqlite3_reset(handle) }

    package var columnCount: Int32 { sqlite3_column_count(handle) }
    package func columnName(_ i: Int32) -> String { String(cString: sqlite3_column_name(handle, i)) }
    package func isNull(_ i: Int32) -> Bool { sqlite3_column_type(handle, i) == SQLITE_NULL }
    package func int(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }
    package func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }
    /// The column as text, NULs inside it included.
    package func text(_ i: Int32) -> String {
        guard let p = sqlite3_column_text(handle, i) else { return "" }
        let n = Int(sqlite3_column_bytes(handle, i))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }
    package func optionalInt(_ i: Int32) -> Int64? { isNull(i) ? nil : int(i) }
    package func optionalText(_ i: Int32) -> String? { isNull(i) ? nil : text(i) }

    /// The column as a typed value.
    package func value(_ i: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, i) {
        case SQLITE_INTEGER: return .int(int(i))
        case SQLITE_FLOAT: return .double(double(i))
        case SQLITE_TEXT: return .text(text(i))
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(handle, i))
            guard let p = sqlite3_column_blob(handle, i) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }

    /// True for statements that do not write (SELECT, read-only PRAGMA, EXPLAIN).
    package var isReadOnly: Bool { sqlite3_stmt_readonly(handle) != 0 }
}

/// SQLite's SQLITE_TRANSIENT: copy the bound bytes.
let SQLITE_TRANSIENT_PTR = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

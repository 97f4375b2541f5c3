import Foundation

/// What a writer checks before it appends to an existing file, and how it sets a file up:
/// a damaged or foreign file is refused with one line instead of being written into.
enum TraceFileCheck {
    /// Files up to this size get `PRAGMA quick_check` before a run is appended; bigger ones
    /// only have their header checked (quick_check reads every page).
    static let quickCheckLimit: Int64 = 64 << 20
    /// Ids at or above this are refused: appending would overflow them (a crafted or damaged file).
    static let idLimit: Int64 = 1 << 53

    /// Throws unless the file at `path` (of `size` bytes, 0 for a new file) looks like SQLite.
    static func checkHeader(_ path: String, size: Int64) throws {
        guard size > 0 else { return }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw StoreError("\(path): cannot read the file") }
        let header = handle.readData(ofLength: 100)
        try? handle.close()
        guard header.count == 100, header.prefix(16) == Data("SQLite format 3\u{0}".utf8) else {
            throw StoreError("\(path): not a SQLite file; refusing to append a run to it")
        }
        let pageSize = Int(header[16]) << 8 | Int(header[17])
        let realPageSize = pageSize == 1 ? 65536 : pageSize
        guard realPageSize >= 512, realPageSize & (realPageSize - 1) == 0, size % Int64(realPageSize) == 0 else {
            throw StoreError("\(path): a damaged SQLite file (bad page size or length); refusing to append a run to it")
        }
    }

    /// Creates the schema in a new file, or checks an existing trace before a run is appended.
    static func prepare(_ db: Database, size: Int64) throws {
        // WAL with synchronous=NORMAL: a killed process loses nothing committed. The writer
        // checkpoints itself, passively about once a second and when the run ends.
        try db.execute(
            """
            PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16000;
            PRAGMA wal_autocheckpoint = 0
            """)
        try db.execute("BEGIN IMMEDIATE")
        do {
            try createOrCheck(db, size: size)
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    private static func createOrCheck(_ db: Database, size: Int64) throws {
        let hasMeta = try db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'") ?? 0
        if hasMeta == 0 {
            let objects = try db.scalar("SELECT count(*) FROM sqlite_master") ?? 0
            guard objects == 0 else { throw StoreError("\(db.path): an existing SQLite database that is not a trace") }
            try db.execute(Schema.tables + Schema.views)
            try db.prepare("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?), ('created_by', 'tracewell')")
                .run([.text(String(Schema.version))])
            return
        }
        try TraceReader.checkVersion(db)
        if size <= quickCheckLimit {
            let check = try db.prepare("PRAGMA quick_check(1)")
            guard try check.step(), check.text(0) == "ok" else {
                throw StoreError("\(db.path): a damaged trace (quick_check: \(check.text(0))); refusing to append a run to it")
            }
        }
        for (table, column) in [
            ("span_data", "id"), ("signatures", "id"), ("runs", "id"), ("graphs", "id"),
            ("strings", "id"), ("shapes", "id"),
        ] {
            let largest = try db.scalar("SELECT max(\(column)) FROM \(table)") ?? 0
            guard largest >= 0, largest < idLimit else {
                throw StoreError("\(db.path): a damaged trace (\(table) id \(largest) is out of range); refusing to append a run to it")
            }
        }
    }
}

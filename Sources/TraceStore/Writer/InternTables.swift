import TraceRuntime

/// The `strings` and `shapes` tables: the process's interned names and shape lists, stored once
/// per file and looked up by the process's ids. Used on the drain thread and by `finish`.
final class InternTables {
    private let db: Database
    /// The session's interned names and shapes, which spans refer to by id.
    private let names: Interner
    private let insertText: Statement
    private let selectText: Statement
    private let insertShapes: Statement
    private let selectShapes: Statement
    private var stringIDs: [UInt32: Int64] = [:]
    private var textIDs: [String: Int64] = [:]
    private var shapeIDs: [UInt32: Int64] = [:]

    init(_ db: Database, names: Interner) throws {
        self.db = db
        self.names = names
        insertText = try db.prepare("INSERT OR IGNORE INTO strings(text) VALUES (?)")
        selectText = try db.prepare("SELECT id FROM strings WHERE text = ?")
        insertShapes = try db.prepare("INSERT OR IGNORE INTO shapes(text, dtypes) VALUES (?, ?)")
        selectShapes = try db.prepare("SELECT id FROM shapes WHERE text = ? AND dtypes = ?")
    }

    /// The row of the process's interned string `processID`.
    func stringID(_ processID: UInt32) throws -> Int64 {
        if let id = stringIDs[processID] { return id }
        let id = try textID(names.string(processID))
        stringIDs[processID] = id
        return id
    }

    /// The row of `text` in `strings`, inserting it if needed.
    func textID(_ text: String) throws -> Int64 {
        if let id = textIDs[text] { return id }
        try insertText.run([.text(text)])
        let id = try first(selectText, [.text(text)])
        textIDs[text] = id
        return id
    }

    /// The row of the process's interned shape list `processID`.
    func shapeID(_ processID: UInt32) throws -> Int64 {
        if let id = shapeIDs[processID] { return id }
        let shapes = names.shapes(processID)
        try insertShapes.run([.text(shapes.text), .text(shapes.dtypes)])
        let id = try first(selectShapes, [.text(shapes.text), .text(shapes.dtypes)])
        shapeIDs[processID] = id
        return id
    }

    private func first(_ s: Statement, _ values: [SQLValue]) throws -> Int64 {
        try s.bind(values)
        defer { s.reset() }
        guard try s.step() else { throw StoreError("\(db.path): an interned row vanished while writing") }
        return s.int(0)
    }
}

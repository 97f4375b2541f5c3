import TraceStore

/// One user SQL statement on a trace (`tracectl query`): read-only, one statement, rows streamed.
package struct TraceQuery {
    /// Kept open for the statement, which refers to its connection.
    private let reader: TraceReader
    private let statement: Statement
    private let timeout: Double?

    /// Prepares `sql` on `reader`'s read-only connection; refuses writes, ATTACH and a second statement.
    /// With `timeout`, the statement is stopped after that many seconds.
    package init(_ reader: TraceReader, sql: String, timeout: Double? = nil) throws {
        self.timeout = timeout
        self.reader = reader
        let keyword = sql.drop { $0.isWhitespace }.prefix(6).uppercased()
        if keyword == "ATTACH" || keyword == "DETACH" {
            throw StoreError("query: only read-only statements are allowed; this one writes")
        }
        do {
            statement = try reader.db.prepareSingle(sql)
        } catch {
            throw StoreError("query: \(error)")
        }
        guard statement.isReadOnly else { throw StoreError("query: only read-only statements are allowed; this one writes") }
    }

    /// Prints every row in `format` through `emit` (one call per chunk of lines): JSON and CSV row by
    /// row, tables in chunks aligned on their first 1000 rows.
    package func run(_ format: OutputFormat, emit: (String) -> Void) throws {
        let columns = (0..<statement.columnCount).map { Table.Column(statement.columnName($0), key: statement.columnName($0)) }
        var table = Table(columns)
        var headerDone = false
        var first = true
        func flush(final: Bool) {
            switch format {
            case .table, .csv:
                var rendered = table.render(format).split(separator: "\n", omittingEmptySubsequences: false)
                if headerDone { rendered.removeFirst() }
                if !rendered.isEmpty { emit(rendered.joined(separator: "\n")) }
            case .json:
                for row in table.rows {
                    emit((first ? "[" : ",") + table.object(row))
                    first = false
                }
                if final { emit(first ? "[]" : "]") }
            }
            headerDone = true
            table.rows.removeAll(keepingCapacity: true)
        }
        statement.db.setTimeLimit(seconds: timeout)
        defer { statement.db.setTimeLimit(seconds: nil) }
        do {
            while try statement.step() {
                table.append(
                    (0..<statement.columnCount).map { i in
                        switch statement.value(i) {
                        case .null: .null
                        case .int(let v): .int(v)
                        case .double(let v): .number(v, JSON.number(v))
                        case .text(let t): .text(t)
                        case .blob(let b): .text("<\(b.count) bytes>")
                        }
                    })
                if table.rows.count == 1000 { flush(final: false) }
            }
        } catch let error as StoreError where error.description == "interrupted" && timeout != nil {
            throw StoreError("query: stopped after \(timeout!) s (--timeout)")
        } catch {
            throw StoreError("query: \(error)")
        }
        flush(final: true)
    }
}

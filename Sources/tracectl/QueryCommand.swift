import ArgumentParser
import TraceStore
import TraceTools

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one read-only SQL statement against a trace.",
        discussion: """
            The connection is read-only: writes, ATTACH and schema changes are refused. Use the spans view \
            (see Traces/README.md), e.g.: tracectl query t.sqlite "SELECT name, sum(dur_ns) FROM spans GROUP BY name"
            """)

    @Argument(help: "A trace file (.sqlite).")
    var database: String
    @Argument(help: "One SQL statement.")
    var sql: String
    @Option(help: "table, json or csv.")
    var format: OutputFormat = .table

    func run() throws {
        let reader = try TraceReader(path: database)
        let keyword = sql.drop { $0.isWhitespace }.prefix(6).uppercased()
        if keyword == "ATTACH" || keyword == "DETACH" {
            throw Failure("query: only read-only statements are allowed; this one writes")
        }
        let statement: Statement
        do {
            statement = try reader.db.prepareSingle(sql)
        } catch {
            throw Failure("query: \(error)")
        }
        guard statement.isReadOnly else { throw Failure("query: only read-only statements are allowed; this one writes") }
        try QueryPrinter(statement: statement, format: format).print()
    }
}

/// Streams rows: JSON and CSV row by row; tables in chunks aligned on their first 1000 rows.
struct QueryPrinter {
    let statement: Statement
    let format: OutputFormat

    func print() throws {
        let columns = (0..<statement.columnCount).map { Table.Column(statement.columnName($0), key: statement.columnName($0)) }
        var table = Table(columns)
        var headerDone = false
        var first = true
        func flush(final: Bool) {
            switch format {
            case .table:
                var rendered = table.render(.table).split(separator: "\n", omittingEmptySubsequences: false)
                if headerDone { rendered.removeFirst() }
                if !rendered.isEmpty { Swift.print(rendered.joined(separator: "\n")) }
            case .csv:
                var rendered = table.render(.csv).split(separator: "\n", omittingEmptySubsequences: false)
                if headerDone { rendered.removeFirst() }
                if !rendered.isEmpty { Swift.print(rendered.joined(separator: "\n")) }
            case .json:
                for row in table.rows {
                    Swift.print((first ? "[" : ",") + table.object(row))
                    first = false
                }
                if final { Swift.print(first ? "[]" : "]") }
            }
            headerDone = true
            table.rows.removeAll(keepingCapacity: true)
        }
        do {
            while try statement.step() {
                table.append((0..<statement.columnCount).map { i in
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
        } catch {
            throw Failure("query: \(error)")
        }
        flush(final: true)
    }
}

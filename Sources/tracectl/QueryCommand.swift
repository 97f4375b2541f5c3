import ArgumentParser
import TraceTools

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one read-only SQL statement against a trace.",
        discussion: """
            The connection is read-only: writes, ATTACH and schema changes are refused. Use the spans view \
            (see Traces/README.md), e.g.: tracectl query t.sqlite "SELECT name, sum(dur_ns) FROM spans GROUP BY name"
            """)

    @OptionGroup var file: TraceFile
    @Argument(help: "One SQL statement.")
    var sql: String
    @Option(help: "table, json or csv.")
    var format: OutputFormat = .table
    @Option(help: "Stop the statement after this many seconds.")
    var timeout: Double = 600

    func validate() throws {
        if !(timeout > 0) { throw ValidationError("--timeout must be positive") }
    }

    func run() throws {
        try TraceQuery(file.open(), sql: sql, timeout: timeout).run(format) { print($0) }
    }
}

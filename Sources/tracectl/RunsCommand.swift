import ArgumentParser
import TraceTools

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the runs in a trace file.")

    @OptionGroup var file: TraceFile
    @Option(help: "table, json or csv.")
    var format: OutputFormat = .table

    func run() throws {
        print(try RunList.table(file.open()).render(format))
    }
}

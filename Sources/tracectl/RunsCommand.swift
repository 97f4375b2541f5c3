import ArgumentParser
import Foundation
import TraceStore
import TraceTools

struct Runs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the runs in a trace file.")

    @Argument(help: "A trace file (.sqlite).")
    var database: String
    @Option(help: "table, json or csv.")
    var format: OutputFormat = .table

    func run() throws {
        let reader = try TraceReader(path: database)
        var table = Table([.init("Id", key: "id", right: true), .init("Name", key: "name"), .init("Start", key: "start"),
                           .init("Duration", key: "duration_ns", right: true), .init("Status", key: "status"),
                           .init("Steps", key: "steps", right: true), .init("Spans", key: "spans", right: true),
                           .init("Dropped", key: "dropped_events", right: true)])
        let steps = try reader.db.prepare("SELECT count(*) FROM steps WHERE run_id = ?")
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        for run in try reader.runs() {
            try steps.bind([.int(run.id)])
            _ = try steps.step()
            let stepCount = steps.int(0)
            steps.reset()
            let start = Date(timeIntervalSince1970: Double(run.startWallNanoseconds) / 1e9)
            let duration = run.endWallNanoseconds.map { $0 - run.startWallNanoseconds }
            table.append([.int(run.id), .text(run.name), .text(formatter.string(from: start) + " UTC"),
                          duration.map { .number(Double($0), Units.duration(Double($0))) } ?? .null,
                          .text(run.status), .int(stepCount), .int(run.spanCount), .int(run.droppedEvents)])
        }
        print(table.render(format))
    }
}

import Foundation
import TraceStore

/// The runs of a trace file as a table (`tracectl runs`).
package enum RunList {
    /// One row per run, oldest first: id, name, start, duration, status, steps, spans, dropped events.
    package static func table(_ reader: TraceReader) throws -> Table {
        var table = Table([
            .init("Id", key: "id", right: true), .init("Name", key: "name"), .init("Start", key: "start"),
            .init("Duration", key: "duration_ns", right: true), .init("Status", key: "status"),
            .init("Steps", key: "steps", right: true), .init("Spans", key: "spans", right: true),
            .init("Dropped", key: "dropped_events", right: true),
        ])
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
            let duration = run.endWallNanoseconds.flatMap { end in
                let (d, overflow) = end.subtractingReportingOverflow(run.startWallNanoseconds)
                return overflow ? nil : d
            }
            table.append([
                .int(run.id), .text(run.name), .text(formatter.string(from: start) + " UTC"),
                duration.map { .number(Double($0), Units.duration(Double($0))) } ?? .null,
                .text(run.status), .int(stepCount), .int(run.spanCount), .int(run.droppedEvents),
            ])
        }
        return table
    }
}

import Foundation
import TraceStore

/// The ranks panel's numbers, computed by `RankReport` (the same as `tracectl ranks`) when
/// the report's files are the ranks of one data-parallel run: per rank and step the step
/// time, the all-reduce wait and transfer training waited for; POP's load balance and
/// communication efficiency; the straggler.
enum RankPayload {
    /// The JSON object, or nil when the traces are not the ranks of one run.
    static func json(_ traces: [(reader: TraceReader, run: Int64?)]) -> String? {
        guard traces.count > 1 else { return nil }
        let runs = Set(traces.map(\.run))
        guard runs.count == 1, let report = try? RankReport(RankSet(paths: traces.map(\.reader.path), run: runs.first!)) else {
            return nil
        }
        let cells = report.steps.sorted { ($0.step, $0.rank) < ($1.step, $1.rank) }.map {
            "[\($0.step),\($0.rank),\($0.total),\($0.allReduceWait),\($0.allReduceTransfer)]"
        }
        let straggler = report.straggler.map { s in
            "{\"rank\":\(s.rank),\"causedNs\":\(s.caused),\"module\":\(s.module.map(JSON.quote) ?? "null"),\"growthNs\":\(s.growth)}"
        }
        return "{\"alignment\":\(JSON.quote(report.set.alignment)),\"loadBalance\":\(number(report.loadBalance)),"
            + "\"communicationEfficiency\":\(number(report.communicationEfficiency)),\"straggler\":\(straggler ?? "null"),"
            + "\"cells\":[\(cells.joined(separator: ","))]}"
    }

    private static func number(_ value: Double) -> String { value.isFinite ? JSON.number(value) : "null" }
}

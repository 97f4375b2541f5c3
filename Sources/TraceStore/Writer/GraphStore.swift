import Synchronization
import TraceEvents

/// The `graphs`, `graph_nodes` and `graph_calls` tables: static graphs queued from any thread
/// and written by the drain thread with the next batch (or by `finish`).
final class GraphStore: Sendable {
    private let pending = Mutex<[StaticGraph]>([])

    /// Queues `graph` (any thread).
    func enqueue(_ graph: StaticGraph) { pending.withLock { $0.append(graph) } }

    /// Writes the queued graphs of run `runID` (inside the caller's transaction).
    func writePending(_ db: Database, runID: Int64) throws {
        let graphs = pending.withLock { all -> [StaticGraph] in
            defer { all.removeAll() }
            return all
        }
        guard !graphs.isEmpty else { return }
        let graph = try db.prepare("INSERT INTO graphs(run_id, step, label, inputs, outputs) VALUES (?, ?, ?, ?, ?)")
        let node = try db.prepare("INSERT INTO graph_nodes VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        let call = try db.prepare("INSERT INTO graph_calls VALUES (?, ?, ?, ?, ?)")
        for g in graphs {
            try graph.run([
                .int(runID), .int(Int64(g.step)), .text(g.label),
                .text(g.inputs.map { "\($0.name) : \($0.type)" }.joined(separator: "\n")),
                .text(g.outputs.joined(separator: ", ")),
            ])
            let id = db.lastInsertID
            for (i, n) in g.nodes.enumerated() {
                try node.run([
                    .int(id), .int(Int64(i)), .text(n.op), .text(n.output.name), .text(n.output.type),
                    .text(n.inputs.joined(separator: ", ")), n.scope == 0 ? .null : .int(Int64(n.scope)),
                    n.bypassOf == 0 ? .null : .int(Int64(n.bypassOf)),
                ])
            }
            for (i, c) in g.calls.enumerated() {
                try call.run([
                    .int(id), .int(Int64(i)), c.caller == 0 ? .null : .int(Int64(c.caller)), .int(Int64(c.callee)),
                    .int(Int64(c.count)),
                ])
            }
        }
    }
}

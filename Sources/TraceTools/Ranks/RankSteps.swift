import Foundation
import TraceStore

/// Where each rank's step time went, from its trace: on the training thread forward,
/// backward, the wait for all-reduces at the end of backward (split into waiting for the
/// slowest rank and transfer, from the communication thread's measured spans), optimizer and
/// the rest, summing to the step.
package struct RankStep {
    /// The profiler step.
    package var step: Int64
    /// The rank.
    package var rank: Int64
    /// Step start on the common axis (ns).
    package var start: Int64 = 0
    /// Step duration (ns).
    package var total: Int64 = 0
    /// Top-level forward spans on the training thread (ns).
    package var forward: Int64 = 0
    /// Backward, without the end-of-backward wait for all-reduces (ns).
    package var backward: Int64 = 0
    /// Of that wait, time waiting for the slowest rank (ns).
    package var allReduceWait: Int64 = 0
    /// Of that wait, time transferring (ns).
    package var allReduceTransfer: Int64 = 0
    /// Optimizer spans (ns).
    package var optimizer: Int64 = 0
    /// The rest of the step (ns).
    package var other: Int64 { total - forward - backward - allReduceWait - allReduceTransfer - optimizer }
    /// Communication that training waited for (the non-useful part, in POP's terms).
    package var communication: Int64 { allReduceWait + allReduceTransfer }
    /// When the rank arrived at each bucket's all-reduce (common time axis), by bucket name.
    package var arrivals: [String: Int64] = [:]
    /// Leaf-module forward+backward time in this step, by module path.
    package var modules: [String: Int64] = [:]
}

extension RankSet {
    static let syncSpan = "ddp wait for all_reduce"

    /// Every step of every rank.
    package func steps() throws -> [RankStep] {
        try ranks.flatMap { try steps(of: $0) }
    }

    func steps(of rank: Rank) throws -> [RankStep] {
        let db = rank.reader.db
        var byStep: [Int64: RankStep] = [:]
        let stepRows = try db.prepare("SELECT id, step, ts_ns, dur_ns FROM spans WHERE run_id = ? AND kind = 'step'")
        try stepRows.bind([.int(rank.run.id)])
        var stepIDs: [Int64: Int64] = [:]
        while try stepRows.step() {
            var s = RankStep(step: stepRows.int(1), rank: rank.run.rank)
            s.start = stepRows.int(2) + rank.offset
            s.total = stepRows.int(3)
            byStep[s.step] = s
            stepIDs[stepRows.int(0)] = s.step
        }
        // Children of the step span on the training thread, and the sync wait inside backward.
        let children = try db.prepare(
            """
            SELECT parent_id, kind, name, dur_ns FROM spans
            WHERE run_id = ? AND kind IN ('forward', 'range', 'optimizer') AND parent_id IN (SELECT id FROM spans WHERE run_id = ?1 AND kind = 'step')
            """)
        try children.bind([.int(rank.run.id)])
        while try children.step() {
            guard let step = stepIDs[children.int(0)] else { continue }
            let kind = children.text(1)
            let name = children.text(2)
            let dur = children.int(3)
            switch kind {
            case "forward": byStep[step]?.forward += dur
            case "optimizer": byStep[step]?.optimizer += dur
            case "range" where name == "backward": byStep[step]?.backward += dur
            default: break
            }
        }
        // The training thread's wait, split by the communication thread's wait spans that overlap it.
        let syncs = try intervals(db, rank, "kind = 'collective' AND name = '\(RankSet.syncSpan)'")
        let waits = try intervals(db, rank, "kind = 'comm_wait'")
        for (step, list) in syncs {
            for sync in list {
                let waited = (waits[step] ?? []).reduce(Int64(0)) { $0 + max(0, min($1.end, sync.end) - max($1.start, sync.start)) }
                byStep[step]?.backward -= sync.end - sync.start
                byStep[step]?.allReduceWait += waited
                byStep[step]?.allReduceTransfer += sync.end - sync.start - waited
            }
        }
        // Arrival at each bucket: the start of its measured wait (the rank's entry into the all-reduce).
        let arrivals = try db.prepare(
            """
            SELECT w.step, p.name, w.ts_ns FROM spans w JOIN spans p ON p.id = w.parent_id
            WHERE w.run_id = ? AND w.kind = 'comm_wait' AND p.name LIKE 'all_reduce bucket %'
            """)
        try arrivals.bind([.int(rank.run.id)])
        while try arrivals.step() {
            byStep[arrivals.int(0)]?.arrivals[arrivals.text(1)] = arrivals.int(2) + rank.offset
        }
        let modules = try db.prepare(
            """
            SELECT step, module_path, sum(dur_ns) FROM spans s WHERE run_id = ? AND kind IN ('forward', 'backward')
              AND module_path <> '' AND NOT EXISTS (SELECT 1 FROM modules c WHERE c.run_id = s.run_id AND c.path LIKE s.module_path || '.%')
            GROUP BY 1, 2
            """)
        try modules.bind([.int(rank.run.id)])
        while try modules.step() { byStep[modules.int(0)]?.modules[modules.text(1)] = modules.int(2) }
        return byStep.values.sorted { $0.step < $1.step }
    }

    private func intervals(_ db: Database, _ rank: Rank, _ filter: String) throws -> [Int64: [(start: Int64, end: Int64)]] {
        let s = try db.prepare("SELECT step, ts_ns, dur_ns FROM spans WHERE run_id = ? AND \(filter)")
        try s.bind([.int(rank.run.id)])
        var result: [Int64: [(start: Int64, end: Int64)]] = [:]
        while try s.step() { result[s.int(0), default: []].append((s.int(1), s.int(1) + s.int(2))) }
        return result
    }
}

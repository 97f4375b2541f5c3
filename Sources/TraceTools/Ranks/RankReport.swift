import Foundation

/// `tracectl ranks`: per step and rank where the time went, who arrived last at each bucket,
/// the straggler and why, and POP's efficiency metrics.
package struct RankReport {
    /// The rank traces analysed.
    package let set: RankSet
    /// Every analysed step of every rank.
    package let steps: [RankStep]

    /// Analyses `set`, optionally only steps in `range`.
    package init(_ set: RankSet, steps range: ClosedRange<Int64>? = nil) throws {
        self.set = set
        let all = try set.steps()
        steps = range.map { r in all.filter { r.contains($0.step) } } ?? all
    }

    /// Per rank: useful time (step time not spent waiting for communication) and total.
    package var perRank: [(rank: Int64, useful: Int64, total: Int64)] {
        Dictionary(grouping: steps, by: \.rank).map { rank, list in
            (rank, list.reduce(0) { $0 + $1.total - $1.communication }, list.reduce(0) { $0 + $1.total })
        }.sorted { $0.rank < $1.rank }
    }

    /// POP metrics: load balance = mean/max useful time, communication efficiency = max useful / max total.
    package var loadBalance: Double {
        let useful = perRank.map { Double($0.useful) }
        guard let top = useful.max(), top > 0 else { return 1 }
        return useful.reduce(0, +) / Double(useful.count) / top
    }

    /// POP communication efficiency: max useful time over max total time.
    package var communicationEfficiency: Double {
        let top = perRank.map { Double($0.total) }.max() ?? 0
        return top > 0 ? Double(perRank.map(\.useful).max() ?? 0) / top : 1
    }

    /// Per (step, bucket): the last rank to arrive and how long the first one waited for it.
    package var lastArrivals: [(step: Int64, bucket: String, rank: Int64, waited: Int64)] {
        var result: [(step: Int64, bucket: String, rank: Int64, waited: Int64)] = []
        for (step, list) in Dictionary(grouping: steps, by: \.step).sorted(by: { $0.key < $1.key }) {
            let buckets = Set(list.flatMap(\.arrivals.keys)).sorted()
            for bucket in buckets {
                let times = list.compactMap { s in s.arrivals[bucket].map { (s.rank, $0) } }
                guard times.count > 1, let last = times.max(by: { $0.1 < $1.1 }), let first = times.min(by: { $0.1 < $1.1 }) else {
                    continue
                }
                result.append((step, bucket, last.0, last.1 - first.1))
            }
        }
        return result
    }

    /// The rank that made the others wait longest in total, and on it the leaf module whose
    /// time grew most against its own median in the steps where it arrived last.
    package var straggler: (rank: Int64, caused: Int64, module: String?, growth: Int64)? {
        let arrivals = lastArrivals
        guard !arrivals.isEmpty else { return nil }
        let caused = Dictionary(grouping: arrivals, by: \.rank).mapValues { $0.reduce(0) { $0 + $1.waited } }
        guard let (rank, total) = caused.max(by: { $0.value < $1.value }), total > 0 else { return nil }
        let mine = steps.filter { $0.rank == rank }
        let lateSteps = Set(arrivals.filter { $0.rank == rank }.map(\.step))
        var growth: [String: Int64] = [:]
        let paths = Set(mine.flatMap(\.modules.keys))
        for path in paths {
            let times = mine.compactMap { $0.modules[path] }.sorted()
            guard !times.isEmpty else { continue }
            let median = times[times.count / 2]
            growth[path] = mine.filter { lateSteps.contains($0.step) }.reduce(0) { $0 + max(0, ($1.modules[path] ?? 0) - median) }
        }
        let worst = growth.max { $0.value < $1.value }
        return (rank, total, worst?.key, worst?.value ?? 0)
    }

    /// The report as a table (with alignment, POP metrics and straggler lines), JSON or CSV.
    package func render(_ format: OutputFormat) -> String {
        var table = Table([
            .init("Step", key: "step", right: true), .init("Rank", key: "rank", right: true),
            .init("Forward", key: "forward_ns", right: true), .init("Backward", key: "backward_ns", right: true),
            .init("AR wait", key: "allreduce_wait_ns", right: true),
            .init("AR transfer", key: "allreduce_transfer_ns", right: true),
            .init("Optimizer", key: "optimizer_ns", right: true), .init("Other", key: "other_ns", right: true),
            .init("Step time", key: "step_ns", right: true), .init("Last at", key: "last_at"),
        ])
        let last = Dictionary(grouping: lastArrivals, by: \.step)
        func cell(_ ns: Int64) -> Table.Cell { .number(Double(ns), Units.duration(Double(ns))) }
        for s in steps.sorted(by: { ($0.step, $0.rank) < ($1.step, $1.rank) }) {
            let buckets = (last[s.step] ?? []).filter { $0.rank == s.rank }.map(\.bucket).map {
                $0.replacingOccurrences(of: "all_reduce ", with: "")
            }
            table.append([
                .int(s.step), .int(s.rank), cell(s.forward), cell(s.backward), cell(s.allReduceWait),
                cell(s.allReduceTransfer), cell(s.optimizer), cell(s.other), cell(s.total),
                .text(buckets.joined(separator: ",")),
            ])
        }
        guard format == .table else { return table.render(format) }
        var lines = [
            "\(set.ranks.count) ranks of world size \(set.ranks[0].run.worldSize), job \(set.ranks[0].job ?? "?"); \(set.alignment)"
        ]
        lines.append(table.render(.table))
        lines.append(
            String(
                format: "load balance %.3f, communication efficiency %.3f, parallel efficiency %.3f (POP; >= 0.8 is good)",
                loadBalance, communicationEfficiency, loadBalance * communicationEfficiency))
        if let s = straggler {
            var line = "straggler: rank \(s.rank) made the others wait \(Units.duration(Double(s.caused))) in all"
            if let module = s.module, s.growth > 0 {
                line += "; its \(module) took \(Units.duration(Double(s.growth))) more than its median in the steps it arrived last"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

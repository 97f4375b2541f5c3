import TraceStore

/// The raw spans a report embeds: the steps of a window (by default around the slowest step),
/// at most `budget` spans, so the page stays small whatever the size of the trace.
struct SpanWindow {
    var steps: ClosedRange<Int64>?
    var rows: [SpanRow] = []
    /// Index of each row's parent in `rows`, or -1.
    var parents: [Int32] = []
    var truncated = false

    /// The steps to embed: `requested`, or the slowest step of `selected` widened alternately
    /// to both sides while the span count (from the steps table) stays within `budget`.
    static func choose(_ model: TraceModel, selected: ClosedRange<Int64>?, requested: ClosedRange<Int64>?, budget: Int) -> ClosedRange<
        Int64
    >? {
        if let requested { return requested }
        let steps = model.steps.values.filter { selected?.contains($0.step) ?? true }.sorted { $0.step < $1.step }
        guard !steps.isEmpty else { return selected }
        func spans(_ s: TraceModel.Step) -> Int {
            guard let a = s.firstSpanID, let b = s.lastSpanID, b >= a else { return 1 }
            return Int(min(b - a + 1, Int64(Int32.max)))
        }
        let slowest = steps.indices.max { (steps[$0].dur ?? 0, -$0) < (steps[$1].dur ?? 0, -$1) }!
        var lo = slowest
        var hi = slowest
        var total = spans(steps[slowest])
        var grew = true
        while grew {
            grew = false
            if hi + 1 < steps.count, total + spans(steps[hi + 1]) <= budget {
                hi += 1
                total += spans(steps[hi])
                grew = true
            }
            if lo > 0, total + spans(steps[lo - 1]) <= budget {
                lo -= 1
                total += spans(steps[lo])
                grew = true
            }
        }
        return steps[lo].step...steps[hi].step
    }

    private struct Enough: Error {}

    /// Reads the window's spans (at most `budget`).
    init(reader: TraceReader, model: TraceModel, steps: ClosedRange<Int64>?, budget: Int) throws {
        self.steps = steps
        var position: [Int64: Int32] = [:]
        var rows: [SpanRow] = []
        var parents: [Int32] = []
        do {
            try SpanScan.forEach(reader, model, steps: steps, label: "html") { row in
                guard rows.count < budget else { throw Enough() }
                position[row.id] = Int32(rows.count)
                parents.append(row.parent.flatMap { position[$0] } ?? -1)
                rows.append(row)
            }
        } catch is Enough {
            truncated = true
        }
        self.rows = rows
        self.parents = parents
    }

    /// The spans as columns: signature, parent distance, step, start gap, duration, live bytes.
    func encode(into columns: inout Columns) {
        columns.add("sig", rows.map(\.sig))
        columns.add("up", parents.enumerated().map { $1 < 0 ? 0 : Int64($0 - Int($1)) })
        columns.add("step", deltas(rows.map(\.step)), signed: true)
        // Start relative to the previous span's start when it is the parent, else to its end.
        var gaps: [Int64] = []
        gaps.reserveCapacity(rows.count)
        for i in rows.indices {
            guard i > 0 else {
                gaps.append(rows[i].ts)
                continue
            }
            let p = rows[i - 1]
            gaps.append(rows[i].ts - (parents[i] == Int32(i - 1) ? p.ts : p.ts + p.dur))
        }
        columns.add("gap", gaps, signed: true)
        columns.add("dur", rows.map(\.dur))
        if rows.allSatisfy({ $0.live != nil }), !rows.isEmpty {
            columns.add("live", deltas(rows.map { $0.live! }), signed: true)
        }
    }

    /// The innermost span running when live bytes peaked, and the peak.
    func peak(_ model: TraceModel) -> (index: Int, bytes: Int64)? {
        var best: (index: Int, bytes: Int64, depth: Int)?
        for (i, r) in rows.enumerated() {
            guard let p = r.peak else { continue }
            let depth = model.signatures[r.sig]?.depth ?? 0
            if best == nil || p > best!.bytes || (p == best!.bytes && depth > best!.depth && isInside(i, best!.index)) {
                best = (i, p, depth)
            }
        }
        return best.map { ($0.index, $0.bytes) }
    }

    private func isInside(_ i: Int, _ ancestor: Int) -> Bool {
        var p = Int(parents[i])
        while p >= 0 {
            if p == ancestor { return true }
            p = Int(parents[p])
        }
        return false
    }
}

import TraceStore

/// One span row, with its time made absolute (ns since the run started).
package struct SpanRow {
    package var id: Int64
    package var sig: Int64
    package var parent: Int64?
    package var step: Int64
    package var ts: Int64
    package var dur: Int64
    package var alloc: Int64?
    package var freed: Int64?
    package var peak: Int64?
    package var live: Int64?
}

/// Streams a run's spans in id order (start order per thread), optionally for some steps only.
package enum SpanScan {
    package static func forEach(
        _ reader: TraceReader, _ model: TraceModel, steps: ClosedRange<Int64>? = nil,
        label: String = "reading", _ body: (SpanRow) throws -> Void
    ) throws {
        let ids = model.spanIDs(steps: steps)
        let sql = """
            SELECT id, sig, up, step, ts, dur, alloc, freed, peak, live FROM span_data
            WHERE id BETWEEN ? AND ?\(steps == nil ? "" : " AND step BETWEEN ? AND ?") ORDER BY id
            """
        let s = try reader.db.prepare(sql)
        var values: [SQLValue] = [.int(ids.lowerBound), .int(ids.upperBound)]
        if let steps { values += [.int(steps.lowerBound), .int(steps.upperBound)] }
        try s.bind(values)
        let progress = ProgressBar(label, total: ids.upperBound - ids.lowerBound &+ 1)
        defer { progress.finish() }
        var lastStep: Int64 = -1
        var base: Int64 = 0
        var n: Int64 = 0
        while try s.step() {
            let id = s.int(0)
            let step = s.int(3)
            if step != lastStep {
                base = model.steps[step]?.baseNanoseconds ?? 0
                lastStep = step
            }
            let hasMemory = !s.isNull(9)
            let live = hasMemory ? try Checked.bounded(s.int(9), "span \(id): live bytes") : nil
            let dur = try Checked.bounded(s.int(5), "span \(id): duration")
            guard dur >= 0 else { throw Checked.damaged("span \(id): duration", dur) }
            try body(
                SpanRow(
                    id: id, sig: s.int(1), parent: s.isNull(2) ? nil : try Checked.difference(id, s.int(2), "span \(id): parent offset"),
                    step: step, ts: try Checked.bounded(Checked.sum(base, s.int(4), "span \(id): time"), "span \(id): time"),
                    dur: dur, alloc: hasMemory ? try Checked.bounded(s.int(6), "span \(id): allocated bytes") : nil,
                    freed: hasMemory ? try Checked.bounded(s.int(7), "span \(id): freed bytes") : nil,
                    peak: try live.map { try Checked.sum($0, s.int(8), "span \(id): peak bytes") }, live: live))
            n += 1
            if n & 0xffff == 0 { progress.update(id &- ids.lowerBound) }
        }
    }
}

/// Computes self time (duration minus children's) while spans stream in start order:
/// one stack of open ancestors per thread, so memory is bounded by nesting depth.
package struct SelfTimeTracker {
    struct Open {
        var row: SpanRow
        var children: Int64 = 0
    }
    /// Stacks of threads other than the current one.
    private var parked: [Int64: [Open]] = [:]
    private var thread: Int64 = -1
    private var stack: [Open] = []

    package init() {}

    /// Adds `row` (on `thread`); calls `finished` for every span whose subtree is now complete,
    /// with its self time.
    package mutating func add(_ row: SpanRow, thread: Int64, _ finished: (SpanRow, Int64) -> Void) {
        if thread != self.thread {
            parked[self.thread] = stack
            stack = parked.removeValue(forKey: thread) ?? []
            self.thread = thread
        }
        while let top = stack.last, top.row.id != row.parent {
            stack.removeLast()
            finished(top.row, top.row.dur - top.children)
        }
        if !stack.isEmpty { stack[stack.count - 1].children += row.dur }
        stack.append(Open(row: row))
    }

    /// Completes every open span.
    package mutating func finish(_ finished: (SpanRow, Int64) -> Void) {
        parked[thread] = stack
        stack = []
        for (_, var open) in parked {
            while let top = open.popLast() { finished(top.row, top.row.dur - top.children) }
        }
        parked = [:]
    }
}

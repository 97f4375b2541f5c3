import TraceRuntime

/// Decides which row each span gets and in which order rows are appended: pure logic, no SQL.
///
/// Rows are appended in start order (pre-order) with consecutive ids, the fastest insert SQLite
/// has, and each row stores `id − parent id`. So a span's row can be planned only once its
/// parent's row exists, and a finished subtree waits for its root: a step's spans are planned
/// together when the step ends. Spans that have waited through `waitLimit` batches for a parent
/// that is still open (a long step) are planned under a *placeholder* row reserved for that
/// parent, which becomes an `Update` when the parent ends. Placeholders never filled (a killed
/// process) are the spans that were still open.
///
/// The writer owns one planner and uses it on the drain thread only.
package struct RowPlanner {
    /// A row to append. Its id is `firstRow` + its position in `rows`.
    package struct Row: Equatable {
        /// Index into the batch's span groups, or −1 for a placeholder.
        var group: Int32
        var index: Int32
        /// `id − parent id`; nil for a top-level span or a placeholder.
        package var up: Int64?
        package var step: UInt32
        package var isPlaceholder: Bool { group < 0 }
    }

    /// A placeholder row to fill in: its span has ended.
    package struct Update {
        package var row: Int64
        package var record: SpanRecord
        package var sig: Int64
        package var up: Int64?
    }

    package typealias Span = (record: SpanRecord, sig: Int64)

    /// One thread's spans waiting for their parent's row.
    private struct ThreadQueue {
        var buffer: [Span] = []
        /// Rows reserved for spans that had not ended when their children were planned, by span id.
        var placeholders: [UInt64: Int64] = [:]
        /// Batches the buffer has waited through.
        var waited = 0
    }

    /// Rows planned in the current batch, in append order.
    package private(set) var rows: [Row] = []
    /// Placeholders filled in the current batch.
    package private(set) var updates: [Update] = []
    /// The id the next planned row gets.
    package private(set) var nextRow: Int64
    /// Batches spans may wait for an open parent before they go under a placeholder.
    package let waitLimit: Int
    /// A thread's waiting spans are planned at once beyond this many (bounds memory).
    package let waitCapacity: Int

    private var queues: [ThreadQueue] = []
    /// Span buffers planned in this batch (rows point into them), and emptied ones to reuse.
    private var groups: [[Span]] = []
    private var spare: [[Span]] = []
    private var order: [Int32] = []
    private var opened: [(id: UInt64, row: Int64)] = []

    /// A planner whose first row gets id `nextRow`.
    package init(nextRow: Int64, waitLimit: Int = 2, waitCapacity: Int = 1 << 20) {
        self.nextRow = nextRow
        self.waitLimit = waitLimit
        self.waitCapacity = waitCapacity
    }

    /// The id of `rows[0]`.
    package var firstRow: Int64 { nextRow - Int64(rows.count) }

    /// The span a non-placeholder row holds.
    @inline(__always)
    package func span(_ row: Row) -> Span { groups[Int(row.group)][Int(row.index)] }

    /// Spans that arrived but have no row yet (they wait for an open parent).
    package var waitingSpans: Int { queues.reduce(0) { $0 + $1.buffer.count } }

    /// Placeholder rows not filled in yet.
    package var openPlaceholders: Int { queues.reduce(0) { $0 + $1.placeholders.count } }

    /// Clears the previous batch's plan, keeping its memory.
    package mutating func startBatch() {
        rows.removeAll(keepingCapacity: true)
        updates.removeAll(keepingCapacity: true)
        for var g in groups {
            g.removeAll(keepingCapacity: true)
            spare.append(g)
        }
        groups.removeAll(keepingCapacity: true)
    }

    /// Takes one finished span (children arrive before their parents on each thread).
    package mutating func arrive(_ r: SpanRecord, sig: Int64) {
        let t = Int(r.thread)
        if t >= queues.count { queues += [ThreadQueue](repeating: ThreadQueue(), count: t + 1 - queues.count) }
        if let row = queues[t].placeholders.removeValue(forKey: r.id) {
            // It ended after its children were planned: fill in its reserved row.
            updates.append(
                Update(row: row, record: r, sig: sig, up: r.parent == 0 ? nil : row - placeholder(r.parent, thread: t, step: r.step)))
            plan(thread: t)
            return
        }
        queues[t].buffer.append((r, sig))
        if r.parent == 0 || (!queues[t].placeholders.isEmpty && queues[t].placeholders[r.parent] != nil) {
            plan(thread: t)
        }
    }

    /// Ends a batch: spans that have waited `waitLimit` batches are planned under placeholders.
    package mutating func endBatch() {
        for t in queues.indices where !queues[t].buffer.isEmpty {
            queues[t].waited += 1
            if queues[t].waited >= waitLimit || queues[t].buffer.count > waitCapacity { plan(thread: t) }
        }
    }

    /// Plans every waiting span (the run ends: their parents never will).
    package mutating func planAll() {
        for t in queues.indices { plan(thread: t) }
    }

    /// Plans the rows of a thread's waiting spans in start order; parents not among them get placeholders.
    private mutating func plan(thread t: Int) {
        guard !queues[t].buffer.isEmpty else { return }
        // Take the buffer (no copy) and give the queue a recycled one.
        var spans = spare.popLast() ?? []
        swap(&spans, &queues[t].buffer)
        queues[t].waited = 0
        let group = Int32(groups.count)
        // Start order is id order: sort positions, not records.
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: 0..<Int32(spans.count))
        spans.withUnsafeBufferPointer { b in order.sort { b[Int($0)].record.id < b[Int($1)].record.id } }
        opened.removeAll(keepingCapacity: true)
        for i in order {
            let r = spans[Int(i)].record
            while let top = opened.last, top.id != r.parent { opened.removeLast() }
            let up: Int64?
            if r.parent == 0 {
                up = nil
            } else if let parent = opened.last {
                up = nextRow - parent.row
            } else {
                let parent = placeholder(r.parent, thread: t, step: r.step)
                up = nextRow - parent
            }
            opened.append((r.id, nextRow))
            rows.append(Row(group: group, index: i, up: up, step: r.step))
            nextRow += 1
        }
        groups.append(spans)
    }

    /// The row reserved for open span `id`, reserving one if needed.
    private mutating func placeholder(_ id: UInt64, thread t: Int, step: UInt32) -> Int64 {
        if let row = queues[t].placeholders[id] { return row }
        let row = nextRow
        nextRow += 1
        rows.append(Row(group: -1, index: 0, up: nil, step: step))
        queues[t].placeholders[id] = row
        return row
    }
}

import Testing
import TraceEvents
import TraceRuntime

@testable import TraceStore

/// A finished span on thread 0.
func span(
    _ id: UInt64, parent: UInt64 = 0, step: UInt32 = 0, kind: SpanKind = .forward, start: UInt64 = 0, end: UInt64 = 10,
    thread: UInt16 = 0, depth: UInt16 = 0
) -> SpanRecord {
    var r = SpanRecord()
    r.id = id
    r.parent = parent
    r.step = step
    r.kind = kind.rawValue
    r.start = start
    r.end = end
    r.thread = thread
    r.depth = depth
    return r
}

extension RowPlanner {
    /// (span id or 0 for a placeholder, up) of each planned row.
    var planned: [(UInt64, Int64?)] { rows.map { ($0.isPlaceholder ? 0 : span($0).record.id, $0.up) } }
}

@Suite("Row planner")
struct RowPlannerTests {
    @Test func aFinishedTreeIsPlannedInStartOrderWithParentOffsets() {
        var p = RowPlanner(nextRow: 100)
        p.startBatch()
        // step 1 > (fwd 2 > linear 3, relu 4), optimizer 5; children arrive first.
        for r in [span(3, parent: 2), span(4, parent: 2), span(2, parent: 1), span(5, parent: 1), span(1, kind: .step)] {
            p.arrive(r, sig: 7)
        }
        p.endBatch()
        #expect(p.firstRow == 100)
        #expect(p.planned.map(\.0) == [1, 2, 3, 4, 5])
        #expect(p.planned.map(\.1) == [nil, 1, 1, 2, 4])
        #expect(p.updates.isEmpty)
        #expect(p.openPlaceholders == 0 && p.waitingSpans == 0)
    }

    @Test func spansWaitForAnOpenParentThenGoUnderAPlaceholderThatIsFilledWhenItEnds() {
        var p = RowPlanner(nextRow: 1)
        // Batch 1: two children of step 1, which is still open.
        p.startBatch()
        p.arrive(span(2, parent: 1), sig: 5)
        p.arrive(span(3, parent: 1), sig: 5)
        p.endBatch()
        #expect(p.rows.isEmpty, "one batch of waiting is allowed")
        #expect(p.waitingSpans == 2)
        // Batch 2: one more child; now they have waited two batches.
        p.startBatch()
        p.arrive(span(4, parent: 1), sig: 5)
        p.endBatch()
        #expect(p.planned.map(\.0) == [0, 2, 3, 4], "a placeholder row for the open step, then its children")
        #expect(p.planned.map(\.1) == [nil, 1, 2, 3])
        #expect(p.rows[0].isPlaceholder && p.rows[0].step == 0)
        #expect(p.openPlaceholders == 1 && p.waitingSpans == 0)
        // Batch 3: the step ends: its reserved row 1 is filled in, nothing new is appended for it.
        p.startBatch()
        p.arrive(span(1, kind: .step, end: 99), sig: 9)
        p.endBatch()
        #expect(p.rows.isEmpty)
        #expect(p.updates.count == 1)
        #expect(p.updates.first?.row == 1 && p.updates.first?.sig == 9 && p.updates.first?.up == nil)
        #expect(p.updates.first?.record.end == 99)
        #expect(p.openPlaceholders == 0)
        #expect(p.nextRow == 5)
    }

    @Test func aKilledRunLeavesItsPlaceholdersOpen() {
        var p = RowPlanner(nextRow: 1)
        for batch in 0..<2 {
            p.startBatch()
            p.arrive(span(UInt64(10 + batch), parent: 1), sig: 5)
            p.endBatch()
        }
        #expect(p.rows.filter(\.isPlaceholder).count == 1)
        // No further batch: the process died with the step open.
        #expect(p.openPlaceholders == 1)
    }

    @Test func anOpenSpanUnderAnOpenStepGetsItsOwnPlaceholderWhenItEnds() {
        var p = RowPlanner(nextRow: 1, waitLimit: 1)
        p.startBatch()
        // step 1 > forward 2 (open) > child 3.
        p.arrive(span(3, parent: 2, depth: 2), sig: 5)
        p.endBatch()
        #expect(p.planned.map(\.0) == [0, 3])
        #expect(p.planned.map(\.1) == [nil, 1])
        p.startBatch()
        p.arrive(span(2, parent: 1, depth: 1), sig: 6)
        p.endBatch()
        // Forward 2 fills row 1; its own parent, step 1, is still open and gets placeholder row 3.
        #expect(p.planned.map(\.0) == [0])
        #expect(p.updates.map(\.row) == [1])
        #expect(p.updates.first?.up == 1 - 3)
        p.startBatch()
        p.arrive(span(1, kind: .step), sig: 7)
        p.endBatch()
        #expect(p.updates.map(\.row) == [3])
        #expect(p.openPlaceholders == 0)
    }

    @Test func planAllPlansSpansWhoseParentsNeverEnded() {
        var p = RowPlanner(nextRow: 1)
        p.startBatch()
        p.arrive(span(2, parent: 1), sig: 5)
        p.endBatch()
        #expect(p.rows.isEmpty)
        p.startBatch()
        p.planAll()
        #expect(p.planned.map(\.0) == [0, 2])
    }

    @Test func threadsArePlannedIndependently() {
        var p = RowPlanner(nextRow: 1)
        p.startBatch()
        p.arrive(span(2, parent: 1, thread: 1), sig: 5)
        p.arrive(span(3, thread: 0), sig: 6)
        p.endBatch()
        #expect(p.planned.map(\.0) == [3], "thread 1's span waits for its parent; thread 0's does not")
        #expect(p.waitingSpans == 1)
    }
}

import TraceEvents
import TraceRuntime

/// Per profiler step: the base time span times are stored against, and the id range and
/// `ProfilerStep#N` span written so far. Pure bookkeeping; the writer stores what it says.
/// Used on the drain thread while a run is written, then by `finish`.
struct StepTracker {
    /// What the `steps` table holds for one step at the end of a run.
    struct Range {
        var first: Int64, last: Int64
        var span: Int64?, ts: Int64 = 0, dur: Int64 = 0
    }

    /// The step of the last row written, its base time and id range.
    private var current: (step: UInt32, base: Int64, range: Range)?
    private var ranges: [UInt32: Range] = [:]
    /// Step base times by step number (`Int64.min`: not seen yet).
    private var bases: [Int64] = []
    /// Steps seen for the first time since the last `takeNewSteps`, with their base times.
    private var newSteps: [(step: UInt32, base: Int64)] = []
    /// The lowest step written.
    private(set) var firstStep: UInt32?

    /// The base time of `step` for row `id`; a step seen for the first time takes `ts` as its base.
    @inline(__always)
    mutating func base(step: UInt32, ts: Int64, row id: Int64) -> Int64 {
        if let current, current.step == step { return current.base }
        return enter(step, ts, id)
    }

    private mutating func enter(_ step: UInt32, _ ts: Int64, _ id: Int64) -> Int64 {
        if let previous = current { ranges[previous.step] = previous.range }
        let i = Int(step)
        if i >= bases.count { bases += [Int64](repeating: .min, count: max(i + 1 - bases.count, 1024)) }
        if bases[i] == .min {
            newSteps.append((step, ts))
            bases[i] = ts
        }
        current = (step, bases[i], ranges[step] ?? Range(first: id, last: id))
        if firstStep == nil || step < firstStep! { firstStep = step }
        return bases[i]
    }

    /// Counts row `id` (of the current step) in its step's range; a step span becomes the step's span.
    @inline(__always)
    mutating func track(kind: UInt8, row id: Int64, ts: Int64, dur: Int64) {
        current!.range.first = min(current!.range.first, id)
        current!.range.last = max(current!.range.last, id)
        if kind == SpanKind.step.rawValue {
            current!.range.span = id
            current!.range.ts = ts
            current!.range.dur = dur
        }
    }

    /// Steps first seen since the last call, to insert into `steps` with the rows that need them.
    mutating func takeNewSteps() -> [(step: UInt32, base: Int64)] {
        defer { newSteps.removeAll(keepingCapacity: true) }
        return newSteps
    }

    /// Every step's range, in step order (the end of a run).
    mutating func finalRanges() -> [(step: UInt32, range: Range)] {
        if let last = current { ranges[last.step] = last.range }
        return ranges.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

import TraceStore

/// Live tensor bytes over the whole run (or the selected steps), downsampled for the report, at
/// most `buckets` points, each with the lowest and highest bytes of what it covers.
///
/// It is read from the step spans (one indexed row per step: a step span's peak covers everything
/// its thread ran in the step, its live bytes are those at its end), so a 10M-span trace costs
/// one row per step, not a scan. The run's peak is exact: it is the highest peak of any span
/// (`span_stats`); when a step span holds it, only that step's spans are read to find the
/// innermost span it happened in. When no step span holds it (it came outside every step, or on
/// another thread), or the run has no steps, every span is read instead, in buckets of
/// consecutive spans (lowest live bytes at a span's end, highest peak).
struct MemorySeries {
    struct Point {
        /// When the bucket's last step or span started (ns since the run started).
        var ts: Int64
        var low: Int64
        var high: Int64
    }

    /// The innermost span open when live bytes peaked.
    struct Peak {
        var bytes: Int64
        var id: Int64
        var sig: Int64
        var ts: Int64
        var step: Int64
        var depth: Int
        /// The module span around it (itself when it is one), found through the parents.
        var moduleSig: Int64?
    }

    private(set) var points: [Point] = []
    private(set) var peak: Peak?
    /// What the points were read from: `steps` (step spans) or `spans` (every span).
    private(set) var source = "steps"
    /// How many steps or spans the points cover.
    private(set) var count = 0

    init(reader: TraceReader, model: TraceModel, steps: ClosedRange<Int64>?, buckets: Int = 1_000) throws {
        let perStep = try MemorySeries.stepPoints(reader, model, steps)
        // The highest peak of any span of the run; over a selection of steps, of its step spans.
        // An unfinished run's statistics are not written yet: every span is read.
        let finished = model.run.runStatus?.isFinished == true
        let highest =
            steps != nil
            ? perStep.map(\.point.high).max()
            : finished ? try reader.db.scalar("SELECT max(peak_bytes) FROM span_stats WHERE run_id = ?", [.int(model.run.id)]) : nil
        if let highest, let step = perStep.first(where: { $0.point.high == highest })?.step {
            points = MemorySeries.bucketed(perStep.map(\.point), buckets)
            count = perStep.count
            try MemorySeries.scan(reader, model, steps: step...step) { row, live, top in
                self.consider(row, top, model, only: highest)
            }
        } else {
            source = "spans"
            let ids = model.spanIDs(steps: steps)
            let size = max((ids.upperBound - ids.lowerBound + 1 + Int64(buckets) - 1) / Int64(max(buckets, 1)), 1)
            var bucket: Int64 = -1
            var spans: [Point] = []
            try MemorySeries.scan(reader, model, steps: steps) { row, live, top in
                count += 1
                let b = (row.id &- ids.lowerBound) / size
                if b != bucket || spans.isEmpty {
                    bucket = b
                    spans.append(Point(ts: row.ts, low: live, high: top))
                } else {
                    spans[spans.count - 1].ts = row.ts
                    spans[spans.count - 1].low = min(spans[spans.count - 1].low, live)
                    spans[spans.count - 1].high = max(spans[spans.count - 1].high, top)
                }
                consider(row, top, model, only: nil)
            }
            points = spans
        }
        if let p = peak { peak!.moduleSig = try MemorySeries.moduleAround(p, reader: reader, model: model) }
    }

    /// The spans with memory figures, with their live bytes and peak (at least the live bytes).
    private static func scan(
        _ reader: TraceReader, _ model: TraceModel, steps: ClosedRange<Int64>?, _ body: (SpanRow, Int64, Int64) throws -> Void
    ) throws {
        try SpanScan.forEach(reader, model, steps: steps, label: "memory") { row in
            guard let live = row.live, let top = row.peak else { return }
            try body(row, live, max(top, live))
        }
    }

    /// Keeps `row` if its peak is the highest so far (or equals `only`); of equal ones the deeper
    /// span, one that opened inside the other.
    private mutating func consider(_ row: SpanRow, _ top: Int64, _ model: TraceModel, only: Int64?) {
        if let only, top != only { return }
        let depth = model.signatures[row.sig]?.depth ?? 0
        if peak == nil || top > peak!.bytes || (top == peak!.bytes && depth > peak!.depth && row.ts >= peak!.ts) {
            peak = Peak(bytes: top, id: row.id, sig: row.sig, ts: row.ts, step: row.step, depth: depth)
        }
    }

    /// One point per step with a step span and memory figures: its start, the live bytes at its
    /// end and its peak.
    static func stepPoints(_ reader: TraceReader, _ model: TraceModel, _ selected: ClosedRange<Int64>?) throws -> [(
        step: Int64, point: Point
    )] {
        let s = try reader.db.prepare(
            """
            SELECT s.step, d.live, d.peak FROM steps s JOIN span_data d ON d.id = s.span_id
            WHERE s.run_id = ? AND d.live IS NOT NULL ORDER BY s.step
            """)
        try s.bind([.int(model.run.id)])
        var out: [(step: Int64, point: Point)] = []
        while try s.step() {
            let step = s.int(0)
            guard selected?.contains(step) ?? true, let ts = model.steps[step]?.ts else { continue }
            let live = try Checked.bounded(s.int(1), "step \(step): live bytes")
            let top = try Checked.sum(live, s.isNull(2) ? 0 : s.int(2), "step \(step): peak bytes")
            out.append((step, Point(ts: ts, low: live, high: max(top, live))))
        }
        return out
    }

    /// At most `buckets` points: consecutive points merged (the last start, lowest and highest bytes).
    static func bucketed(_ points: [Point], _ buckets: Int) -> [Point] {
        let size = max((points.count + buckets - 1) / max(buckets, 1), 1)
        return stride(from: 0, to: points.count, by: size).map { i in
            let slice = points[i..<min(i + size, points.count)]
            return Point(ts: slice.last!.ts, low: slice.map(\.low).min()!, high: slice.map(\.high).max()!)
        }
    }

    /// The nearest module span at or above the peak's span, by walking its parents (by id).
    static func moduleAround(_ peak: Peak, reader: TraceReader, model: TraceModel) throws -> Int64? {
        var id = peak.id
        let s = try reader.db.prepare("SELECT sig, up FROM span_data WHERE id = ?")
        for _ in 0..<256 {
            s.reset()
            try s.bind([.int(id)])
            guard try s.step() else { return nil }
            let sig = s.int(0)
            if model.signatures[sig]?.kind.isModuleSpan == true { return sig }
            guard !s.isNull(1) else { return nil }
            id = try Checked.difference(id, s.int(1), "span \(id): parent offset")
        }
        return nil
    }

    /// The points as columns `memTs`, `memLow`, `memHigh` (deltas).
    func encode(into columns: inout Columns) {
        guard !points.isEmpty else { return }
        columns.add("memTs", deltas(points.map(\.ts)), signed: true)
        columns.add("memLow", deltas(points.map(\.low)), signed: true)
        columns.add("memHigh", deltas(points.map(\.high)), signed: true)
    }

    /// `{"source":"steps"|"spans","count":N,"points":K,"peak":{...}|null}`, the peak with its module and phase.
    func json(_ model: TraceModel) -> String {
        var peakJSON = "null"
        if let p = peak {
            let innermost = model.signatures[p.sig]
            let module = p.moduleSig.flatMap { model.signatures[$0] }
            peakJSON =
                "{\"bytes\":\(p.bytes),\"ts\":\(p.ts),\"step\":\(p.step),"
                + "\"module\":" + (module.map { JSON.quote($0.name) } ?? "null") + ","
                + "\"phase\":" + JSON.quote((module ?? innermost)?.kind.name ?? "")
                + ",\"span\":" + JSON.quote(innermost?.name ?? "") + "}"
        }
        return "{\"source\":\"\(source)\",\"count\":\(count),\"points\":\(points.count),\"peak\":\(peakJSON)}"
    }
}

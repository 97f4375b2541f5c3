import TraceStore

/// Live tensor bytes over the whole run (or the selected steps), downsampled for the report.
/// Spans, in id (start) order, are cut into at most `buckets` runs of consecutive spans; each
/// bucket keeps the lowest and highest live bytes at a span's end and the highest peak inside
/// its spans, so the chart is bounded in size while the run's peak is kept exactly, with the
/// span it happened in.
struct MemorySeries {
    struct Point {
        /// When the bucket's last span started (ns since the run started): spans are in start order.
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
    /// Spans with memory figures.
    private(set) var spans = 0

    init(reader: TraceReader, model: TraceModel, steps: ClosedRange<Int64>?, buckets: Int = 1_000) throws {
        let ids = model.spanIDs(steps: steps)
        let count = max(ids.upperBound - ids.lowerBound + 1, 1)
        let size = max((count + Int64(buckets) - 1) / Int64(max(buckets, 1)), 1)
        var bucket: Int64 = -1
        try SpanScan.forEach(reader, model, steps: steps, label: "memory") { row in
            guard let live = row.live, let top = row.peak else { return }
            spans += 1
            let b = (row.id &- ids.lowerBound) / size
            if b != bucket || points.isEmpty {
                bucket = b
                points.append(Point(ts: row.ts, low: live, high: max(top, live)))
            } else {
                let i = points.count - 1
                points[i].ts = row.ts
                points[i].low = min(points[i].low, live)
                points[i].high = max(points[i].high, top, live)
            }
            // The highest peak; of equal ones the deeper span (one that opened inside the other).
            let depth = model.signatures[row.sig]?.depth ?? 0
            if peak == nil || top > peak!.bytes || (top == peak!.bytes && depth > peak!.depth && row.ts >= peak!.ts) {
                peak = Peak(bytes: top, id: row.id, sig: row.sig, ts: row.ts, step: row.step, depth: depth)
            }
        }
        if let p = peak { peak!.moduleSig = try MemorySeries.moduleAround(p, reader: reader, model: model) }
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

    /// `{"spans":N,"points":K,"peak":{...}|null}`, the peak with its module and phase.
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
        return "{\"spans\":\(spans),\"points\":\(points.count),\"peak\":\(peakJSON)}"
    }
}

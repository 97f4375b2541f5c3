import Foundation
import TraceStore

/// The module flame graph in speedscope's file format
/// (https://www.speedscope.app/file-format-schema.json): per run (one per rank), an evented
/// profile weighted by time (ns) and one by allocated bytes. Each profile has a `forward` and a
/// `backward` frame holding the module tree, every module as wide as its total (or its
/// children's, when more) and its children laid out inside it, so speedscope's flame and left-heavy views show the same
/// icicle as `tracectl html`.
package struct SpeedscopeExporter {
    package let reports: [Report]

    /// Reports of `traces` (each a file and a run, the latest when nil).
    package init(traces: [(reader: TraceReader, run: Int64?)], steps: ClosedRange<Int64>? = nil) throws {
        reports = try traces.map { try Report(reader: $0.reader, run: $0.run, steps: steps) }
    }

    /// The speedscope JSON document.
    package func json() -> String {
        var frames: [String] = []
        var frameIndex: [String: Int] = [:]
        func frame(_ name: String) -> Int {
            if let i = frameIndex[name] { return i }
            frameIndex[name] = frames.count
            frames.append(name)
            return frames.count - 1
        }
        var profiles: [String] = []
        for report in reports {
            let run = report.model.run
            let label = run.worldSize > 1 ? "\(run.name) rank \(run.rank)" : "\(run.name) (run \(run.id))"
            for (metric, unit) in [("time", "nanoseconds"), ("allocated bytes", "bytes")] {
                var events: [String] = []
                var at: Int64 = 0
                for (phase, title) in [(0, "forward"), (1, "backward")] {
                    // A module is as wide as its own total or its children's, whichever is more
                    // (a parent can record less than its children, e.g. bytes freed and reused).
                    var widths: [Int64: Int64] = [:]
                    func width(_ m: Report.ModuleStats, _ depth: Int) -> Int64 {
                        if let w = widths[m.module.id] { return w }
                        let t = phase == 0 ? m.forward : m.backward
                        let own = max(0, unit == "bytes" ? t.allocated : t.total)
                        let kids =
                            depth < 64 ? SpeedscopeExporter.children(of: m.module.id, report).reduce(0) { $0 + width($1, depth + 1) } : 0
                        widths[m.module.id] = max(own, kids)
                        return max(own, kids)
                    }
                    let value: (Report.ModuleStats) -> Int64 = { width($0, 0) }
                    let roots = SpeedscopeExporter.children(of: nil, report)
                    let total = roots.reduce(0) { $0 + value($1) }
                    guard total > 0 else { continue }
                    let phaseFrame = frame(title)
                    events.append("{\"type\":\"O\",\"at\":\(at),\"frame\":\(phaseFrame)}")
                    func emit(_ m: Report.ModuleStats, _ span: Int64, depth: Int) {
                        let f = frame(m.module.path.isEmpty ? m.module.type : "\(m.module.path) (\(m.module.type))")
                        events.append("{\"type\":\"O\",\"at\":\(at),\"frame\":\(f)}")
                        let start = at
                        let kids = depth < 64 ? SpeedscopeExporter.children(of: m.module.id, report).filter { value($0) > 0 } : []
                        for k in kids { emit(k, value(k), depth: depth + 1) }
                        at = start + span
                        events.append("{\"type\":\"C\",\"at\":\(at),\"frame\":\(f)}")
                    }
                    for r in roots where value(r) > 0 { emit(r, value(r), depth: 0) }
                    events.append("{\"type\":\"C\",\"at\":\(at),\"frame\":\(phaseFrame)}")
                }
                profiles.append(
                    "{\"type\":\"evented\",\"name\":\(JSON.quote("\(label): \(metric)")),\"unit\":\"\(unit)\","
                        + "\"startValue\":0,\"endValue\":\(at),\"events\":[" + events.joined(separator: ",") + "]}")
            }
        }
        return "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"exporter\":\"tracectl export speedscope\","
            + "\"name\":\(JSON.quote(reports.first.map { $0.model.run.name } ?? "")),\"activeProfileIndex\":0,"
            + "\"shared\":{\"frames\":[" + frames.map { "{\"name\":\(JSON.quote($0))}" }.joined(separator: ",") + "]},"
            + "\"profiles\":[" + profiles.joined(separator: ",\n") + "]}\n"
    }

    /// Modules whose parent is `parent` (roots when nil), in tree order.
    static func children(of parent: Int64?, _ report: Report) -> [Report.ModuleStats] {
        let known = Set(report.modules.map(\.module.id))
        return report.modules.filter { m in
            guard let p = m.module.parentID, known.contains(p) else { return parent == nil }
            return p == parent
        }
    }
}

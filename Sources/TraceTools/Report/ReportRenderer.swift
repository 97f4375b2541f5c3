import Foundation
import TraceEvents

/// Prints a report as an indented module table (PyTorch-profiler style), JSON or CSV.
package struct ReportRenderer {
    package enum Sort: String, CaseIterable, Sendable {
        case tree, total, `self`, calls, mean, p95, alloc, name
    }

    package var sort: Sort = .tree
    package var top: Int?
    package var depth: Int?

    package init(sort: Sort = .tree, top: Int? = nil, depth: Int? = nil) {
        self.sort = sort
        self.top = top
        self.depth = depth
    }

    /// The module rows to show, after depth, sort and top.
    func rows(_ report: Report) -> [Report.ModuleStats] {
        var rows = report.modules.filter { $0.ran || $0.backward.calls > 0 }
        if let depth { rows = rows.filter { $0.depth <= depth } }
        switch sort {
        case .tree: break
        case .total: rows.sort { $0.forward.total + $0.backward.total > $1.forward.total + $1.backward.total }
        case .self: rows.sort { $0.forward.selfTime + $0.backward.selfTime > $1.forward.selfTime + $1.backward.selfTime }
        case .calls: rows.sort { $0.forward.calls > $1.forward.calls }
        case .mean: rows.sort { $0.forward.mean > $1.forward.mean }
        case .p95: rows.sort { $0.forward.p95 > $1.forward.p95 }
        case .alloc: rows.sort { $0.allocated > $1.allocated }
        case .name: rows.sort { $0.module.displayName < $1.module.displayName }
        }
        if let top { rows = Array(rows.prefix(top)) }
        return rows
    }

    static let moduleColumns: [Table.Column] = [
        .init("Module", key: "module"), .init("Type", key: "type"), .init("Calls", key: "calls", right: true),
        .init("Fwd total", key: "forward_total_ns", right: true), .init("Fwd self", key: "forward_self_ns", right: true),
        .init("Bwd total", key: "backward_total_ns", right: true), .init("Bwd self", key: "backward_self_ns", right: true),
        .init("Mean", key: "forward_mean_ns", right: true), .init("p50", key: "forward_p50_ns", right: true),
        .init("p95", key: "forward_p95_ns", right: true), .init("Step %", key: "step_share", right: true),
        .init("Alloc/call", key: "alloc_bytes_per_call", right: true), .init("Peak", key: "peak_bytes", right: true),
        .init("Input shapes", key: "input_shapes"), .init("Mode", key: "mode"),
    ]

    func moduleTable(_ report: Report) -> Table {
        var table = Table(ReportRenderer.moduleColumns)
        let reference = Double(max(report.referenceTime, 1))
        for m in rows(report) {
            let indent = sort == .tree ? String(repeating: "  ", count: m.depth) : ""
            let shapes = m.inputShapes.first.map { m.inputShapes.count > 1 ? "\($0) (+\(m.inputShapes.count - 1) more)*" : $0 } ?? ""
            let calls = max(m.forward.calls, 1)
            table.append([
                .text(indent + m.module.displayName), .text(m.module.type), .int(m.forward.calls),
                time(m.forward.total), time(m.forward.selfTime), time(m.backward.total), time(m.backward.selfTime),
                time(m.forward.mean), time(m.forward.p50), time(m.forward.p95),
                .number(
                    Double(m.forward.total + m.backward.total) / reference,
                    Units.percent(Double(m.forward.total + m.backward.total) / reference)),
                m.peak == nil ? .null : bytes(Double(m.allocated) / Double(calls)),
                m.peak.map { bytes(Double($0)) } ?? .null,
                .text(shapes), .text(m.mode),
            ])
        }
        return table
    }

    func otherTable(_ report: Report) -> Table {
        var table = Table([
            .init("Kind", key: "kind"), .init("Name", key: "name"), .init("Calls", key: "calls", right: true),
            .init("Total", key: "total_ns", right: true), .init("Self", key: "self_ns", right: true),
            .init("Mean", key: "mean_ns", right: true), .init("p50", key: "p50_ns", right: true),
            .init("p95", key: "p95_ns", right: true),
        ])
        for o in report.others.prefix(top ?? Int.max) {
            table.append([
                .text(o.kind), .text(o.name), .int(o.timing.calls), time(o.timing.total), time(o.timing.selfTime),
                time(o.timing.mean), time(o.timing.p50), time(o.timing.p95),
            ])
        }
        return table
    }

    package static func bypassTable(_ bypasses: [Report.Bypass]) -> Table {
        var table = Table([
            .init("Module", key: "module"), .init("Type", key: "type"), .init("Root", key: "root"),
            .init("Called from", key: "caller"), .init("Evidence", key: "evidence"),
            .init("Count", key: "count", right: true), .init("First step", key: "first_step", right: true),
            .init("Detail", key: "detail"), .init("Hooks that did not fire", key: "hooks_not_fired"),
        ])
        for b in bypasses {
            table.append([
                .text(b.module), .text(b.type), .text(b.root), .text(b.caller), .text(b.evidence), .int(b.count),
                .int(b.firstStep), .text(b.detail), .text(b.hooksNotFired),
            ])
        }
        return table
    }

    private func time(_ ns: Int64) -> Table.Cell { .number(Double(ns), Units.duration(Double(ns))) }
    private func time(_ ns: Double) -> Table.Cell { .number(ns.rounded(), Units.duration(ns)) }
    private func bytes(_ b: Double) -> Table.Cell { .number(b.rounded(), Units.bytes(b)) }

    package func render(_ report: Report, format: OutputFormat) -> String {
        let run = report.model.run
        switch format {
        case .csv:
            return moduleTable(report).render(.csv)
        case .json:
            let m = moduleTable(report)
            let o = otherTable(report)
            let b = ReportRenderer.bypassTable(report.bypasses)
            var fields = [
                "\"run\":{\"id\":\(run.id),\"name\":\(JSON.quote(run.name)),\"status\":\(JSON.quote(run.status))}",
                "\"steps\":" + (report.steps.map { "[\($0.lowerBound),\($0.upperBound)]" } ?? "null"),
                "\"step_count\":\(report.stepCount)",
                "\"step_time_ns\":\(report.stepTime)",
                "\"spans\":\(report.spanCount)",
                "\"dropped_events\":\(run.droppedEvents)",
                "\"crash\":" + CrashText.json(report.crash),
            ]
            let shapes = Dictionary(uniqueKeysWithValues: report.modules.map { ($0.module.id, $0) })
            let moduleObjects = rows(report).enumerated().map { i, stats -> String in
                var object = m.object(m.rows[i])
                object.removeLast()
                return object + ",\"path\":\(JSON.quote(stats.module.path)),\"depth\":\(stats.depth),\"input_shapes_seen\":["
                    + (shapes[stats.module.id]?.inputShapes ?? []).map(JSON.quote).joined(separator: ",")
                    + "],\"input_shape_calls\":["
                    + (shapes[stats.module.id]?.inputShapeCalls ?? []).map {
                        "{\"shapes\":\(JSON.quote($0.shapes)),\"calls\":\($0.calls)}"
                    }.joined(separator: ",")
                    + "],\"output_shapes_seen\":[" + stats.outputShapes.map(JSON.quote).joined(separator: ",")
                    + "],\"backward_calls\":\(stats.backward.calls)}"
            }
            fields.append("\"modules\":[" + moduleObjects.joined(separator: ",") + "]")
            fields.append("\"other\":" + o.render(.json))
            fields.append(
                "\"never_ran\":["
                    + report.neverRan.map {
                        "{\"module\":\(JSON.quote($0.module.displayName)),\"type\":\(JSON.quote($0.module.type))}"
                    }.joined(separator: ",") + "]")
            fields.append("\"bypasses\":" + b.render(.json))
            return "{" + fields.joined(separator: ",\n") + "}"
        case .table:
            var out: [String] = []
            if let crash = report.crash {
                out += CrashText.lines(crash)
                out.append("")
            }
            let duration = run.endWallNanoseconds.map { Units.duration(Double($0 &- run.startWallNanoseconds)) } ?? "?"
            out.append(
                "run \(run.id) \"\(Terminal.visible(run.name))\" (\(Terminal.visible(run.status))), \(duration), \(run.spanCount) spans, dropped events: \(run.droppedEvents)"
            )
            if report.stepCount > 0 {
                let range = report.steps.map { "steps \($0.lowerBound)..\($0.upperBound)" } ?? "all steps"
                out.append(
                    "\(range): \(report.stepCount) steps, \(Units.duration(Double(report.stepTime))) in steps, "
                        + "\(Units.duration(Double(report.stepTime) / Double(report.stepCount))) per step")
            }
            out.append("")
            out.append(moduleTable(report).render(.table))
            let others = otherTable(report)
            if !others.rows.isEmpty {
                out.append("")
                out.append(others.render(.table))
            }
            let polymorphic = report.modules.filter { $0.inputShapeCalls.count > 1 }
            if !polymorphic.isEmpty {
                out.append("")
                out.append("Modules called with several input shapes (each shape is a different static graph):")
                for m in polymorphic {
                    out.append(
                        "  \(m.module.displayName) (\(m.module.type)): "
                            + m.inputShapeCalls.map { "\($0.shapes) ×\($0.calls)" }.joined(separator: ", "))
                }
            }
            let never = report.neverRan
            out.append("")
            out.append(
                never.isEmpty
                    ? "Every registered module ran."
                    : "Never ran (registered but not called through their wrapper): "
                        + never.map { "\($0.module.displayName) (\($0.module.type))" }.joined(separator: ", "))
            out.append("")
            if report.bypasses.isEmpty && run.runStatus?.isFinished != true {
                out.append(
                    "Bypasses: unknown. They are written when a run ends, and this run is \(run.status) "
                        + (report.crash == nil ? "(still running, or its process was killed)." : "(its process crashed).")
                )
            } else if report.bypasses.isEmpty {
                out.append("No bypasses: every module call went through its wrapper.")
            } else {
                out.append(
                    "Findings (bypasses: forward called directly, so hooks did not fire and nothing was measured; state: modes and batches):"
                )
                out.append(ReportRenderer.bypassTable(report.bypasses).render(.table))
                out.append("")
                out += report.bypasses.map { "- " + $0.explanation }
            }
            out.append("")
            out.append("Dropped events: \(run.droppedEvents)")
            return out.joined(separator: "\n")
        }
    }
}

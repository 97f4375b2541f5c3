import TraceStore

/// Per-module time and memory of two runs side by side.
package struct RunDiff {
    package struct Row {
        package var module: String
        package var type: String
        package var base: Report.ModuleStats?
        package var new: Report.ModuleStats?
    }

    package let base: Report
    package let new: Report
    package let rows: [Row]

    package init(base: Report, new: Report) {
        self.base = base
        self.new = new
        func key(_ m: Report.ModuleStats) -> String { m.module.displayName + "\u{0}" + m.module.type }
        let old = Dictionary(base.modules.filter(\.ran).map { (key($0), $0) }, uniquingKeysWith: { a, _ in a })
        let now = Dictionary(new.modules.filter(\.ran).map { (key($0), $0) }, uniquingKeysWith: { a, _ in a })
        var rows: [Row] = []
        for k in Set(old.keys).union(now.keys) {
            let m = (now[k] ?? old[k])!.module
            rows.append(Row(module: m.displayName, type: m.type, base: old[k], new: now[k]))
        }
        let perStep = (Double(max(base.stepCount, 1)), Double(max(new.stepCount, 1)))
        func change(_ r: Row) -> Double {
            abs(RunDiff.time(r.new) / perStep.1 - RunDiff.time(r.base) / perStep.0)
        }
        self.rows = rows.sorted { (change($0), $0.module) > (change($1), $1.module) }
    }

    static func time(_ m: Report.ModuleStats?) -> Double { Double((m?.forward.total ?? 0) + (m?.backward.total ?? 0)) }

    /// Whether times are compared per step (both runs have steps) or in total.
    package var perStep: Bool { base.stepCount > 0 && new.stepCount > 0 }

    package func table() -> Table {
        let unit = perStep ? "/step" : ""
        var table = Table([
            .init("Module", key: "module"), .init("Type", key: "type"),
            .init("Base time\(unit)", key: "base_time_ns", right: true), .init("New time\(unit)", key: "new_time_ns", right: true),
            .init("Change", key: "time_change", right: true),
            .init("Base mean", key: "base_forward_mean_ns", right: true), .init("New mean", key: "new_forward_mean_ns", right: true),
            .init("Base alloc/call", key: "base_alloc_per_call", right: true),
            .init("New alloc/call", key: "new_alloc_per_call", right: true),
            .init("Base peak", key: "base_peak_bytes", right: true), .init("New peak", key: "new_peak_bytes", right: true),
        ])
        let scale = perStep ? (Double(base.stepCount), Double(new.stepCount)) : (1, 1)
        for r in rows where r.base != nil && r.new != nil {
            let t0 = RunDiff.time(r.base) / scale.0
            let t1 = RunDiff.time(r.new) / scale.1
            func alloc(_ m: Report.ModuleStats) -> Table.Cell {
                let v = Double(m.allocated) / Double(max(m.forward.calls, 1))
                return m.peak == nil ? .null : .number(v, Units.bytes(v))
            }
            table.append([
                .text(r.module), .text(r.type), .number(t0, Units.duration(t0)), .number(t1, Units.duration(t1)),
                .number(t0 == 0 ? 0 : (t1 - t0) / t0, Units.change(t0, t1)),
                .number(r.base!.forward.mean, Units.duration(r.base!.forward.mean)),
                .number(r.new!.forward.mean, Units.duration(r.new!.forward.mean)),
                alloc(r.base!), alloc(r.new!),
                r.base!.peak.map { .number(Double($0), Units.bytes(Double($0))) } ?? .null,
                r.new!.peak.map { .number(Double($0), Units.bytes(Double($0))) } ?? .null,
            ])
        }
        return table
    }

    package var onlyInBase: [Row] { rows.filter { $0.new == nil } }
    package var onlyInNew: [Row] { rows.filter { $0.base == nil } }
}

extension RunDiff {
    /// The run to compare `newRun` (the latest when nil) with in the same file: the run before it.
    package static func baseRun(in reader: TraceReader, comparedWith newRun: Int64?) throws -> Int64 {
        let runs = try reader.runs()
        guard runs.count >= 2 else {
            let holds = runs.isEmpty ? "holds no runs" : "holds one run"
            throw StoreError("diff: \(reader.path) \(holds); name a second file or --base-run")
        }
        let newID = try reader.run(newRun).id
        guard let previous = runs.last(where: { $0.id < newID }) ?? runs.first(where: { $0.id != newID }) else {
            throw StoreError("diff: no other run to compare with")
        }
        return previous.id
    }

    /// The comparison as `tracectl diff` prints it; `baseName` and `newName` name the files.
    package func render(_ format: OutputFormat, baseName: String, newName: String) -> String {
        let table = table()
        switch format {
        case .table:
            var out = ["base: \(baseName) run \(base.model.run.id); new: \(newName) run \(new.model.run.id)", table.render(.table)]
            if !onlyInBase.isEmpty {
                out.append("\nOnly in base: " + onlyInBase.map { "\($0.module) (\($0.type))" }.joined(separator: ", "))
            }
            if !onlyInNew.isEmpty {
                out.append("\nOnly in new: " + onlyInNew.map { "\($0.module) (\($0.type))" }.joined(separator: ", "))
            }
            return out.joined(separator: "\n")
        case .csv:
            return table.render(.csv)
        case .json:
            func names(_ rows: [Row]) -> String {
                "[" + rows.map { "{\"module\":\(JSON.quote($0.module)),\"type\":\(JSON.quote($0.type))}" }.joined(separator: ",") + "]"
            }
            return
                "{\"per_step\":\(perStep),\"modules\":\(table.render(.json)),\"only_in_base\":\(names(onlyInBase)),\"only_in_new\":\(names(onlyInNew))}"
        }
    }
}

import Foundation
import TraceStore

/// One run's part of the HTML report: aggregates, findings and the static graph as JSON, and
/// the step durations, a window of raw spans and the whole run's live bytes as binary columns.
struct RunPayload {
    let json: String
    let columns: Columns
    let embeddedSpans: Int

    struct Options {
        var steps: ClosedRange<Int64>?
        var window: ClosedRange<Int64>?
        var budget: Int
    }

    init(reader: TraceReader, run: Int64?, options: Options, binaryBase: Int) throws {
        let report = try Report(reader: reader, run: run, steps: options.steps)
        let model = report.model
        let steps = model.steps.values.filter { $0.ts != nil && $0.dur != nil && (options.steps?.contains($0.step) ?? true) }
            .sorted { $0.step < $1.step }
        let outliers = RunPayload.outliers(steps)
        let graphs = try? GraphView(reader: reader, run: model.run.id)
        let comparison = graphs.flatMap { g -> (Bool, String)? in
            guard let text = g.comparison else { return nil }
            return (!text.hasSuffix("are the same."), text)
        }
        let findings = FindingsBuilder.build(report, graphComparison: comparison, outliers: outliers)

        if let window = options.window, !model.steps.keys.contains(where: window.contains) {
            try model.checkSteps(window)
        }
        let windowSteps = SpanWindow.choose(model, selected: options.steps, requested: options.window, budget: options.budget)
        let window = try SpanWindow(reader: reader, model: model, steps: windowSteps, budget: options.budget)
        var columns = Columns()
        columns.add("stepNo", deltas(steps.map(\.step)), signed: true)
        columns.add("stepTs", deltas(steps.map { $0.ts! }), signed: true)
        columns.add("stepDur", steps.map { $0.dur! })
        window.encode(into: &columns)
        embeddedSpans = window.rows.count
        let memory = try MemorySeries(reader: reader, model: model, steps: options.steps)
        memory.encode(into: &columns)
        self.columns = columns

        let run = model.run
        var fields: [String] = []
        fields.append("\"file\":\(JSON.quote(reader.path))")
        fields.append(
            "\"run\":{\"id\":\(run.id),\"name\":\(JSON.quote(run.name)),\"status\":\(JSON.quote(run.status)),"
                + "\"command\":\(JSON.quote(run.command)),\"host\":\(JSON.quote(run.host)),\"rank\":\(run.rank),"
                + "\"worldSize\":\(run.worldSize),\"dropped\":\(run.droppedEvents),\"spans\":\(run.spanCount),"
                + "\"durationNs\":\(run.endWallNanoseconds.map { String($0 - run.startWallNanoseconds) } ?? "null")}")
        fields.append("\"steps\":" + (options.steps.map { "[\($0.lowerBound),\($0.upperBound)]" } ?? "null"))
        fields.append("\"stepCount\":\(report.stepCount),\"stepTime\":\(report.stepTime),\"referenceTime\":\(report.referenceTime)")
        fields.append(
            "\"modules\":["
                + report.modules.map { RunPayload.module($0, registered: model.modules[$0.module.id] != nil) }
                .joined(separator: ",\n") + "]")
        fields.append(
            "\"others\":["
                + report.others.map { o in
                    "{\"kind\":\(JSON.quote(o.kind)),\"name\":\(JSON.quote(o.name)),\(RunPayload.timing(o.timing))}"
                }.joined(separator: ",") + "]")
        fields.append(
            "\"signatures\":{"
                + model.signatures.sorted { $0.key < $1.key }.map { id, s in
                    "\"\(id)\":{\"kind\":\(JSON.quote(s.kind.name)),\"name\":\(JSON.quote(s.name)),"
                        + "\"module\":\(s.moduleID.map(String.init) ?? "null"),\"thread\":\(s.thread),\"depth\":\(s.depth),"
                        + "\"in\":\(JSON.quote(s.inputShapes ?? "")),\"out\":\(JSON.quote(s.outputShapes ?? ""))}"
                }.joined(separator: ",\n") + "}")
        fields.append("\"outliers\":[" + outliers.map { "\($0.step)" }.joined(separator: ",") + "]")
        fields.append(
            "\"findings\":["
                + findings.map { f in
                    "{\"severity\":\"\(f.severity.rawValue)\",\"title\":\(JSON.quote(f.title)),\"detail\":\(JSON.quote(f.detail)),\"fix\":\(JSON.quote(f.fix))}"
                }.joined(separator: ",\n") + "]")
        fields.append(
            "\"window\":{\"steps\":" + (windowSteps.map { "[\($0.lowerBound),\($0.upperBound)]" } ?? "null")
                + ",\"spans\":\(window.rows.count),\"truncated\":\(window.truncated),\"budget\":\(options.budget),"
                + "\"peak\":\(RunPayload.peakJSON(window, model))}")
        fields.append("\"memory\":" + memory.json(model))
        fields.append("\"graph\":" + (graphs.flatMap { RunPayload.graphJSON($0) } ?? "null"))
        fields.append("\"columns\":" + columns.json(base: binaryBase))
        json = "{" + fields.joined(separator: ",\n") + "}"
    }

    /// Steps slower than 1.5× the median and the median plus six median absolute deviations.
    static func outliers(_ steps: [TraceModel.Step]) -> [(step: Int64, ratio: Double)] {
        guard steps.count >= 5 else { return [] }
        let durations = steps.map { Double($0.dur!) }.sorted()
        let median = durations[durations.count / 2]
        let mad = durations.map { abs($0 - median) }.sorted()[durations.count / 2]
        let threshold = max(median * 1.5, median + 6 * mad)
        guard median > 0 else { return [] }
        return steps.filter { Double($0.dur!) > threshold }.map { ($0.step, Double($0.dur!) / median) }
    }

    static func timing(_ t: Report.Timing) -> String {
        "\"calls\":\(t.calls),\"total\":\(t.total),\"self\":\(t.selfTime),\"alloc\":\(t.allocated),"
            + "\"mean\":\(JSON.number(t.mean.rounded())),\"p50\":\(JSON.number(t.p50.rounded())),\"p95\":\(JSON.number(t.p95.rounded()))"
    }

    static func module(_ m: Report.ModuleStats, registered: Bool) -> String {
        let r = m.module
        return "{\"id\":\(r.id),\"parent\":\(r.parentID.map(String.init) ?? "null"),\"path\":\(JSON.quote(r.path)),"
            + "\"name\":\(JSON.quote(r.displayName)),\"type\":\(JSON.quote(r.type)),\"depth\":\(m.depth),"
            + "\"registered\":\(registered),\"params\":\(r.totalParameters),\"hooks\":\(JSON.quote(r.hooks)),"
            + "\"fwd\":{\(timing(m.forward))},\"bwd\":{\(timing(m.backward))},\"alloc\":\(m.allocated),"
            + "\"peak\":\(m.peak.map(String.init) ?? "null"),\"mode\":\(JSON.quote(m.mode)),"
            + "\"inShapes\":[" + m.inputShapes.map(JSON.quote).joined(separator: ",") + "],"
            + "\"outShapes\":[" + m.outputShapes.map(JSON.quote).joined(separator: ",") + "]}"
    }

    /// The peak of live bytes in the window, with the module (and phase) running then.
    static func peakJSON(_ window: SpanWindow, _ model: TraceModel) -> String {
        guard let (index, bytes) = window.peak(model) else { return "null" }
        var i = index
        let innermost = model.signatures[window.rows[index].sig]
        while i >= 0, let s = model.signatures[window.rows[i].sig], !s.kind.isModuleSpan { i = Int(window.parents[i]) }
        let module = i >= 0 ? model.signatures[window.rows[i].sig] : nil
        let row = window.rows[index]
        return "{\"bytes\":\(bytes),\"index\":\(index),\"ts\":\(row.ts),\"step\":\(row.step),"
            + "\"module\":" + (module.map { JSON.quote($0.name) } ?? "null") + ","
            + "\"phase\":" + JSON.quote((module ?? innermost)?.kind.name ?? "")
            + ",\"span\":" + JSON.quote(innermost?.name ?? "") + "}"
    }

    /// The first static graph: ops with their module scope, module calls, and how graphs compare.
    static func graphJSON(_ view: GraphView) -> String? {
        guard let g = view.graphs.first else { return nil }
        func name(_ id: UInt32) -> String { id == 0 ? "null" : JSON.quote(view.name(Int64(id))) }
        let nodes = g.nodes.map { n in
            "{\"op\":\(JSON.quote(n.op)),\"out\":\(JSON.quote(n.output.name)),\"type\":\(JSON.quote(n.output.type)),"
                + "\"inputs\":[" + n.inputs.map(JSON.quote).joined(separator: ",") + "],"
                + "\"scope\":\(name(n.scope)),\"bypassOf\":\(name(n.bypassOf))}"
        }
        let calls = g.calls.map {
            "{\"caller\":\(name($0.caller) == "null" ? "\"<top level>\"" : name($0.caller)),\"callee\":\(name($0.callee)),\"count\":\($0.count)}"
        }
        let inputs = g.inputs.map { "{\"name\":\(JSON.quote($0.name)),\"type\":\(JSON.quote($0.type))}" }
        return
            "{\"label\":\(JSON.quote(g.label)),\"inputs\":[\(inputs.joined(separator: ","))],\"nodes\":[\(nodes.joined(separator: ",\n"))],"
            + "\"outputs\":[" + g.outputs.map(JSON.quote).joined(separator: ",") + "],\"calls\":[\(calls.joined(separator: ","))],"
            + "\"comparison\":" + (view.comparison.map(JSON.quote) ?? "null") + "}"
    }
}

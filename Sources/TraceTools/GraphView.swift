import Foundation
import TraceEvents
import TraceStore

/// The static graphs of a run, loaded from the database, printed as text, DOT or JSON.
package struct GraphView {
    package let model: TraceModel
    package let graphs: [StaticGraph]
    let bypassed: [Int64: (caller: Int64, evidence: String)]

    package init(reader: TraceReader, run: Int64?) throws {
        model = try TraceModel(reader: reader, run: reader.run(run))
        var graphs: [StaticGraph] = []
        let g = try reader.db.prepare("SELECT id, step, label, inputs, outputs FROM graphs WHERE run_id = ? ORDER BY id")
        try g.bind([.int(model.run.id)])
        let nodes = try reader.db.prepare(
            """
            SELECT op, output, output_type, inputs, module_id, bypass_of FROM graph_nodes WHERE graph_id = ? ORDER BY idx
            """)
        let calls = try reader.db.prepare("SELECT caller_id, callee_id, calls FROM graph_calls WHERE graph_id = ? ORDER BY idx")
        while try g.step() {
            var graph = StaticGraph(label: g.text(2), step: try Checked.uint32(g.int(1), "graph \(g.int(0)): step"))
            graph.inputs = g.text(3).split(separator: "\n").map { line in
                let parts = line.split(separator: " : ", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                return .init(name: parts[0], type: parts.count > 1 ? parts[1] : "")
            }
            graph.outputs = g.text(4).isEmpty ? [] : g.text(4).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            try nodes.bind([.int(g.int(0))])
            while try nodes.step() {
                graph.nodes.append(
                    .init(
                        op: nodes.text(0), output: .init(name: nodes.text(1), type: nodes.text(2)),
                        inputs: nodes.text(3).isEmpty ? [] : nodes.text(3).components(separatedBy: ", "),
                        scope: try Checked.uint32(nodes.optionalInt(4) ?? 0, "graph node module"),
                        bypassOf: try Checked.uint32(nodes.optionalInt(5) ?? 0, "graph node bypass module")))
            }
            nodes.reset()
            try calls.bind([.int(g.int(0))])
            while try calls.step() {
                graph.calls.append(
                    .init(
                        caller: try Checked.uint32(calls.optionalInt(0) ?? 0, "graph call caller"),
                        callee: try Checked.uint32(calls.int(1), "graph call callee"),
                        count: Int(try Checked.bounded(calls.int(2), "graph call count"))))
            }
            calls.reset()
            graphs.append(graph)
        }
        self.graphs = graphs
        // Direct evidence of a bypass wins over "never ran", which may also mean unused.
        var bypassed: [Int64: (Int64, String)] = [:]
        for b in try Report.loadBypassRows(reader, model)
        where bypassed[b.module] == nil || bypassed[b.module]!.1 == BypassEvidence.neverRan.name {
            bypassed[b.module] = (b.caller, b.evidence)
        }
        self.bypassed = bypassed
    }

    func module(_ id: UInt32) -> (path: String, type: String)? { model.modules[Int64(id)].map { ($0.path, $0.type) } }

    func name(_ id: Int64) -> String { id == 0 ? "<top level>" : model.modules[id]?.displayName ?? "module \(id)" }

    /// The graph for `step` (the first graph when nil).
    package func graph(step: Int64?) throws -> StaticGraph {
        guard !graphs.isEmpty else {
            throw ExportError("run \(model.run.id) has no static graph (was the profiler's graph option off?)")
        }
        guard let step else { return graphs[0] }
        guard let g = graphs.first(where: { Int64($0.step) == step }) else {
            throw ExportError(
                "run \(model.run.id) has no graph of step \(step) (graphs: steps \(graphs.map { String($0.step) }.joined(separator: ", ")))"
            )
        }
        return g
    }

    /// How the graphs of the run compare, as a sentence.
    package var comparison: String? {
        guard let (first, last) = StaticGraph.comparable(graphs) else { return nil }
        if let difference = StaticGraph.firstDifference(first, last, module: module) {
            return "The graphs of steps \(first.step) and \(last.step) differ (data-dependent control flow?): \(difference)"
        }
        return "The graphs of steps \(first.step) and \(last.step) are the same."
    }

    // MARK: Text

    package func opsText(_ graph: StaticGraph) -> String { graph.text(module: module) }

    /// Which module called which (TorchScript's `prim::CallMethod` view) as an indented tree,
    /// with registered children that were never called through their wrapper.
    package func modulesText(_ graph: StaticGraph) -> String {
        var children: [Int64: [(Int64, Int)]] = [:]
        for c in graph.calls { children[Int64(c.caller), default: []].append((Int64(c.callee), c.count)) }
        var lines = ["module calls, \(graph.label):"]
        var seen = Set<Int64>()
        // Explicit stacks and sets, no recursion: a crafted chain of calls must not overflow the
        // stack; indentation is capped.
        var registered: [Int64: [TraceModel.ModuleRow]] = [:]
        for m in model.modules.values { if let p = m.parentID { registered[p, default: []].append(m) } }
        for key in registered.keys { registered[key]!.sort { $0.ordinal < $1.ordinal } }
        let calledAnywhere = Set(graph.calls.map { Int64($0.callee) })
        // Modules under which something ran (called, or bypassed with direct evidence).
        var ranBelow = Set<Int64>()
        for (id, finding) in bypassed where finding.evidence != BypassEvidence.neverRan.name { markAncestors(id) }
        for id in calledAnywhere { markAncestors(id) }
        func markAncestors(_ id: Int64) {
            var current = model.modules[id]?.parentID
            var steps = 0
            while let p = current, steps < 100_000, ranBelow.insert(p).inserted {
                current = model.modules[p]?.parentID
                steps += 1
            }
        }
        func note(_ child: TraceModel.ModuleRow) -> String {
            // A holder (ModuleList) or an iterated container whose elements ran has no note.
            if ranBelow.contains(child.id) { return "" }
            return "  "
                + (bypassed[child.id].flatMap { $0.evidence == BypassEvidence.neverRan.name ? nil : $0 }
                    .map { "# bypass: forward called directly from \(name($0.caller))" } ?? "# never called: unused or bypassed")
        }
        enum Item {
            case call(Int64, Int, Int)
            case uncalledChildren(Int64, Int)
            case uncalled(TraceModel.ModuleRow, Int)
        }
        var pending: [Item] = (children[0] ?? []).reversed().map { .call($0.0, $0.1, 0) }
        while let item = pending.popLast() {
            switch item {
            case .call(let id, let count, let depth):
                let indent = String(repeating: "  ", count: min(depth, 64) + 1)
                let m = model.modules[id]
                let label = m.map { $0.path.isEmpty ? $0.type : "\($0.path) (\($0.type))" } ?? "module \(id)"
                lines.append("\(indent)\(label)" + (count > 1 ? "  ×\(count)" : ""))
                guard seen.insert(id).inserted else { continue }
                pending.append(.uncalledChildren(id, depth))
                pending += (children[id] ?? []).reversed().map { .call($0.0, $0.1, depth + 1) }
            case .uncalledChildren(let id, let depth):
                let called = Set((children[id] ?? []).map(\.0))
                pending += (registered[id] ?? []).filter { !called.contains($0.id) }.reversed().map { .uncalled($0, depth + 1) }
            case .uncalled(let child, let depth):
                // Not called here; under it, what was not called anywhere (so the elements of a list
                // whose `forward` was called directly show up too).
                lines.append(String(repeating: "  ", count: min(depth, 64) + 1) + "\(child.path) (\(child.type))" + note(child))
                guard seen.insert(child.id).inserted else { continue }
                pending += (registered[child.id] ?? []).filter { !calledAnywhere.contains($0.id) }.reversed()
                    .map { .uncalled($0, depth + 1) }
            }
        }
        return lines.joined(separator: "\n")
    }

    // MARK: DOT

    /// `s` as a DOT quoted string: quotes and backslashes escaped, a newline as DOT's `\n`,
    /// other control characters shown as `\u{..}` (a name ending in a backslash must not escape the closing quote).
    static func dotQuote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += "\\\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// Ops as boxes, clustered by module; inputs as ellipses, parameters dashed; bypassed ops red.
    package func opsDot(_ graph: StaticGraph) -> String {
        var lines = [
            "digraph \(GraphView.dotQuote(graph.label)) {", "  rankdir=TB;",
            "  node [fontname=\"Helvetica\", fontsize=10, shape=box];",
        ]
        for input in graph.inputs {
            lines.append(
                "  \(GraphView.dotQuote(input.name)) [shape=ellipse, label=\(GraphView.dotQuote("\(input.name)\n\(input.type)"))];")
        }
        var declared = Set(graph.inputs.map(\.name))
        var clusters: [UInt32: [String]] = [:]
        var order: [UInt32] = []
        for node in graph.nodes {
            for input in node.inputs where !declared.contains(input) {
                declared.insert(input)
                lines.append("  \(GraphView.dotQuote(input)) [style=dashed, label=\(GraphView.dotQuote(String(input.dropFirst())))];")
            }
            var label = "\(node.op)\n\(node.output.type)"
            var style = ""
            if node.bypassOf != 0, let m = module(node.bypassOf) {
                label += "\nbypass: \(m.path.isEmpty ? m.type : m.path).forward"
                style = ", color=red, fontcolor=red"
            }
            let statement = "\(GraphView.dotQuote(node.output.name)) [label=\(GraphView.dotQuote(label))\(style)];"
            if clusters[node.scope] == nil { order.append(node.scope) }
            clusters[node.scope, default: []].append(statement)
            declared.insert(node.output.name)
        }
        for scope in order {
            guard scope != 0, let m = module(scope) else {
                lines += clusters[scope]!.map { "  " + $0 }
                continue
            }
            lines.append("  subgraph \(GraphView.dotQuote("cluster_" + (m.path.isEmpty ? m.type : m.path))) {")
            lines.append("    label=\(GraphView.dotQuote(m.path.isEmpty ? m.type : "\(m.path) (\(m.type))"));")
            lines += clusters[scope]!.map { "    " + $0 }
            lines.append("  }")
        }
        for node in graph.nodes {
            for input in node.inputs { lines.append("  \(GraphView.dotQuote(input)) -> \(GraphView.dotQuote(node.output.name));") }
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    /// Modules as nodes, calls as edges labelled with their count; bypasses as red dashed edges.
    package func modulesDot(_ graph: StaticGraph) -> String {
        var lines = [
            "digraph \(GraphView.dotQuote("module calls, \(graph.label)")) {",
            "  node [fontname=\"Helvetica\", fontsize=10, shape=box];",
        ]
        func node(_ id: Int64) -> String { GraphView.dotQuote(name(id)) }
        lines.append("  \(node(0)) [shape=plaintext];")
        for c in graph.calls {
            lines.append("  \(node(Int64(c.caller))) -> \(node(Int64(c.callee))) [label=\"\(c.count)\"];")
        }
        for (module, finding) in bypassed.sorted(by: { $0.key < $1.key }) where finding.evidence != BypassEvidence.neverRan.name {
            lines.append("  \(node(finding.caller)) -> \(node(module)) [style=dashed, color=red, fontcolor=red, label=\"bypass\"];")
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    // MARK: JSON

    package func json() -> String {
        func quoted(_ s: String) -> String { JSON.quote(s) }
        let items = graphs.map { g -> String in
            let inputs = g.inputs.map { "{\"name\":\(quoted($0.name)),\"type\":\(quoted($0.type))}" }.joined(separator: ",")
            let nodes = g.nodes.map { n -> String in
                var fields = [
                    "\"op\":\(quoted(n.op))", "\"output\":\(quoted(n.output.name))", "\"type\":\(quoted(n.output.type))",
                    "\"inputs\":[" + n.inputs.map(quoted).joined(separator: ",") + "]",
                ]
                fields.append("\"scope\":" + (n.scope == 0 ? "null" : quoted(name(Int64(n.scope)))))
                fields.append("\"bypass_of\":" + (n.bypassOf == 0 ? "null" : quoted(name(Int64(n.bypassOf)))))
                return "{" + fields.joined(separator: ",") + "}"
            }.joined(separator: ",")
            let calls = g.calls.map {
                "{\"caller\":\(quoted(name(Int64($0.caller)))),\"callee\":\(quoted(name(Int64($0.callee)))),\"count\":\($0.count)}"
            }.joined(separator: ",")
            return "{\"step\":\(g.step),\"label\":\(quoted(g.label)),\"inputs\":[\(inputs)],\"nodes\":[\(nodes)],"
                + "\"outputs\":[" + g.outputs.map(quoted).joined(separator: ",") + "],\"calls\":[\(calls)]}"
        }
        return "{\"run\":\(model.run.id),\"graphs\":[" + items.joined(separator: ",\n") + "],\"comparison\":"
            + (comparison.map(quoted) ?? "null") + "}"
    }
}

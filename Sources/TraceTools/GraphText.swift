import TraceEvents

/// Text rendering and comparison of static graphs.
extension StaticGraph {
    /// The graph as TorchScript prints an inlined graph:
    /// `%2 : Float(64, 256) = relu(%1), scope: act1 (ReLU)`.
    package func text(module: (UInt32) -> (path: String, type: String)?) -> String {
        var lines = ["graph(" + inputs.map { "\($0.name) : \($0.type)" }.joined(separator: ",\n      ") + "):"]
        for node in nodes { lines.append("  " + StaticGraph.line(node, module: module)) }
        lines.append("  return (" + outputs.joined(separator: ", ") + ")")
        return lines.joined(separator: "\n")
    }

    package static func line(_ node: Node, module: (UInt32) -> (path: String, type: String)?) -> String {
        var line = "\(node.output.name) : \(node.output.type) = \(node.op)(\(node.inputs.joined(separator: ", ")))"
        if node.scope != 0, let m = module(node.scope) {
            line += ", scope: \(m.path.isEmpty ? m.type : "\(m.path) (\(m.type))")"
        }
        if node.bypassOf != 0, let m = module(node.bypassOf) {
            let caller = node.scope == 0 ? "<top level>" : module(node.scope).map { $0.path.isEmpty ? $0.type : $0.path } ?? "?"
            line += "  # bypass: \(m.path.isEmpty ? m.type : m.path).forward called from \(caller)"
        }
        return line
    }

    /// Where two graphs first differ, as a sentence, or nil when they are the same.
    package static func firstDifference(
        _ a: StaticGraph, _ b: StaticGraph,
        module: (UInt32) -> (path: String, type: String)?
    ) -> String? {
        if a.inputs != b.inputs {
            return
                "inputs differ: (\(a.inputs.map { "\($0.name) : \($0.type)" }.joined(separator: ", "))) vs (\(b.inputs.map { "\($0.name) : \($0.type)" }.joined(separator: ", ")))"
        }
        for i in 0..<max(a.nodes.count, b.nodes.count) {
            let x = i < a.nodes.count ? line(a.nodes[i], module: module) : "(no node)"
            let y = i < b.nodes.count ? line(b.nodes[i], module: module) : "(no node)"
            if x != y {
                return "node \(i + 1) differs: step \(a.step) has `\(x)`, step \(b.step) has `\(y)`"
            }
        }
        if a.outputs != b.outputs {
            return "outputs differ: (\(a.outputs.joined(separator: ", "))) vs (\(b.outputs.joined(separator: ", ")))"
        }
        return nil
    }

    /// The first graph and the last one captured in the same mode (a validation pass in eval mode
    /// is not compared with a training step), or nil when there are not two such graphs.
    package static func comparable(_ graphs: [StaticGraph]) -> (first: StaticGraph, last: StaticGraph)? {
        guard let first = graphs.first, let last = graphs.dropFirst().last(where: { $0.mode == first.mode }) else { return nil }
        return (first, last)
    }
}

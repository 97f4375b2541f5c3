/// The ops of one traced call as an SSA graph (TorchScript's inlined graph), plus which
/// module called which (its `prim::CallMethod` view).
public struct StaticGraph: Sendable, Equatable {
    public struct Value: Sendable, Equatable {
        /// `%x`, `%3`, or a parameter's `%fc1.weight`.
        public var name: String
        /// `Float(64, 784)`.
        public var type: String
        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    public struct Node: Sendable, Equatable {
        public var op: String
        public var output: Value
        public var inputs: [String]
        /// The module whose wrapper was innermost (0: none).
        public var scope: UInt32
        /// A module whose parameters this op read outside its wrapper (0: none).
        public var bypassOf: UInt32
        public init(op: String, output: Value, inputs: [String], scope: UInt32, bypassOf: UInt32) {
            self.op = op
            self.output = output
            self.inputs = inputs
            self.scope = scope
            self.bypassOf = bypassOf
        }
    }

    public struct Call: Sendable, Equatable {
        /// 0 when called from outside any module.
        public var caller: UInt32
        public var callee: UInt32
        public var count: Int
        public init(caller: UInt32, callee: UInt32, count: Int) {
            self.caller = caller
            self.callee = callee
            self.count = count
        }
    }

    public var label: String
    public var step: UInt32
    public var inputs: [Value] = []
    public var nodes: [Node] = []
    public var outputs: [String] = []
    public var calls: [Call] = []

    public init(label: String, step: UInt32) {
        self.label = label
        self.step = step
    }

    /// The graph as TorchScript prints an inlined graph:
    /// `%2 : Float(64, 256) = relu(%1), scope: act1 (ReLU)`.
    public func text(module: (UInt32) -> (path: String, type: String)?) -> String {
        var lines = ["graph(" + inputs.map { "\($0.name) : \($0.type)" }.joined(separator: ",\n      ") + "):"]
        for node in nodes { lines.append("  " + StaticGraph.line(node, module: module)) }
        lines.append("  return (" + outputs.joined(separator: ", ") + ")")
        return lines.joined(separator: "\n")
    }

    static func line(_ node: Node, module: (UInt32) -> (path: String, type: String)?) -> String {
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
    public static func firstDifference(_ a: StaticGraph, _ b: StaticGraph,
                                       module: (UInt32) -> (path: String, type: String)?) -> String? {
        if a.inputs != b.inputs {
            return "inputs differ: (\(a.inputs.map { "\($0.name) : \($0.type)" }.joined(separator: ", "))) vs (\(b.inputs.map { "\($0.name) : \($0.type)" }.joined(separator: ", ")))"
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
}

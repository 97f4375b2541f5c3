/// The ops of one traced call as an SSA graph (TorchScript's inlined graph), plus which
/// module called which (its `prim::CallMethod` view).
public struct StaticGraph: Sendable, Equatable {
    /// A value of the graph: an input, a parameter or an op's output.
    public struct Value: Sendable, Equatable {
        /// `%x`, `%3`, or a parameter's `%fc1.weight`.
        public var name: String
        /// `Float(64, 784)`.
        public var type: String
        /// A value named `name` of type `type`.
        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    /// One op: `output = op(inputs)`, with the module it ran in.
    public struct Node: Sendable, Equatable {
        /// The op's name (`linear`, `relu`).
        public var op: String
        /// The value it produced.
        public var output: Value
        /// Names of the values it read, in argument order.
        public var inputs: [String]
        /// The module whose wrapper was innermost (0: none).
        public var scope: UInt32
        /// A module whose parameters this op read outside its wrapper (0: none).
        public var bypassOf: UInt32
        /// An op node.
        public init(op: String, output: Value, inputs: [String], scope: UInt32, bypassOf: UInt32) {
            self.op = op
            self.output = output
            self.inputs = inputs
            self.scope = scope
            self.bypassOf = bypassOf
        }
    }

    /// One edge of the module call view: `caller` called `callee` `count` times.
    public struct Call: Sendable, Equatable {
        /// 0 when called from outside any module.
        public var caller: UInt32
        /// The module that was called.
        public var callee: UInt32
        /// How many times.
        public var count: Int
        /// A call edge.
        public init(caller: UInt32, callee: UInt32, count: Int) {
            self.caller = caller
            self.callee = callee
            self.count = count
        }
    }

    /// What the graph was captured from (`step 3`, `trace`).
    public var label: String
    /// The profiler step it was captured in.
    public var step: UInt32
    /// The graph's inputs (`%x`, `%x.1`, ...), parameters excluded.
    public var inputs: [Value] = []
    /// The ops in the order they ran.
    public var nodes: [Node] = []
    /// Values nothing in the graph consumed (or the traced call's outputs).
    public var outputs: [String] = []
    /// Which module called which, in first-call order.
    public var calls: [Call] = []

    /// The mode the graph was captured in, from the end of its label (`step 3 (train)` gives
    /// `train`; `eval, no grad`): graphs of different modes are not compared.
    public var mode: String {
        guard label.hasSuffix(")"), let open = label.lastIndex(of: "(") else { return "" }
        return String(label[label.index(after: open)..<label.index(before: label.endIndex)])
    }

    /// An empty graph.
    public init(label: String, step: UInt32) {
        self.label = label
        self.step = step
    }
}

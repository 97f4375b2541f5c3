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
}

import Tensors
import Tracing

/// The forward span of one wrapped call, when tracing is on.
struct ForwardSpan {
    let flags: TraceFlags
    var token: Int32 = -1
    /// `HookBit`s of the hooks that ran.
    var hooks: UInt8 = 0

    init(flags: TraceFlags) { self.flags = flags }

    mutating func begin<Input: ModuleIO>(_ module: AnyModule, _ input: Input) {
        guard flags.contains(.spans) else { return }
        TraceDefinitions.ensureDefined(module)
        if flags.contains(.graph) {
            OpObservers.graph?.recordCall(caller: SpanTracer.innermostModule, callee: module.traceID)
        }
        var shapes: UInt32 = 0
        if flags.contains(.shapes) {
            var key = ShapeKey()
            input.forEachTensor { $0.appendShape(to: &key) }
            shapes = SpanTracer.intern(&key)
        }
        token = SpanTracer.begin(.forward, subject: module.traceID,
                                 flags: module.isTraining ? SpanFlag.training : 0, inputShapes: shapes)
    }

    func end<Output: ModuleIO>(_ output: Output?, failed: Bool) {
        guard token >= 0 else { return }
        var shapes: UInt32 = 0
        if let output, flags.contains(.shapes) {
            var key = ShapeKey()
            output.forEachTensor { $0.appendShape(to: &key) }
            shapes = SpanTracer.intern(&key)
        }
        SpanTracer.end(token, outputShapes: shapes, hooks: hooks, failed: failed)
    }
}

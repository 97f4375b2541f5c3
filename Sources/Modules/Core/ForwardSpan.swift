import Tensors
import TraceEvents
import TraceRuntime

/// The forward span of one wrapped call, when tracing is on. Inlined into the wrapper.
@usableFromInline
struct ForwardSpan {
    @usableFromInline let flags: TraceFlags
    @usableFromInline var token: Int32 = -1
    /// `HookBit`s of the hooks that ran.
    @usableFromInline var hooks: UInt8 = 0

    @inlinable init(flags: TraceFlags) { self.flags = flags }

    @inlinable
    mutating func begin<Input: ModuleIO>(_ module: AnyModule, _ input: Input) {
        guard flags.contains(.spans) else { return }
        TraceDefinitions.ensureDefined(module)
        if flags.contains(.bypass) {
            let parent = module.wrapperParent
            if parent != 0 && parent != UInt32.max { ForwardSpan.checkParentActive(module, parent) }
            if module.tracedModeDependent { StateChecks.modeDependentCall(module) }
        }
        if flags.contains(.graph) { ForwardSpan.recordCall(module) }
        var shapes: UInt32 = 0
        if flags.contains(.shapes) { shapes = ForwardSpan.shapeID(input) }
        token = SpanTracer.begin(
            .forward, subject: module.traceID,
            flags: module.isTraining ? SpanFlag.training : 0, inputShapes: shapes)
    }

    /// The interned shapes of a module's input or output.
    @inlinable static func shapeID<Value: ModuleIO>(_ value: borrowing Value) -> UInt32 {
        // Resolved when the wrapper is specialized: most modules take and return one tensor.
        if Value.self == Tensor.self { return unsafeBitCast(value, to: Tensor.self).traceShapeID }
        var key = ShapeKey()
        value.forEachTensor { $0.appendShape(to: &key) }
        return key.isComplete ? SpanTracer.intern(&key) : Tensor.shapeID(value.tensors)
    }

    /// Bypass of a parent: a module's wrapper runs while the wrapper of the ancestor that calls
    /// it is not active, so that ancestor's `forward` was called directly. The common case (the
    /// parent is the innermost wrapper) costs one look at the top frame; otherwise the stack is
    /// walked for the parent's span.
    @inlinable static func checkParentActive(_ module: AnyModule, _ parent: UInt32) {
        let innermost = SpanTracer.innermostModule
        if innermost != parent && !SpanTracer.isActive(module: parent) { reportSkippedParent(module, parent, innermost) }
    }

    @usableFromInline static func reportSkippedParent(_ module: AnyModule, _ parent: UInt32, _ innermost: UInt32) {
        guard SpanTracer.canJudgeThread, let session = Tracer.current else { return }
        session.findings.reportSkippedWrapper(module: parent, caller: innermost, child: module.traceID, step: TraceSession.step)
    }

    @usableFromInline static func recordCall(_ module: AnyModule) {
        OpObservers.graph?.recordCall(caller: SpanTracer.innermostModule, callee: module.traceID, training: module.isTraining)
    }

    /// Ends the span after `forward` returned `output` (borrowed: no retain on the hot path).
    @inlinable
    func end<Output: ModuleIO>(_ output: borrowing Output) {
        guard token >= 0 else { return }
        if flags.contains(.nonFinite) { NonFiniteCheck.check(output, token: token) }
        let shapes: UInt32 = flags.contains(.shapes) ? ForwardSpan.shapeID(output) : 0
        SpanTracer.end(token, outputShapes: shapes, hooks: hooks)
    }

    /// Ends the span of a call that threw.
    @inlinable
    func fail() {
        if token >= 0 { SpanTracer.end(token, hooks: hooks, failed: true) }
    }

}

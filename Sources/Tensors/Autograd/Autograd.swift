import CTracing
import Synchronization
import TraceEvents
import TraceRuntime

/// The single place every op passes through: it opens the op's span, runs the
/// kernel, attaches the backward rule, and reports to the graph recorder and the
/// bypass detector when they are on. With tracing off it costs one flag test.
public enum Autograd {
    /// An op's backward rule: given the output's gradient and the output, the gradients of its inputs in order (nil where none is needed).
    public typealias Backward = (_ grad: Tensor, _ output: Tensor) throws -> [Tensor?]

    /// Runs `compute` as op `name` over `inputs`. Ops check their inputs before calling
    /// this, so `compute` cannot fail.
    @inlinable
    public static func op(
        _ name: String, _ inputs: [Tensor], _ compute: () -> Tensor,
        backward: @escaping Backward
    ) -> Tensor {
        let flags = TraceFlags.current
        // Ops of backward rules have nothing to record unless each op is a span: graphs and
        // parameter reads are forward-only, and gradients are off there (no node, no scope).
        if flags.rawValue & TraceFlags.tracerMask.rawValue == 0
            || (inBackward && !GradMode.isEnabled && !flags.contains(.ops))
        {
            return attach(name, inputs, compute(), scope: 0, backward: backward)
        }
        // `compute` runs here, not inside the traced path, so the kernel is always specialized
        // with its element function (a closure passed on would be called per element).
        if !flags.contains(.ops) && !flags.contains(.graph) {
            // The common traced op (forward, no op span, no graph): its scope and the read check.
            let scope = flags.contains(.spans) ? SpanTracer.innermostModule : 0
            if flags.contains(.bypass) { OpObservers.checkParameterReads(inputs, innermost: scope) }
            return attach(name, inputs, compute(), scope: scope, backward: backward)
        }
        let traced = beginTracedOp(name, inputs, flags)
        return endTracedOp(traced, name, inputs, compute(), flags, backward: backward)
    }

    /// Attaches a backward rule to an already computed `output`.
    @inlinable
    public static func record(
        _ name: String, _ inputs: [Tensor], _ output: Tensor,
        backward: @escaping Backward
    ) -> Tensor {
        op(name, inputs, { output }, backward: backward)
    }

    /// True while backward rules run (their ops are not forward reads of parameters).
    @inlinable public static var inBackward: Bool { ct_state().pointee.inBackward > 0 }

    @usableFromInline
    static func attach(
        _ name: String, _ inputs: [Tensor], _ output: Tensor, scope: UInt32,
        backward: @escaping Backward
    ) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: \.requiresGrad) else { return output }
        output.requiresGrad = true
        output.gradNode = GradNode(op: name, inputs: inputs, scope: scope, backward: backward)
        return output
    }

    /// What the traced path of an op keeps between its kernel's start and end.
    @usableFromInline struct TracedOp {
        @usableFromInline var scope: UInt32
        @usableFromInline var token: Int32
        @usableFromInline var forward: Bool
    }

    @usableFromInline
    static func beginTracedOp(_ name: String, _ inputs: [Tensor], _ flags: TraceFlags) -> TracedOp {
        let scope = flags.contains(.spans) ? SpanTracer.innermostModule : 0
        let forward = !Autograd.inBackward
        // (Whether this thread can be judged is asked only of a read that may be evidence.)
        if forward && flags.contains(.bypass) { OpObservers.checkParameterReads(inputs, innermost: scope) }
        var token: Int32 = -1
        if flags.contains(.ops) && flags.contains(.spans) {
            token = SpanTracer.begin(.op, subject: OpObservers.nameID(name), inputShapes: Tensor.shapeID(inputs))
        }
        return TracedOp(scope: scope, token: token, forward: forward)
    }

    @usableFromInline
    static func endTracedOp(
        _ op: TracedOp, _ name: String, _ inputs: [Tensor], _ output: Tensor, _ flags: TraceFlags,
        backward: @escaping Backward
    ) -> Tensor {
        if op.token >= 0 { SpanTracer.end(op.token, outputShapes: Tensor.shapeID([output])) }
        if op.forward && flags.contains(.graph) {
            OpObservers.graph?.record(op: name, inputs: inputs, output: output, scope: op.scope)
        }
        return attach(name, inputs, output, scope: op.scope, backward: backward)
    }
}

extension Tensor {
    /// Adds this tensor's dtype and dims to a shape key.
    @inlinable package func appendShape(to key: inout ShapeKey) {
        let code = dtype == .float32 ? DTypeCode.float32 : DTypeCode.int32
        shape.withUnsafeBufferPointer { key.append(dtype: code, dims: $0) }
    }

    /// The interned id of this tensor's shape in the active session, interned on first use and
    /// then read from the tensor (one load).
    @inlinable package var traceShapeID: UInt32 {
        let epoch = UInt64(ct_get_epoch())
        let memo = shapeMemo.load(ordering: .relaxed)
        if memo >> 32 == epoch { return UInt32(truncatingIfNeeded: memo) }
        let code = dtype == .float32 ? DTypeCode.float32 : DTypeCode.int32
        var id = shape.withUnsafeBufferPointer { ThreadTrace.current.pointee.intern(dtype: code, dims: $0) }
        if id == 0 { id = Tensor.shapeID(CollectionOfOne(self)) }
        if id != 0 { shapeMemo.store(epoch << 32 | UInt64(id), ordering: .relaxed) }
        return id
    }

    /// The interned id of these tensors' shapes.
    @inlinable public static func shapeID(_ tensors: some Collection<Tensor>) -> UInt32 {
        var key = ShapeKey()
        for t in tensors { t.appendShape(to: &key) }
        return key.isComplete ? SpanTracer.intern(&key) : longShapeID(tensors)
    }

    /// Shapes with more tokens than a key holds (many high-rank tensors).
    @usableFromInline static func longShapeID(_ tensors: some Collection<Tensor>) -> UInt32 {
        Tracer.current?.names.intern(shapeTokens: ShapeKey.tokens(tensors.map { ($0.dtype == .float32 ? .float32 : .int32, $0.shape) }))
            ?? 0
    }
}

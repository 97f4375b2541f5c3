import CTracing
import Tracing

/// The single place every op passes through: it opens the op's span, runs the
/// kernel, attaches the backward rule, and reports to the graph recorder and the
/// bypass detector when they are on. With tracing off it costs one flag test.
public enum Autograd {
    public typealias Backward = (_ grad: Tensor, _ output: Tensor) throws -> [Tensor?]

    /// Runs `compute` as op `name` over `inputs`. Ops check their inputs before calling
    /// this, so `compute` cannot fail.
    @inlinable
    public static func op(_ name: String, _ inputs: [Tensor], _ compute: () -> Tensor,
                          backward: @escaping Backward) -> Tensor {
        let flags = TraceFlags.current
        if flags.rawValue & TraceFlags.tracerMask.rawValue == 0 {
            return attach(name, inputs, compute(), scope: 0, backward: backward)
        }
        return tracedOp(name, inputs, flags, compute, backward: backward)
    }

    /// Attaches a backward rule to an already computed `output`.
    @inlinable
    public static func record(_ name: String, _ inputs: [Tensor], _ output: Tensor,
                              backward: @escaping Backward) -> Tensor {
        op(name, inputs, { output }, backward: backward)
    }

    /// True while backward rules run (their ops are not forward reads of parameters).
    @inlinable public static var inBackward: Bool { ct_state().pointee.inBackward > 0 }

    @usableFromInline
    static func attach(_ name: String, _ inputs: [Tensor], _ output: Tensor, scope: UInt32,
                       backward: @escaping Backward) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: \.requiresGrad) else { return output }
        output.requiresGrad = true
        output.gradNode = GradNode(op: name, inputs: inputs, scope: scope, backward: backward)
        return output
    }

    @usableFromInline
    static func tracedOp(_ name: String, _ inputs: [Tensor], _ flags: TraceFlags,
                         _ compute: () -> Tensor, backward: @escaping Backward) -> Tensor {
        let scope = flags.contains(.spans) ? SpanTracer.innermostModule : 0
        let forward = !Autograd.inBackward
        if forward && flags.contains(.bypass) { OpObservers.checkParameterReads(inputs, innermost: scope) }
        var token: Int32 = -1
        if flags.contains(.ops) && flags.contains(.spans) {
            var key = ShapeKey()
            for t in inputs { t.appendShape(to: &key) }
            token = SpanTracer.begin(.op, subject: OpObservers.nameID(name), inputShapes: SpanTracer.intern(&key))
        }
        let output = compute()
        if token >= 0 {
            var key = ShapeKey()
            output.appendShape(to: &key)
            SpanTracer.end(token, outputShapes: SpanTracer.intern(&key))
        }
        if forward && flags.contains(.graph) { OpObservers.graph?.record(op: name, inputs: inputs, output: output, scope: scope) }
        return attach(name, inputs, output, scope: scope, backward: backward)
    }
}

extension Tensor {
    /// Adds this tensor's dtype and dims to a shape key.
    @inlinable public func appendShape(to key: inout ShapeKey) {
        let code = dtype == .float32 ? DTypeCode.float32 : DTypeCode.int32
        shape.withUnsafeBufferPointer { key.append(dtype: code, dims: $0) }
    }
}

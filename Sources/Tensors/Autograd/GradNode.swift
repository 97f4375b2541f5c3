import CTracing

/// How a tensor was computed: the op, its inputs, and the op's backward rule
/// (one closure per op, micrograd style).
public final class GradNode {
    /// Op name (`linear`); backward spans show it as `LinearBackward`.
    public let op: String
    let inputs: [Tensor]
    /// Maps the gradient of the output (and the output itself) to gradients of the inputs.
    let backward: (_ grad: Tensor, _ output: Tensor) throws -> [Tensor?]
    /// Trace id of the module whose wrapper was innermost when the op ran (0 when untraced).
    public let scope: UInt32
    /// Creation order; backward runs nodes from the newest to the oldest.
    let sequence: UInt64
    /// Set on the identity nodes that module backward hooks insert.
    var hookGroup: BackwardHookGroup?

    init(
        op: String, inputs: [Tensor], scope: UInt32,
        backward: @escaping (_ grad: Tensor, _ output: Tensor) throws -> [Tensor?]
    ) {
        self.op = op
        self.inputs = inputs
        self.scope = scope
        self.backward = backward
        sequence = ct_take_sequence()
    }
}

/// Tensors whose gradients must be seen together: a module's inputs (for full backward
/// hooks) or its outputs (for backward pre-hooks). The engine calls `fire` once, with
/// every member's gradient, when it reaches the first member; `fire` may replace them.
public final class BackwardHookGroup {
    let members: [ObjectIdentifier]
    let fire: ([Tensor?]) -> [Tensor?]?
    var fired = false

    init(members: [ObjectIdentifier], fire: @escaping ([Tensor?]) -> [Tensor?]?) {
        self.members = members
        self.fire = fire
    }
}

extension Autograd {
    /// Passes `tensors` through identity nodes that form one hook group (how module
    /// backward hooks attach to the tape). Tensors that do not require gradients pass unchanged.
    public static func hookGroup(_ tensors: [Tensor], fire: @escaping ([Tensor?]) -> [Tensor?]?) -> [Tensor] {
        guard GradMode.isEnabled else { return tensors }
        let wrapped = tensors.map { t -> Tensor in
            guard t.requiresGrad else { return t }
            let view = t.detach()
            return attach("backward_hook", [t], view, scope: 0) { g, _ in [g] }
        }
        let members = wrapped.filter(\.requiresGrad)
        guard !members.isEmpty else { return tensors }
        let group = BackwardHookGroup(members: wrapped.map(ObjectIdentifier.init), fire: fire)
        for m in members { m.gradNode?.hookGroup = group }
        return wrapped
    }
}

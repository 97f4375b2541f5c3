import CTracing
import TraceRuntime

/// A function called with a tensor's gradient during backward, before it flows on.
/// It may return a replacement gradient.
public typealias GradientHook = (Tensor) -> Tensor?

extension Tensor {
    /// Back-propagates from this tensor: a scalar by default, or with an explicit `gradient`
    /// of this tensor's shape. Leaves that require gradients accumulate into `grad`.
    public func backward(_ gradient: Tensor? = nil) throws {
        guard requiresGrad else {
            throw TensorError("backward", [shape], "tensor does not require grad (no parameter or input requires it)")
        }
        if gradient == nil && count != 1 {
            throw TensorError("backward", [shape], "a gradient is needed for a non-scalar tensor")
        }
        if let gradient, gradient.shape != shape {
            throw TensorError("backward", [shape, gradient.shape], "gradient shape differs from the tensor's")
        }
        try BackwardCallbacks.run { try BackwardEngine.run(from: self, gradient: gradient ?? Tensor(repeating: 1, shape: shape)) }
    }
}

/// Reverse-mode engine: topological order over the recorded graph, one backward rule per node.
enum BackwardEngine {
    static func run(from root: Tensor, gradient: Tensor) throws {
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): gradient]
        let spans = BackwardSpans()
        ct_state().pointee.inBackward += 1
        ct_state().pointee.gradDisabled += 1
        defer {
            spans.closeAll()
            ct_state().pointee.gradDisabled -= 1
            ct_state().pointee.inBackward -= 1
        }
        let order = order(from: root)
        var pending = pendingUses(of: order)
        for tensor in order {
            guard var g = grads.removeValue(forKey: ObjectIdentifier(tensor)) else { continue }
            guard let node = tensor.gradNode else {
                try accumulate(tensor, g)
                continue
            }
            if let hooks = tensor.gradientHooks {
                for hook in hooks { if let replaced = hook(g) { g = replaced } }
            }
            if let group = node.hookGroup, !group.fired {
                g = fire(group, current: tensor, gradient: g, grads: &grads)
            }
            spans.enter(node)
            let inputGrads = try node.backward(g, tensor)
            spans.leaveOp()
            for (input, ig) in zip(node.inputs, inputGrads) where input.requiresGrad {
                let key = ObjectIdentifier(input)
                if let ig { grads[key] = try grads[key].map { try $0 + ig } ?? ig }
                // A leaf whose last reader ran is complete: accumulate it now (overlap for hooks).
                if input.gradNode == nil, let left = pending[key] {
                    if left > 1 {
                        pending[key] = left - 1
                    } else {
                        pending[key] = nil
                        if let g = grads.removeValue(forKey: key) { try accumulate(input, g) }
                    }
                }
            }
        }
    }

    /// For each leaf, how many recorded inputs of the nodes in `order` it is.
    static func pendingUses(of order: [Tensor]) -> [ObjectIdentifier: Int] {
        var uses: [ObjectIdentifier: Int] = [:]
        for tensor in order {
            for input in tensor.gradNode?.inputs ?? [] where input.requiresGrad && input.gradNode == nil {
                uses[ObjectIdentifier(input), default: 0] += 1
            }
        }
        return uses
    }

    /// Runs a leaf's gradient hooks, adds the gradient into `grad`, then its post-accumulate hooks.
    static func accumulate(_ leaf: Tensor, _ gradient: Tensor) throws {
        guard leaf.requiresGrad else { return }
        var g = gradient
        if let hooks = leaf.gradientHooks {
            for hook in hooks { if let replaced = hook(g) { g = replaced } }
        }
        leaf.grad = try leaf.grad.map { try $0 + g } ?? g
        if let hooks = leaf.postAccumulateHooks { for hook in hooks { hook(leaf) } }
    }

    /// Runs a hook group with every member's (final) gradient and applies replacements.
    static func fire(
        _ group: BackwardHookGroup, current: Tensor, gradient: Tensor,
        grads: inout [ObjectIdentifier: Tensor]
    ) -> Tensor {
        group.fired = true
        let me = ObjectIdentifier(current)
        let incoming = group.members.map { $0 == me ? gradient : grads[$0] }
        guard let replaced = group.fire(incoming) else { return gradient }
        var mine = gradient
        for (id, g) in zip(group.members, replaced) {
            if id == me { mine = g ?? gradient } else if let g { grads[id] = g }
        }
        return mine
    }

    /// Tensors reachable from `root` that need gradients, newest node first (PyTorch orders by
    /// sequence number too); leaves come last so their gradients are complete.
    static func order(from root: Tensor) -> [Tensor] {
        var seen = Set<ObjectIdentifier>([ObjectIdentifier(root)])
        var all: [Tensor] = [root]
        var stack: [Tensor] = [root]
        while let t = stack.popLast() {
            for input in t.gradNode?.inputs ?? [] where input.requiresGrad {
                if seen.insert(ObjectIdentifier(input)).inserted {
                    all.append(input)
                    stack.append(input)
                }
            }
        }
        return all.sorted { ($0.gradNode?.sequence ?? 0) > ($1.gradNode?.sequence ?? 0) }
    }
}

/// Opens backward spans that mirror the module tree: consecutive backward rules of ops
/// recorded inside the same module are one span of that module, nested under its
/// parents' backward spans; with op-level tracing each rule is a child op span.
final class BackwardSpans {
    private let flags = TraceFlags.current
    /// Open backward spans, outermost first.
    private var open: [(module: UInt32, token: Int32)] = []
    private var opToken: Int32 = -1
    /// Parent ids by module id, read once per backward pass.
    private lazy var parents = Tracer.current?.modules.parents ?? []
    private var missing: [UInt32] = []

    func enter(_ node: GradNode) {
        guard flags.contains(.spans) else { return }
        let module = node.scope
        if open.last?.module != module {
            // Walk up from the op's module until a module whose backward span is open; close what
            // is above that, open what is between.
            missing.removeAll(keepingCapacity: true)
            var current = module
            var keep = 0
            while current != 0 {
                if let i = open.lastIndex(where: { $0.module == current }) {
                    keep = i + 1
                    break
                }
                missing.append(current)
                current = Int(current) < parents.count ? parents[Int(current)] : 0
                if missing.count > 256 { break }
            }
            while open.count > keep { SpanTracer.end(open.removeLast().token) }
            for m in missing.reversed() { open.append((m, SpanTracer.begin(.backward, subject: m))) }
        }
        if flags.contains(.ops) {
            opToken = SpanTracer.begin(.op, subject: OpObservers.nameID(BackwardSpans.backwardName(node.op)))
        }
    }

    func leaveOp() {
        if opToken >= 0 { SpanTracer.end(opToken) }
        opToken = -1
    }

    func closeAll() {
        leaveOp()
        while let last = open.popLast() { SpanTracer.end(last.token) }
    }

    /// `linear` → `LinearBackward`.
    static func backwardName(_ op: String) -> String {
        op.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined() + "Backward"
    }
}

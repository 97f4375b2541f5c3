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
        var spans = BackwardSpans()
        ct_state().pointee.inBackward += 1
        ct_state().pointee.gradDisabled += 1
        defer {
            spans.finish()
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
///
/// A value owned by one backward pass (a local of the engine, which calls `finish()`): no
/// reference counting, no dynamic exclusivity checks and no allocation per node. Where the
/// module changes, the spans that end and the first span that begins share one clock read.
struct BackwardSpans {
    private let flags = TraceFlags.current
    /// Modules of the open backward spans and their tokens, outermost first (`count` of them).
    private var modules: UnsafeMutablePointer<UInt32>?
    private var tokens: UnsafeMutablePointer<Int32>?
    private var count = 0
    private var capacity = 0
    private var opToken: Int32 = -1
    /// Parent ids by module id, copied once per backward pass (when the first span opens).
    private var parents: UnsafeMutableBufferPointer<UInt32>?

    /// A walk up the tree stops after this many modules without an open span (a cycle guard).
    private static let maxWalk = 257

    mutating func enter(_ node: GradNode) {
        guard flags.contains(.spans) else { return }
        let module = node.scope
        if count == 0 || modules![count - 1] != module {
            if !switchToSibling(module) { reopen(module) }
        }
        if flags.contains(.ops) {
            opToken = SpanTracer.begin(.op, subject: OpObservers.nameID(BackwardSpans.backwardName(node.op)))
        }
    }

    /// Walks up from the op's module until a module whose backward span is open; closes what is
    /// above that and opens what is between, outermost first.
    private mutating func reopen(_ module: UInt32) {
        if parents == nil {
            let ids = Tracer.current?.modules.parents ?? []
            let copy = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: ids.count)
            _ = copy.initialize(from: ids)
            parents = copy
        }
        let parents = self.parents!
        func parent(_ m: UInt32) -> UInt32 { Int(m) < parents.count ? parents[Int(m)] : 0 }
        var missing = 0
        var keep = 0
        var current = module
        while current != 0 {
            if let i = openIndex(of: current) {
                keep = i + 1
                break
            }
            missing += 1
            current = parent(current)
            if missing >= BackwardSpans.maxWalk { break }
        }
        guard count > keep || missing > 0 else { return }
        let now = Clock.ticks()
        while count > keep {
            count -= 1
            SpanTracer.end(tokens![count], at: now)
        }
        reserve(keep + missing)
        // The walk again, writing the missing modules innermost last.
        current = module
        for i in stride(from: keep + missing - 1, through: keep, by: -1) {
            modules![i] = current
            current = parent(current)
        }
        // The first span to open starts where the closed ones ended; spans opened inside it read
        // the clock again, so that no two spans start at the same tick (readers order by start).
        for i in keep..<keep + missing {
            tokens![i] =
                i == keep
                ? SpanTracer.begin(.backward, subject: modules![i], at: now) : SpanTracer.begin(.backward, subject: modules![i])
        }
        count = keep + missing
    }

    /// The common change, from one layer to the next in a container: to a sibling of the
    /// innermost span, which ends where the sibling begins. False when `module` is not one.
    @inline(__always) private mutating func switchToSibling(_ module: UInt32) -> Bool {
        guard count >= 2, module != 0, let parents, Int(module) < parents.count,
            parents[Int(module)] == modules![count - 2]
        else { return false }
        modules![count - 1] = module
        tokens![count - 1] = SpanTracer.replace(tokens![count - 1], with: .backward, subject: module, at: Clock.ticks())
        return true
    }

    private func openIndex(of module: UInt32) -> Int? {
        var i = count - 1
        while i >= 0 {
            if modules![i] == module { return i }
            i -= 1
        }
        return nil
    }

    private mutating func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        let grown = max(16, needed, capacity * 2)
        let m = UnsafeMutablePointer<UInt32>.allocate(capacity: grown)
        let t = UnsafeMutablePointer<Int32>.allocate(capacity: grown)
        if let modules, let tokens {
            m.update(from: modules, count: count)
            t.update(from: tokens, count: count)
            modules.deallocate()
            tokens.deallocate()
        }
        modules = m
        tokens = t
        capacity = grown
    }

    mutating func leaveOp() {
        if opToken >= 0 { SpanTracer.end(opToken) }
        opToken = -1
    }

    /// Closes every span still open (at one clock read) and frees the stacks.
    mutating func finish() {
        leaveOp()
        if count > 0 {
            let now = Clock.ticks()
            while count > 0 {
                count -= 1
                SpanTracer.end(tokens![count], at: now)
            }
        }
        modules?.deallocate()
        tokens?.deallocate()
        parents?.deallocate()
        modules = nil
        tokens = nil
        parents = nil
        capacity = 0
    }

    /// `linear` → `LinearBackward`.
    static func backwardName(_ op: String) -> String {
        op.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined() + "Backward"
    }
}

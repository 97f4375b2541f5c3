import CTracing
import Synchronization
import Tensors
import TraceEvents
import TraceRuntime

/// What every module has, whatever its input and output types: identity, train/eval
/// state, children and parameters, hooks. Subclass `Module<Input, Output>`, not this.
open class AnyModule {
    /// Unique in the process; names the module in traces.
    public let traceID: UInt32
    /// Training mode (the default) or eval mode; Dropout and BatchNorm honour it.
    /// (Read on every traced call: exclusivity checks would cost more than the call.)
    @exclusivity(unchecked) public private(set) final var isTraining = true
    /// This module's hooks; nil keeps the wrapper on its fast path. (Read on every call; written
    /// only by hook registration, which is not concurrent with calls: see `HookStorage`.)
    @exclusivity(unchecked) @usableFromInline final var hooks: HookStorage?
    /// The trace session in which this module's tree was last described to the tracer. (Read on
    /// every traced call; a racing write stores the same epoch, and a stale read only describes
    /// the tree once more.)
    @exclusivity(unchecked) @usableFromInline final var definedEpoch: UInt32 = 0

    /// The nearest ancestor whose wrapper must be active when this module's wrapper runs (the
    /// parent, looking through holders and containers that may be iterated): 0 for a root,
    /// `UInt32.max` for a module registered under several parents. Set when the tree is
    /// described to a session; read by the wrapper's check of bypassed parents.
    @exclusivity(unchecked) @usableFromInline final var wrapperParent: UInt32 = 0
    /// `isModeDependent`, cached when the tree is described (the wrapper reads it per call).
    @exclusivity(unchecked) @usableFromInline final var tracedModeDependent = false
    /// The session and mode interval (epoch << 32 | interval) and the modes (bit 0 eval, bit 1
    /// training) this layer noted in it.
    @exclusivity(unchecked) final var notedModes: (interval: UInt64, modes: UInt8) = (0, 0)

    private static let ids = Atomic<UInt32>(1)

    /// A module with a fresh `traceID`, in training mode, with no hooks.
    public init() {
        traceID = AnyModule.ids.wrappingAdd(1, ordering: .relaxed).oldValue
        ModuleRoster.register(self)
    }

    /// Children by name. By default every stored property holding a module or an array
    /// of modules (named `blocks.0`, `blocks.1`, ...). Containers override it.
    open var children: [(name: String, module: AnyModule)] {
        storedProperties.flatMap { label, value -> [(name: String, module: AnyModule)] in
            if let m = value as? AnyModule { return [(label, m)] }
            if let list = value as? [AnyModule] { return list.enumerated().map { ("\(label).\($0.offset)", $0.element) } }
            return []
        }
    }

    /// The arguments shown in `treeDescription`, like PyTorch's `extra_repr`.
    open var extraDescription: String { "" }

    /// True for the library's layers: their `forward` checks that it runs inside their own
    /// wrapper, which catches bypasses of parameter-free layers (bypass signature 2).
    open var isBuiltIn: Bool { false }

    /// True for containers whose children may as well be called one by one from outside
    /// (`Sequential`; holders without a wrapper such as `ModuleList` always are): iterating
    /// them is not a bypass.
    open var childrenMayRunAlone: Bool { !(self is any CallableModule) }

    /// True for layers that compute differently in training and eval mode (Dropout, BatchNorm):
    /// the tracer checks their mode against the grad mode and the optimizer.
    open var isModeDependent: Bool { false }

    /// Sets training mode on this module and every descendant.
    public func train(_ mode: Bool = true) {
        for (_, m) in namedModules() { m.isTraining = mode }
    }

    /// Sets eval mode on this module and every descendant.
    public func eval() { train(false) }

    /// Bypass signature 2: call first in a built-in layer's `forward`.
    /// The common case, inside its own wrapper, costs a flag test and a look at the top frame.
    @inlinable public final func checkInsideWrapper() {
        if ct_get_flags() & TraceFlags.bypass.rawValue != 0 && TraceFlags.current.contains(.bypass) {
            let innermost = SpanTracer.innermostModule
            if innermost != traceID { reportOutsideWrapper(innermost) }
        }
    }

    @usableFromInline final func reportOutsideWrapper(_ innermost: UInt32) {
        // A thread whose calls began before tracing did has no wrapper spans to compare with.
        guard SpanTracer.canJudgeThread else { return }
        TraceDefinitions.ensureDefined(self)
        Tracer.current?.findings.report(module: traceID, caller: innermost, evidence: .foreignForward, step: TraceSession.step)
    }

    // MARK: Backward hooks (independent of input and output types)

    /// Called with the gradients flowing into this module's outputs; may replace them.
    @discardableResult
    public func registerFullBackwardPreHook(prepend: Bool = false, _ hook: @escaping BackwardPreHook) -> HookHandle {
        addHook { storage, id in HookList.insert(.init(id: id, hook: hook), into: &storage.list.backwardPre, prepend: prepend) }
    }

    /// Called with the gradients of this module's inputs and outputs when the inputs'
    /// are known; may replace the inputs'. If no input requires a gradient it is called
    /// with `gradInput` all nil when the outputs' gradients are known.
    @discardableResult
    public func registerFullBackwardHook(prepend: Bool = false, _ hook: @escaping BackwardHook) -> HookHandle {
        addHook { storage, id in HookList.insert(.init(id: id, hook: hook), into: &storage.list.backward, prepend: prepend) }
    }

    func addHook(_ body: (HookStorage, Int) -> Void) -> HookHandle {
        let id = HookList.nextID()
        let storage = hooks ?? makeHookStorage()
        body(storage, id)
        hooks = storage
        if definedEpoch == ct_get_epoch() { Tracer.current?.modules.addHooks(storage.kinds, to: traceID) }
        return HookHandle { [weak self] in
            guard let self, let storage = self.hooks else { return }
            storage.remove(id)
            if storage.isEmpty { self.hooks = nil }
        }
    }

    /// Storage for hooks of this module's kind (`Module<Input, Output>` keeps them typed).
    func makeHookStorage() -> HookStorage { HookStorage() }

    /// Kinds of hooks registered on this module (`HookBit`s).
    public var registeredHookKinds: UInt8 { hooks?.kinds ?? 0 }
}

import Synchronization
import Tensors
import TraceEvents
import TraceRuntime

/// A forward pre-hook with the input type erased: returns a replacement input or nil.
public typealias AnyForwardPreHook = (AnyModule, any ModuleIO) throws -> (any ModuleIO)?
/// A forward hook with types erased: sees input and output, returns a replacement output or nil.
public typealias AnyForwardHook = (AnyModule, any ModuleIO, any ModuleIO) throws -> (any ModuleIO)?
/// A forward hook that also runs when the call fails: then the output is nil if `forward` threw.
public typealias AnyAlwaysCalledForwardHook = (AnyModule, any ModuleIO, (any ModuleIO)?) throws -> (any ModuleIO)?
/// Sees the gradients of a module's outputs before they flow into it; may replace them.
public typealias BackwardPreHook = (_ module: AnyModule, _ gradOutput: [Tensor?]) -> [Tensor?]?
/// Sees the gradients of a module's inputs and outputs once the inputs' are known; may replace the inputs'.
public typealias BackwardHook = (_ module: AnyModule, _ gradInput: [Tensor?], _ gradOutput: [Tensor?]) -> [Tensor?]?

/// Removes the hook it was returned for. Keep it to remove the hook later; dropping it keeps the hook.
public final class HookHandle {
    private let action: () -> Void
    init(_ action: @escaping () -> Void) { self.action = action }
    /// Removes the hook; calling it again does nothing.
    public func remove() { action() }
}

/// The global hooks, or a module's backward hooks, in call order.
/// Sendable by hand: the global list is replaced whole under `GlobalHooks`' lock and read as an
/// immutable snapshot; the hooks themselves run on the calling thread, as PyTorch's do.
@usableFromInline struct HookList: @unchecked Sendable {
    @usableFromInline struct Entry<Hook> {
        @usableFromInline let id: Int
        @usableFromInline let hook: Hook
        @usableFromInline var alwaysCall = false
    }

    @usableFromInline var forwardPre: [Entry<AnyForwardPreHook>] = []
    @usableFromInline var forward: [Entry<AnyAlwaysCalledForwardHook>] = []
    @usableFromInline var backwardPre: [Entry<BackwardPreHook>] = []
    @usableFromInline var backward: [Entry<BackwardHook>] = []

    @usableFromInline init() {}

    var isEmpty: Bool { forwardPre.isEmpty && forward.isEmpty && backwardPre.isEmpty && backward.isEmpty }
    @usableFromInline var hasBackward: Bool { !backwardPre.isEmpty || !backward.isEmpty }

    mutating func remove(_ id: Int) {
        forwardPre.removeAll { $0.id == id }
        forward.removeAll { $0.id == id }
        backwardPre.removeAll { $0.id == id }
        backward.removeAll { $0.id == id }
    }

    /// `HookBit`s of the kinds registered.
    var kinds: UInt8 {
        (forwardPre.isEmpty ? 0 : HookBit.forwardPre) | (forward.isEmpty ? 0 : HookBit.forward)
            | (backwardPre.isEmpty ? 0 : HookBit.backwardPre) | (backward.isEmpty ? 0 : HookBit.backward)
    }

    static func insert<H>(_ entry: Entry<H>, into list: inout [Entry<H>], prepend: Bool) {
        if prepend { list.insert(entry, at: 0) } else { list.append(entry) }
    }

    private static let ids = Atomic<Int>(1)
    static func nextID() -> Int { ids.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Hooks that run for every module call, before the module's own (PyTorch's
/// `register_module_forward_pre_hook` and friends). Meant for debugging and profiling tools.
public enum GlobalHooks {
    static let list = Mutex(HookList())

    @usableFromInline static var snapshot: HookList { list.withLock { $0 } }

    private static func update(_ body: (inout HookList, Int) -> Void) -> HookHandle {
        let id = HookList.nextID()
        list.withLock { l in
            body(&l, id)
            TraceFlags.setGlobalHooks(!l.isEmpty)
        }
        return HookHandle {
            list.withLock { l in
                l.remove(id)
                TraceFlags.setGlobalHooks(!l.isEmpty)
            }
        }
    }

    /// Runs before every module's own pre-hooks; a non-nil return replaces the input
    /// (it must have the module's input type).
    @discardableResult
    public static func registerForwardPreHook(_ hook: @escaping AnyForwardPreHook) -> HookHandle {
        update { $0.forwardPre.append(.init(id: $1, hook: hook)) }
    }

    /// Runs after every module's `forward`, before the module's own forward hooks.
    @discardableResult
    public static func registerForwardHook(_ hook: @escaping AnyForwardHook) -> HookHandle {
        update { $0.forward.append(.init(id: $1, hook: { m, x, y in try hook(m, x, y!) })) }
    }

    /// A global forward hook that also runs when a module call throws (PyTorch's
    /// `always_call=True`); its output is nil if `forward` threw, and its own errors are dropped then.
    @discardableResult
    public static func registerForwardHook(alwaysCall: Bool, _ hook: @escaping AnyAlwaysCalledForwardHook) -> HookHandle {
        update { $0.forward.append(.init(id: $1, hook: hook, alwaysCall: alwaysCall)) }
    }

    /// Registers a full backward pre-hook on every module (`register_module_full_backward_pre_hook`).
    @discardableResult
    public static func registerFullBackwardPreHook(_ hook: @escaping BackwardPreHook) -> HookHandle {
        update { $0.backwardPre.append(.init(id: $1, hook: hook)) }
    }

    /// Registers a full backward hook on every module (`register_module_full_backward_hook`).
    @discardableResult
    public static func registerFullBackwardHook(_ hook: @escaping BackwardHook) -> HookHandle {
        update { $0.backward.append(.init(id: $1, hook: hook)) }
    }
}

/// A module's hooks, boxed so that "no hooks" is a nil check. The backward hooks are kept
/// here; `Module<Input, Output>` keeps its forward hooks typed in `TypedHooks`.
/// Sendable by hand, like the module that owns it: register hooks before calling the model
/// from several threads (registration is not synchronized with calls).
public class HookStorage: @unchecked Sendable {
    @usableFromInline var list = HookList()

    var isEmpty: Bool { list.isEmpty }
    /// `HookBit`s of the kinds registered.
    var kinds: UInt8 { list.kinds }
    func remove(_ id: Int) { list.remove(id) }
}

/// The hooks of a `Module<Input, Output>`: forward hooks run without boxing or casts.
/// (Sendable by hand, as `HookStorage`.)
@usableFromInline
final class TypedHooks<Input: ModuleIO, Output: ModuleIO>: HookStorage, @unchecked Sendable {
    @usableFromInline typealias PreHook = (Module<Input, Output>, Input) throws -> Input?
    /// A forward hook; the output is nil only for always-called hooks of a call whose `forward` threw.
    @usableFromInline typealias ForwardHook = (Module<Input, Output>, Input, Output?) throws -> Output?

    @usableFromInline var forwardPre: [HookList.Entry<PreHook>] = []
    @usableFromInline var forward: [HookList.Entry<ForwardHook>] = []

    override var isEmpty: Bool { forwardPre.isEmpty && forward.isEmpty && list.isEmpty }
    override var kinds: UInt8 {
        list.kinds | (forwardPre.isEmpty ? 0 : HookBit.forwardPre) | (forward.isEmpty ? 0 : HookBit.forward)
    }
    override func remove(_ id: Int) {
        forwardPre.removeAll { $0.id == id }
        forward.removeAll { $0.id == id }
        list.remove(id)
    }
}

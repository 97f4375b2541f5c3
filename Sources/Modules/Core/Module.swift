import CTracing
import Tensors
import TraceEvents
import TraceRuntime

/// A layer or model: subclass it, override `forward`, call it as `model(x)`.
///
/// `callAsFunction` is the call wrapper and is `final`: it runs hooks, records the call
/// when tracing is on, attaches backward hooks, names the module in errors, and then
/// calls `forward`. With no hooks and no tracer it is one branch before `forward`.
/// Calling `forward` directly skips all of that; the tracer reports such bypasses.
open class Module<Input: ModuleIO, Output: ModuleIO>: AnyModule, CallableModule {
    /// A module; subclasses declare their children and parameters as stored properties.
    public override init() { super.init() }

    /// The call wrapper (PyTorch's `_call_impl`).
    @inlinable
    public final func callAsFunction(_ input: Input) throws -> Output {
        let flags = ct_get_flags()
        if _fastPath(flags == 0) && hooks == nil {
            // Catching costs nothing until something throws.
            do { return try forward(input) } catch { throw annotate(error, input: input) }
        }
        if hooks == nil && flags & TraceFlags.globalHooks.rawValue == 0 {
            return try tracedCall(input, TraceFlags.current)
        }
        return try wrappedCall(input)
    }

    /// Tracing without hooks: the span around `forward`, and nothing else.
    @inlinable
    final func tracedCall(_ input: Input, _ flags: TraceFlags) throws -> Output {
        var span = ForwardSpan(flags: flags)
        span.begin(self, input)
        do {
            let output = try forward(input)
            span.end(output)
            return output
        } catch {
            span.fail()
            throw annotate(error, input: input)
        }
    }

    /// The computation. Override it; call other modules through their wrapper (`fc(x)`).
    open func forward(_ input: Input) throws -> Output {
        preconditionFailure("\(typeName) must override forward(_:)")
    }

    // MARK: Forward hooks

    /// Runs before `forward`, after the global pre-hooks; a non-nil return replaces the input.
    @discardableResult
    public func registerForwardPreHook(
        prepend: Bool = false,
        _ hook: @escaping (Module<Input, Output>, Input) throws -> Input?
    ) -> HookHandle {
        addHook { storage, id in
            HookList.insert(.init(id: id, hook: hook), into: &typed(storage).forwardPre, prepend: prepend)
        }
    }

    /// Runs after `forward` and the global forward hooks; a non-nil return replaces the output.
    @discardableResult
    public func registerForwardHook(
        prepend: Bool = false,
        _ hook: @escaping (Module<Input, Output>, Input, Output) throws -> Output?
    ) -> HookHandle {
        addHook { storage, id in
            HookList.insert(
                .init(id: id, hook: { m, x, y in try hook(m, x, y!) }), into: &typed(storage).forward,
                prepend: prepend)
        }
    }

    /// A forward hook that with `alwaysCall` also runs when `forward` or a hook throws
    /// (PyTorch's `always_call=True`): then `output` is nil if `forward` threw, and the hook's own
    /// errors are dropped.
    @discardableResult
    public func registerForwardHook(
        prepend: Bool = false, alwaysCall: Bool,
        _ hook: @escaping (Module<Input, Output>, Input, Output?) throws -> Output?
    ) -> HookHandle {
        addHook { storage, id in
            HookList.insert(.init(id: id, hook: hook, alwaysCall: alwaysCall), into: &typed(storage).forward, prepend: prepend)
        }
    }

    override func makeHookStorage() -> HookStorage { TypedHooks<Input, Output>() }

    /// This module's hook storage as `makeHookStorage` made it.
    @usableFromInline final func typed(_ storage: HookStorage) -> TypedHooks<Input, Output> {
        unsafeDowncast(storage, to: TypedHooks<Input, Output>.self)
    }

    // MARK: The slow path

    /// Hooks, tracing and error annotation, in PyTorch's `_call_impl` order.
    /// Inlinable (but never inlined) so that each module type gets a specialized copy: typed
    /// hooks then run as direct closure calls, with no generic metadata looked up per call.
    @inlinable @inline(never)
    final func wrappedCall(_ input: Input) throws -> Output {
        let flags = TraceFlags.current
        let globals = flags.contains(.globalHooks) ? GlobalHooks.snapshot : HookList()
        let local = hooks.map(typed)
        var span = ForwardSpan(flags: flags)
        span.begin(self, input)
        var args = input
        var output: Output?
        var calledAlways = Set<Int>()
        do {
            for entry in globals.forwardPre {
                if let replaced = try entry.hook(self, args) { args = try cast(replaced, "global forward pre-hook") }
                span.hooks |= HookBit.globalForwardPre
            }
            for entry in local?.forwardPre ?? [] {
                if let replaced = try entry.hook(self, args) { args = replaced }
                span.hooks |= HookBit.forwardPre
            }
            let backward =
                globals.hasBackward || local?.list.hasBackward == true
                ? BackwardHookState(module: self, globals: globals, local: local?.list ?? HookList()) : nil
            if let backward { args = backward.wrapInputs(args) }
            var result = try forward(args)
            output = result
            for entry in globals.forward {
                if entry.alwaysCall { calledAlways.insert(entry.id) }
                if let replaced = try entry.hook(self, args, result) { result = try cast(replaced, "global forward hook") }
                output = result
                span.hooks |= HookBit.globalForward
            }
            for entry in local?.forward ?? [] {
                if entry.alwaysCall { calledAlways.insert(entry.id) }
                if let replaced = try entry.hook(self, args, result) { result = replaced }
                output = result
                span.hooks |= HookBit.forward
            }
            if let backward { result = backward.wrapOutputs(result) }
            span.end(result)
            return result
        } catch {
            // Hooks registered with alwaysCall still run; their own errors are dropped.
            for entry in globals.forward where entry.alwaysCall && !calledAlways.contains(entry.id) {
                _ = try? entry.hook(self, args, output)
            }
            for entry in local?.forward ?? [] where entry.alwaysCall && !calledAlways.contains(entry.id) {
                _ = try? entry.hook(self, args, output)
            }
            span.fail()
            throw annotate(error, input: input)
        }
    }

    @usableFromInline final func cast<T>(_ value: any ModuleIO, _ what: String) throws -> T {
        guard let typed = value as? T else {
            throw HookTypeError(message: "\(what) of \(typeName) returned \(type(of: value)), expected \(T.self)")
        }
        return typed
    }

    /// Wraps `error` with this module's place in the call path.
    @usableFromInline
    final func annotate(_ error: any Error, input: Input) -> ModuleError {
        if var inner = error as? ModuleError {
            if inner.head != ObjectIdentifier(self) {
                inner.path.insert(name(of: inner.head) ?? "<unregistered>", at: 0)
                inner.rootType = typeName
            }
            return ModuleError(
                path: inner.path, moduleType: inner.moduleType, rootType: typeName,
                inputShapes: inner.inputShapes, underlying: inner.underlying, head: ObjectIdentifier(self))
        }
        return ModuleError(
            path: [], moduleType: typeName, rootType: typeName, inputShapes: input.shapeDescription,
            underlying: error, head: ObjectIdentifier(self))
    }
}

/// A hook returned a value of the wrong type.
public struct HookTypeError: Error, CustomStringConvertible {
    /// What went wrong, naming the hook and both types.
    public let message: String
    /// (`message`)
    public var description: String { message }
}

/// Modules with a call wrapper (every `Module<Input, Output>`), as opposed to holders
/// such as `ModuleList`.
public protocol CallableModule: AnyModule {}

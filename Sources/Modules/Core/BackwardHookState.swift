import Tensors

/// Backward hooks of one module call: identity nodes on its inputs and outputs whose
/// gradients are handed to the hooks (like PyTorch's `BackwardHookFunction`).
@usableFromInline final class BackwardHookState {
    let module: AnyModule
    let preHooks: [BackwardPreHook]
    let fullHooks: [BackwardHook]
    var gradOutputs: [Tensor?] = []
    var inputCount = 0
    var inputsNeedGrad = false

    @usableFromInline init(module: AnyModule, globals: HookList, local: HookList) {
        self.module = module
        preHooks = (globals.backwardPre + local.backwardPre).map(\.hook)
        fullHooks = (globals.backward + local.backward).map(\.hook)
    }

    @usableFromInline func wrapInputs<Input: ModuleIO>(_ input: Input) -> Input {
        let tensors = input.tensors
        inputCount = tensors.count
        inputsNeedGrad = tensors.contains(where: \.requiresGrad)
        return replace(input, with: Autograd.hookGroup(tensors) { [self] in runFull($0) })
    }

    @usableFromInline func wrapOutputs<Output: ModuleIO>(_ output: Output) -> Output {
        replace(output, with: Autograd.hookGroup(output.tensors) { [self] in runPre($0) })
    }

    private func replace<Value: ModuleIO>(_ value: Value, with tensors: [Tensor]) -> Value {
        var i = 0
        return value.mapTensors { _ in
            defer { i += 1 }
            return tensors[i]
        }
    }

    private func runPre(_ incoming: [Tensor?]) -> [Tensor?]? {
        var grads = incoming
        var replaced = false
        for hook in preHooks {
            if let r = hook(module, grads), r.count == grads.count {
                grads = r
                replaced = true
            }
        }
        gradOutputs = grads
        if !inputsNeedGrad { _ = runFull([Tensor?](repeating: nil, count: inputCount)) }
        return replaced ? grads : nil
    }

    private func runFull(_ incoming: [Tensor?]) -> [Tensor?]? {
        var grads = incoming
        var replaced = false
        for hook in fullHooks {
            if let r = hook(module, grads, gradOutputs), r.count == grads.count {
                grads = r
                replaced = true
            }
        }
        return replaced ? grads : nil
    }
}

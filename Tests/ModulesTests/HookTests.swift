import Tensors
import Testing

@testable import Modules

/// Global hooks are process-wide, so the tests that use them run one at a time.
@Suite("Call wrapper and hooks", .serialized)
struct HookTests {
    @Test func callOrderFollowsPyTorch() throws {
        let m = Linear(2, 2)
        var log: [String] = []
        let g1 = GlobalHooks.registerForwardPreHook { module, _ in
            if module === m { log.append("global pre") }
            return nil
        }
        let g2 = GlobalHooks.registerForwardHook { module, _, _ in
            if module === m { log.append("global forward") }
            return nil
        }
        defer {
            g1.remove()
            g2.remove()
        }
        m.registerForwardPreHook { _, _ in
            log.append("pre")
            return nil
        }
        m.registerForwardPreHook(prepend: true) { _, _ in
            log.append("pre (prepended)")
            return nil
        }
        m.registerForwardHook { _, _, _ in
            log.append("forward")
            return nil
        }
        _ = try m(Tensor.ones([1, 2]))
        #expect(log == ["global pre", "pre (prepended)", "pre", "global forward", "forward"])
    }

    @Test func hooksReplaceInputAndOutput() throws {
        let m = ReLU()
        m.registerForwardPreHook { _, x in x * -1 }
        m.registerForwardHook { _, _, y in y + 10 }
        #expect(try m(Tensor([1, -2])).scalars == [10, 12])
    }

    @Test func removedHooksStopAndFastPathReturns() throws {
        let m = ReLU()
        var calls = 0
        let handle = m.registerForwardHook { _, _, _ in
            calls += 1
            return nil
        }
        _ = try m(Tensor([1]))
        handle.remove()
        _ = try m(Tensor([1]))
        #expect(calls == 1)
        #expect(m.hooks == nil)
    }

    @Test func alwaysCallHooksRunWhenForwardThrows() throws {
        let m = Linear(3, 2)
        var seen: [String] = []
        m.registerForwardHook(alwaysCall: true) { _, _, y in
            seen.append("always, output \(y == nil ? "nil" : "set")")
            return nil
        }
        m.registerForwardHook { _, _, _ in
            seen.append("normal")
            return nil
        }
        #expect(throws: ModuleError.self) { try m(Tensor.ones([1, 5])) }
        #expect(seen == ["always, output nil"])
    }

    @Test func alwaysCallHooksSeeNoOutputWhenInputAndOutputTypesDiffer() throws {
        // Attention maps AttentionInput to Tensor: nothing of the input's type may stand in for the output.
        let m = MultiheadSelfAttention(dimension: 4, heads: 2)
        var seen: [String] = []
        let global = GlobalHooks.registerForwardHook(alwaysCall: true) { module, _, y in
            if module === m { seen.append("global, output \(y == nil ? "nil" : "set")") }
            return nil
        }
        defer { global.remove() }
        m.registerForwardHook(alwaysCall: true) { _, x, y in
            seen.append("local, input \(x.x.shape), output \(y == nil ? "nil" : "set")")
            return nil
        }
        #expect(throws: ModuleError.self) { try m(AttentionInput(Tensor.ones([1, 3, 5]))) }
        #expect(seen == ["global, output nil", "local, input [1, 3, 5], output nil"])
        // After a hook throws, the output exists and always-called hooks that did not run yet see it.
        let failing = ReLU()
        var outputs: [[Float]?] = []
        failing.registerForwardHook { _, _, _ in throw HookFailure() }
        failing.registerForwardHook(alwaysCall: true) { _, _, y in
            outputs.append(y?.scalars)
            return nil
        }
        #expect(throws: ModuleError.self) { try failing(Tensor([-1, 2])) }
        #expect(outputs == [[0, 2]])
    }

    @Test func globalPreHookMayReplaceInput() throws {
        let m = ReLU()
        let h = GlobalHooks.registerForwardPreHook { module, x in
            module === m ? (x as! Tensor) + 1 : nil
        }
        defer { h.remove() }
        #expect(try m(Tensor([-0.5])).scalars == [0.5])
    }

    @Test func backwardHooksSeeAndReplaceGradients() throws {
        let m = Linear(3, 2)
        let x = Tensor([1, 2, 3], shape: [1, 3]).asParameter()
        var seenOut: [Int] = []
        var seenIn: [Int] = []
        m.registerFullBackwardPreHook { _, gradOutput in
            seenOut = gradOutput.map { $0?.shape.reduce(1, *) ?? 0 }
            return gradOutput.map { $0.map { $0 * 2 } }
        }
        m.registerFullBackwardHook { _, gradInput, gradOutput in
            seenIn = gradInput.map { $0?.shape.reduce(1, *) ?? 0 }
            #expect(gradOutput[0]?.scalars == [2, 2])
            return nil
        }
        try m(x).sum().backward()
        #expect(seenOut == [2])
        #expect(seenIn == [3])
        // Doubled output gradient doubles every downstream gradient.
        #expect(m.bias?.grad?.scalars == [2, 2])
        let expected = try (m.weight.sum(axes: [0]) * 2).scalars
        #expect(x.grad?.scalars == expected)
    }

    @Test func fullBackwardHookFiresWithNilInputsWhenNoInputNeedsGrad() throws {
        let m = Linear(3, 2)
        var gradInput: [Tensor?]?
        m.registerFullBackwardHook { _, gi, _ in
            gradInput = gi
            return nil
        }
        try m(Tensor.ones([1, 3])).sum().backward()
        #expect(gradInput?.count == 1)
        #expect(gradInput?[0] == nil)
    }

    @Test func multiInputModuleGoesThroughTheWrapper() throws {
        let attention = MultiheadSelfAttention(dimension: 8, heads: 2)
        var shapes: [[Int]] = []
        attention.registerForwardPreHook { _, input in
            shapes = input.tensors.map(\.shape)
            return nil
        }
        let y = try attention(AttentionInput(random([2, 5, 8]), mask: AttentionInput.causalMask(5)))
        #expect(shapes == [[2, 5, 8], [5, 5]])
        #expect(y.shape == [2, 5, 8])
    }

    @Test func errorsNameTheModulePathAndShapes() throws {
        let model = Sequential(Linear(4, 8), ReLU(), Sequential(Linear(8, 3), Linear(5, 2)))
        let error = #expect(throws: ModuleError.self) { try model(Tensor.ones([2, 4])) }
        #expect(error?.modulePath == "2.1")
        #expect(
            error?.description
                == "'2.1' (Linear) in Sequential, input [2,3]: linear: expected x [..., 5], weight [out, in], bias [out] (shapes [2,3], [2,5], [2])"
        )
    }
}

struct HookFailure: Error {}

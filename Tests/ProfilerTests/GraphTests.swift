import Foundation
import Modules
import Tensors
import Testing
import TraceStore
import TraceTools

@testable import Profiler

/// Compares `text` with `Golden/<name>`; `UPDATE_GOLDEN=1` rewrites the file instead.
func expectGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
    if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
        try text.write(to: url, atomically: true, encoding: .utf8)
        return
    }
    #expect(text == (try String(contentsOf: url, encoding: .utf8)), "differs from Golden/\(name)", sourceLocation: sourceLocation)
}

final class Branchy: Module<Tensor, Tensor> {
    let fc = Linear(3, 3)
    let up = ReLU()
    let down = Tanh()
    override func forward(_ x: Tensor) throws -> Tensor {
        let h = try fc(x)
        return x.sum().item > 0 ? try up(h) : try down(h)  // data-dependent control flow
    }
}

extension Tracing {
    @Suite("Static graphs")
    struct GraphTests {
        @Test func traceTextAndDot() throws {
            let model = Outer()
            let traced = try trace(model, Tensor.ones([4, 3]))
            try expectGolden(traced.text, "outer.txt")
            #expect(traced.graph.nodes.map(\.op) == ["linear", "relu", "linear"])
            #expect(traced.graph.calls.count == 5)

            // The same graph through the profiler, stored, and printed by tracectl's views.
            let path = try profile(watch: model) { _ in _ = try model(Tensor.ones([4, 3])) }
            let view = try GraphView(reader: TraceReader(path: path), run: nil)
            let stored = try view.graph(step: nil)
            #expect(view.opsText(stored) == traced.text)
            try expectGolden(view.opsDot(stored), "outer.dot")
            try expectGolden(view.modulesText(stored), "outer-modules.txt")
            try expectGolden(view.modulesDot(stored), "outer-modules.dot")
        }

        @Test func bypassIsMarkedOnTheOp() throws {
            let traced = try trace(BypassesLinear(), Tensor.ones([2, 3]))
            #expect(
                traced.text.contains(
                    "= linear(%x, %fc.weight, %fc.bias), scope: BypassesLinear  # bypass: fc.forward called from BypassesLinear"))
        }

        @Test func graphsOfTwoStepsAreCompared() throws {
            let model = Branchy()
            var options = ProfilerOptions()
            options.graphCompareAfter = 2
            let path = try profile(options, watch: model) { p in
                for step in 0..<3 {
                    // Step 0 goes one way, step 2 the other.
                    _ = try model(Tensor(repeating: step == 0 ? 1 : -1, shape: [1, 3]) * 100)
                    p.step()
                }
            }
            let view = try GraphView(reader: TraceReader(path: path), run: nil)
            #expect(view.graphs.map(\.step) == [0, 2])
            let comparison = try #require(view.comparison)
            // Nodes: the input scaling, linear, the sum the branch reads, then relu or tanh.
            #expect(
                comparison == "The graphs of steps 0 and 2 differ (data-dependent control flow?): node 4 differs: "
                    + "step 0 has `%4 : Float(1, 3) = relu(%2), scope: up (ReLU)`, step 2 has `%4 : Float(1, 3) = tanh(%2), scope: down (Tanh)`"
            )
        }

        @Test func sameGraphsSaySo() throws {
            let model = Outer()
            var options = ProfilerOptions()
            options.graphCompareAfter = 1
            let path = try profile(options) { p in
                for _ in 0..<2 {
                    _ = try model(Tensor.ones([4, 3]))
                    p.step()
                }
            }
            let view = try GraphView(reader: TraceReader(path: path), run: nil)
            #expect(view.comparison == "The graphs of steps 0 and 1 are the same.")
        }

        /// Elements of a list whose `forward` was called directly are shown under the list, which
        /// itself is never called (it has no wrapper).
        @Test func modulesViewShowsBypassedElementsOfContainers() throws {
            let model = Stack()
            model.mode = 1
            let path = try profile { _ in _ = try model(x3) }
            let view = try GraphView(reader: TraceReader(path: path), run: nil)
            let text = view.modulesText(try view.graph(step: nil))
            #expect(
                text == """
                    module calls, step 0 (train):
                      Stack
                        layers (ModuleList<Linear>)
                          layers.0 (Linear)  # bypass: forward called directly from Stack
                          layers.1 (Linear)  # bypass: forward called directly from Stack
                          layers.2 (Linear)  # bypass: forward called directly from Stack
                        seq (Sequential)  # never called: unused or bypassed
                          seq.0 (Linear)  # never called: unused or bypassed
                          seq.1 (ReLU)  # never called: unused or bypassed
                          seq.2 (Linear)  # never called: unused or bypassed
                    """, "\(text)")
        }

        /// A validation pass (eval mode, no grad) on the later step is not the training step's graph
        /// and is not compared with it; the graphs say which mode they were captured in.
        @Test func validationStepIsNotComparedWithTraining() throws {
            let model = Classifier()
            var options = ProfilerOptions()
            options.graphCompareAfter = 1
            let path = try profile(options) { p in
                _ = try model(x3).sum()
                p.step()
                model.eval()
                _ = try noGrad { try model(x3) }
                p.step()
            }
            let view = try GraphView(reader: TraceReader(path: path), run: nil)
            #expect(view.graphs.map(\.label) == ["step 0 (train)", "step 1 (eval, no grad)"])
            #expect(view.comparison == nil)
        }
    }
}

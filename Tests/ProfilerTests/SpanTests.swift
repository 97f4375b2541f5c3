import Foundation
import Modules
import Tensors
import Testing
import TraceRuntime
import TraceStore

@testable import Profiler

extension Tracing {
    @Suite("Spans from the call wrapper")
    struct SpanTests {
        @Test func spanTreeMatchesTheModuleTree() throws {
            let model = Outer()
            let path = try profile(watch: model) { p in
                for _ in 0..<3 {
                    _ = try model(Tensor.ones([4, 3]))
                    p.step()
                }
            }
            let counts = try rows(
                path,
                """
                SELECT name, count(*), min(depth), max(depth) FROM spans
                WHERE kind = 'forward' GROUP BY name ORDER BY name
                """)
            #expect(
                counts == [
                    [.text("Outer"), .int(3), .int(1), .int(1)],
                    [.text("c"), .int(3), .int(2), .int(2)],
                    [.text("inner"), .int(3), .int(2), .int(2)],
                    [.text("inner.a"), .int(3), .int(3), .int(3)],
                    [.text("inner.b"), .int(3), .int(3), .int(3)],
                ])
            // Every module span's parent is the span of the module that called it, in the same step.
            let parents = try texts(
                path,
                """
                SELECT DISTINCT s.name || ' <- ' || p.name FROM spans s JOIN spans p ON p.id = s.parent_id
                WHERE s.step = p.step ORDER BY 1
                """)
            #expect(
                parents == [
                    "Outer <- ProfilerStep#0", "Outer <- ProfilerStep#1", "Outer <- ProfilerStep#2",
                    "c <- Outer", "inner <- Outer", "inner.a <- inner", "inner.b <- inner",
                ])
            // Children lie inside their parents.
            let outside = try rows(
                path,
                """
                SELECT count(*) FROM spans s JOIN spans p ON p.id = s.parent_id
                WHERE s.ts_ns < p.ts_ns OR s.ts_ns + s.dur_ns > p.ts_ns + p.dur_ns
                """)
            #expect(outside == [[.int(0)]])
            let steps = try texts(path, "SELECT name FROM spans WHERE kind = 'step' ORDER BY step")
            #expect(steps == ["ProfilerStep#0", "ProfilerStep#1", "ProfilerStep#2"])
            // The watched tree, with parents and parameter counts.
            let modules = try texts(
                path,
                """
                SELECT m.path || ':' || m.type || ':' || COALESCE(p.path, '-') || ':' || m.total_parameters
                FROM modules m LEFT JOIN modules p ON p.run_id = m.run_id AND p.id = m.parent_id ORDER BY m.ordinal
                """)
            #expect(
                modules == [
                    ":Outer:-:20", "inner:Inner::8", "inner.a:Linear:inner:8", "inner.b:ReLU:inner:0", "c:Linear::6",
                    "unused:Linear::6",
                ])
            let run = try TraceReader(path: path).run(nil)
            #expect(run.status == "complete")
            #expect(try rows(path, "SELECT count(*) FROM spans") == [[.int(18)]])
        }

        @Test func shapesOfMultiInputAndMultiOutputModules() throws {
            final class TwoOut: Module<Tensor, Pair<Tensor, Tensor>> {
                override func forward(_ x: Tensor) throws -> Pair<Tensor, Tensor> { Pair(x, try x.sum(axes: [1])) }
            }
            let attention = MultiheadSelfAttention(dimension: 8, heads: 2)
            let split = TwoOut()
            let path = try profile { _ in
                _ = try attention(AttentionInput(Tensor.ones([2, 5, 8]), mask: AttentionInput.causalMask(5)))
                _ = try split(Tensor.ones([3, 4]))
            }
            let shapes = try rows(
                path,
                """
                SELECT name, input_shapes, output_shapes FROM spans WHERE kind = 'forward'
                ORDER BY id
                """)
            #expect(
                shapes == [
                    [.text("MultiheadSelfAttention"), .text("[2,5,8];[5,5]"), .text("[2,5,8]")],
                    [.text("qkv"), .text("[2,5,8]"), .text("[2,5,24]")],
                    [.text("projection"), .text("[2,5,8]"), .text("[2,5,8]")],
                    [.text("TwoOut"), .text("[3,4]"), .text("[3,4];[3]")],
                ])
            let dtypes = try texts(path, "SELECT dtypes FROM shapes WHERE text = '[2,5,8];[5,5]'")
            #expect(dtypes == ["float32;float32"])
        }

        @Test func oneTensorsShapeIsRememberedPerSessionAndKeepsItsDtype() throws {
            // A tensor remembers its interned shape for one session: the same tensor traced in a
            // second session, whose interner numbers shapes anew, must be interned again there.
            final class Lookup: Module<Tensor, Tensor> {
                let table = Embedding(10, 4)
                let head = Linear(4, 4)
                override func forward(_ ids: Tensor) throws -> Tensor { try head(try table(ids)) }
            }
            let model = Lookup()
            let ids = Tensor(indices: [1, 2, 3, 4, 5, 6], shape: [2, 3])
            let other = Linear(1, 1)
            let one = Tensor.ones([1])
            var traces: [[[SQLValue]]] = []
            for session in 0..<2 {
                let path = try profile { _ in
                    // Another shape first in the second session, so that its shape ids differ from the first's.
                    if session == 1 { _ = try other(one) }
                    _ = try model(ids)
                    _ = try model(ids)
                }
                let query = """
                    SELECT s.name, s.input_shapes, s.output_shapes, i.dtypes FROM spans s
                    JOIN shapes i ON i.text = s.input_shapes
                    WHERE s.kind = 'forward' AND s.name <> 'Linear' ORDER BY s.id
                    """
                traces.append(try rows(path, query))
            }
            let expected: [[SQLValue]] = [
                [.text("Lookup"), .text("[2,3]"), .text("[2,3,4]"), .text("int32")],
                [.text("table"), .text("[2,3]"), .text("[2,3,4]"), .text("int32")],
                [.text("head"), .text("[2,3,4]"), .text("[2,3,4]"), .text("float32")],
            ]
            #expect(traces[0] == expected + expected)
            #expect(traces[1] == expected + expected)
        }

        @Test func memoryDeltasOnAKnownAllocationPattern() throws {
            final class Allocates: Module<Tensor, Tensor> {
                override func forward(_ x: Tensor) throws -> Tensor {
                    let scratch = Tensor.zeros([1000])  // 4000 bytes, freed before the call returns
                    _ = scratch
                    return x + 1  // 4 * count bytes, kept
                }
            }
            let m = Allocates()
            let x = Tensor.ones([10])
            let path = try profile { _ in for _ in 0..<5 { _ = try m(x) } }
            // This thread's bytes are exact.
            let counts = try rows(path, "SELECT DISTINCT alloc_bytes, freed_bytes FROM spans WHERE name = 'Allocates'")
            #expect(counts == [[.int(4040), .int(4000)]])
            #expect(try rows(path, "SELECT count(*) FROM spans WHERE name = 'Allocates'") == [[.int(5)]])
            // Live and peak bytes are the process's, and other tests allocate and free concurrently, which
            // can hide the peak above the starting live bytes in one call; not in all five.
            let peakAbove = try rows(
                path,
                """
                SELECT max(peak_bytes - (live_bytes - alloc_bytes + freed_bytes)) FROM spans WHERE name = 'Allocates'
                """)
            if case .int(let most) = peakAbove.first?.first { #expect(most >= 4040) } else { Issue.record("no peak") }
        }

        @Test func backwardSpansAreAttributedToTheirModules() throws {
            let model = Outer()
            let path = try profile { p in
                for _ in 0..<2 {
                    let loss = try model(Tensor.ones([4, 3])).sum()
                    try loss.backward()
                    p.step()
                }
            }
            let backward = try rows(
                path,
                """
                SELECT s.name, COALESCE(p.name, ''), count(*) FROM spans s LEFT JOIN spans p ON p.id = s.parent_id
                WHERE s.kind = 'backward' GROUP BY 1, 2 ORDER BY 1
                """)
            #expect(
                backward == [
                    [.text("Outer"), .text("ProfilerStep#0"), .int(1)],
                    [.text("Outer"), .text("ProfilerStep#1"), .int(1)],
                    [.text("c"), .text("Outer"), .int(2)],
                    [.text("inner"), .text("Outer"), .int(2)],
                    [.text("inner.a"), .text("inner"), .int(2)],
                    [.text("inner.b"), .text("inner"), .int(2)],
                ])
            // Backward of c runs before backward of inner.
            let order = try texts(path, "SELECT name FROM spans WHERE kind = 'backward' AND step = 0 ORDER BY ts_ns")
            #expect(order == ["Outer", "c", "inner", "inner.b", "inner.a"])
        }

        @Test func backwardSpansMeetWhereTheModuleChanges() throws {
            let model = Outer()
            let path = try profile { p in
                let loss = try model(Tensor.ones([4, 3])).sum()
                try loss.backward()
                p.step()
            }
            // One clock read where backward moves from c to inner: c ends where inner begins.
            let cEnd = try rows(path, "SELECT ts_ns + dur_ns FROM spans WHERE kind = 'backward' AND name = 'c' AND step = 0")
            let innerStart = try rows(path, "SELECT ts_ns FROM spans WHERE kind = 'backward' AND name = 'inner' AND step = 0")
            #expect(cEnd.count == 1 && cEnd == innerStart)
            // inner.b opens inside inner in the same move but reads the clock again: no two spans
            // start together, so ordering by start is unambiguous.
            let ties = try rows(path, "SELECT count(*) - count(DISTINCT ts_ns) FROM spans WHERE step = 0")
            #expect(ties == [[.int(0)]])
            let nested = try rows(
                path,
                """
                SELECT count(*) FROM spans s JOIN spans p ON p.id = s.parent_id
                WHERE s.kind = 'backward' AND (s.ts_ns <= p.ts_ns AND p.kind = 'backward' OR s.ts_ns + s.dur_ns > p.ts_ns + p.dur_ns)
                """)
            #expect(nested == [[.int(0)]])
        }

        @Test func backwardThroughAContainerSwitchesFromLayerToLayer() throws {
            // Every autograd node of a Sequential's layers belongs to the next sibling: each
            // backward span ends where the next begins, all under the container's span.
            let model = Sequential([Linear(3, 3), ReLU(), Linear(3, 3), ReLU(), Linear(3, 2)])
            let path = try profile { p in
                try model(Tensor.ones([2, 3])).sum().backward()
                p.step()
            }
            let spans = try rows(
                path,
                """
                SELECT s.name, p.name, s.ts_ns, s.ts_ns + s.dur_ns FROM spans s JOIN spans p ON p.id = s.parent_id
                WHERE s.kind = 'backward' AND s.name <> 'Sequential' ORDER BY s.ts_ns
                """)
            #expect(spans.map { $0[0] } == ["4", "3", "2", "1", "0"].map { SQLValue.text($0) })
            #expect(spans.allSatisfy { $0[1] == .text("Sequential") })
            for (earlier, later) in zip(spans, spans.dropFirst()) { #expect(earlier[3] == later[2]) }
        }

        @Test func opSpansWithInputShapes() throws {
            let m = Linear(3, 2)
            var options = ProfilerOptions()
            options.ops = true
            let path = try profile(options) { _ in
                let loss = try m(Tensor.ones([4, 3])).sum()
                try loss.backward()
            }
            let ops = try rows(
                path,
                """
                SELECT s.name, s.input_shapes, p.kind, p.name FROM spans s JOIN spans p ON p.id = s.parent_id
                WHERE s.kind = 'op' ORDER BY s.id
                """)
            #expect(
                ops == [
                    [.text("linear"), .text("[4,3];[2,3];[2]"), .text("forward"), .text("Linear")],
                    [.text("sum"), .text("[4,2]"), .text("step"), .text("ProfilerStep#0")],
                    [.text("SumBackward"), .null, .text("step"), .text("ProfilerStep#0")],
                    [.text("LinearBackward"), .null, .text("backward"), .text("Linear")],
                ])
        }

        @Test func twoThreadsKeepTheirOwnNesting() throws {
            let models = [Outer(), Outer()]
            let path = try profile { p in
                let group = DispatchGroup()
                let threads = UncheckedBox(p.threads!)
                for model in models {
                    let box = UncheckedBox(model)
                    group.enter()
                    Thread.detachNewThread {
                        threads.value.enrollCurrentThread()
                        for _ in 0..<50 { _ = try? box.value(Tensor.ones([2, 3])) }
                        group.leave()
                    }
                }
                group.wait()
            }
            let perThread = try rows(
                path,
                """
                SELECT thread, count(*) FROM spans WHERE kind = 'forward' AND name = 'Outer' GROUP BY thread
                """)
            #expect(perThread.map { $0[1] } == [.int(50), .int(50)])
            let crossThreadParents = try rows(
                path, "SELECT count(*) FROM spans s JOIN spans p ON p.id = s.parent_id WHERE s.thread != p.thread")
            #expect(crossThreadParents == [[.int(0)]])
            let wrongDepth = try rows(
                path,
                """
                SELECT count(*) FROM spans s JOIN spans p ON p.id = s.parent_id WHERE s.depth != p.depth + 1
                """)
            #expect(wrongDepth == [[.int(0)]])
            let leaves = try rows(
                path,
                """
                SELECT count(*) FROM spans s JOIN spans p ON p.id = s.parent_id
                WHERE s.name = 'inner.a' AND p.name = 'inner'
                """)
            #expect(leaves == [[.int(100)]])
        }

        @Test func userRangesAndOptimizerSpans() throws {
            let m = Linear(3, 2)
            let sgd = SGD(parameters: m.parameters(), learningRate: 0.1)
            let path = try profile { _ in
                let x = Profiler.range("data") { Tensor.ones([4, 3]) }
                sgd.zeroGrad()
                try m(x).sum().backward()
                sgd.step()
            }
            let names = try texts(path, "SELECT kind || ':' || name FROM spans WHERE kind IN ('range', 'optimizer') ORDER BY id")
            #expect(names == ["range:data", "optimizer:Optimizer.zero_grad#SGD.zero_grad", "optimizer:Optimizer.step#SGD.step"])
        }
    }
}

/// Hands a non-Sendable value to another thread in a test that joins it.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

import Examples
import Foundation
import Modules
import Tensors
import Testing
import TraceStore
import TraceTools

@testable import Profiler

/// Findings of the latest run as `module <- caller: evidence xcount (detail)`.
func findings(_ path: String) throws -> [String] {
    try texts(
        path,
        """
        SELECT CASE m.path WHEN '' THEN m.type ELSE m.path END || ' <- ' ||
               COALESCE(CASE c.path WHEN '' THEN c.type ELSE c.path END, '<top level>') || ': ' ||
               b.evidence || ' x' || b.count || ' from step ' || b.first_step ||
               CASE b.detail WHEN '' THEN '' ELSE ' (' || b.detail || ')' END
        FROM bypasses b JOIN modules m ON m.run_id = b.run_id AND m.id = b.module_id
        LEFT JOIN modules c ON c.run_id = b.run_id AND c.id = b.caller_id
        WHERE b.run_id = (SELECT max(id) FROM runs) ORDER BY 1
        """)
}

final class BypassesLinear: Module<Tensor, Tensor> {
    let fc = Linear(3, 2)
    let act = ReLU()
    let spare = Linear(2, 2)
    override func forward(_ x: Tensor) throws -> Tensor { try act(fc.forward(x)) }
}

final class BypassesReLU: Module<Tensor, Tensor> {
    let fc = Linear(3, 2)
    let act = ReLU()
    override func forward(_ x: Tensor) throws -> Tensor { try act.forward(fc(x)) }
}

final class NestedBypass: Module<Tensor, Tensor> {
    final class Block: Module<Tensor, Tensor> {
        let a = Linear(3, 3)
        let b = Tanh()
        override func forward(_ x: Tensor) throws -> Tensor { try b.forward(a(x)) }
    }
    let block = Block()
    override func forward(_ x: Tensor) throws -> Tensor { try block(x) }
}

extension Tracing {
    @Suite("Bypass detection")
    struct BypassTests {
        @Test func parameterReadOutsideTheWrapper() throws {
            let model = BypassesLinear()
            model.fc.registerForwardHook { _, _, _ in nil }
            let path = try profile(watch: model) { p in
                for _ in 0..<3 {
                    _ = try model(Tensor.ones([2, 3]))
                    p.step()
                }
            }
            #expect(
                try findings(path) == [
                    "fc <- BypassesLinear: forward_without_wrapper x3 from step 0",
                    "fc <- BypassesLinear: never_ran x1 from step 0",
                    "spare <- BypassesLinear: never_ran x1 from step 0",
                ])
            let report = try Report(reader: TraceReader(path: path), run: nil)
            #expect(report.bypasses.first { $0.module == "fc" }?.hooksNotFired == "forward")
        }

        @Test func builtInForwardInsideAnotherWrapper() throws {
            let model = BypassesReLU()
            let path = try profile(watch: model) { _ in _ = try model(Tensor.ones([2, 3])) }
            #expect(
                try findings(path) == [
                    "act <- BypassesReLU: forward_without_wrapper x1 from step 0",
                    "act <- BypassesReLU: never_ran x1 from step 0",
                ])
        }

        @Test func nestedCallerPath() throws {
            let model = NestedBypass()
            let path = try profile(watch: model) { _ in _ = try model(Tensor.ones([1, 3])) }
            #expect(
                try findings(path) == [
                    "block.b <- block: forward_without_wrapper x1 from step 0",
                    "block.b <- block: never_ran x1 from step 0",
                ])
        }

        @Test func noFalsePositives() throws {
            final class Scaled: Linear {
                override func forward(_ x: Tensor) throws -> Tensor { try super.forward(x) * 2 }
            }
            final class Reuses: Module<Tensor, Tensor> {
                let shared = Linear(3, 3)
                let nested = Sequential(Sequential(Linear(3, 3), ReLU()), Scaled(3, 3))
                override func forward(_ x: Tensor) throws -> Tensor { try nested(shared(shared(x))) }
            }
            let model = Reuses()
            let gpt = GPT(vocabulary: 11, context: 8, dimension: 16, heads: 2, layers: 2)  // tied weights, ModuleList
            let ids = Tensor(indices: (0..<16).map { Int32($0 % 11) }, shape: [2, 8])
            let path = try profile(watch: model) { p in
                p.watch(gpt)
                for _ in 0..<2 {
                    _ = try model(Tensor.ones([2, 3]))
                    let loss = try Tensor.crossEntropy(gpt(ids).reshaped([-1, 11]), targets: ids.reshaped([-1]))
                    try loss.backward()
                    p.step()
                }
            }
            #expect(try findings(path) == [])
            let calls = try rows(path, "SELECT count(*) FROM spans WHERE name = 'shared' AND kind = 'forward'")
            #expect(calls == [[.int(4)]])
        }

        @Test func demoBypassInTrain() throws {
            let path = temporaryTrace("demo")
            let train = Process()
            train.executableURL = trainExecutable
            train.arguments = ["--demo-bypass", "--steps", "3", "--trace", path, "--log-format", "jsonl"]
            let out = Pipe()
            train.standardOutput = out
            train.standardError = FileHandle.nullDevice
            try train.run()
            train.waitUntilExit()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(text.contains("demo-bypass: the forward hook on fc3 fired 0 times in 3 steps"))
            #expect(
                try findings(path) == [
                    "fc3 <- MLP: forward_without_wrapper x7 from step 0 (at Sources/Examples/Models/MLP.swift:23)",
                    "fc3 <- MLP: never_ran x1 from step 0",
                ])
        }
    }
}

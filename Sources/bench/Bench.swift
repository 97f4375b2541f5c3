import ArgumentParser
import Foundation

@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the wrapper, the tracer, the store and the export against their targets.",
        discussion: "Run in release: swift run -c release bench. Medians of interleaved rounds; see BENCHMARKS.md.")

    @Option(help: "table or json.")
    var format: Format = .table
    @Option(help: "Rounds per measurement (more: steadier medians).")
    var rounds = 21
    @Flag(help: "Skip the 10-million-span report (it builds a 400 MB trace the first time).")
    var skip10m = false
    @Option(help: "Only these groups: wrapper, train, inmodel, store, matmul, ingest, html (comma-separated).")
    var only: String?

    @Flag(help: "Print how costs grow with model size and trace size (markdown tables for BENCHMARKS.md).")
    var scaling = false
    @Option(help: "Compare with PyTorch, using this Python (which must have torch), alternating rounds.")
    var pytorch: String?

    @Flag(help: "Data-parallel MLP step; run as: mpirun -n 2 .build/release/bench --ddp (rank 0 prints).")
    var ddp = false

    enum Format: String, ExpressibleByArgument { case table, json }

    func run() throws {
        if ddp {
            let results = try DDPBench.run(blocks: rounds * 2)
            if !results.isEmpty { print(render(results)) }
            return
        }
        if let pytorch {
            print(try PyTorchComparison.run(python: pytorch, rounds: 5))
            return
        }
        if scaling {
            note("model size...")
            print(try Scaling.modelSize())
            print()
            note("trace size...")
            print(try Scaling.traceSize(includeTenMillion: !skip10m))
            return
        }
        let groups = Set((only ?? "wrapper,train,store,matmul,html").split(separator: ",").map(String.init))
        var results: [Result] = []
        if groups.contains("wrapper") {
            note("wrapper and hot path...")
            results += try WrapperBench.run(rounds: rounds)
        }
        if groups.contains("train") {
            note("training step, traced and untraced...")
            let train = try TrainBench.run(blocks: rounds * 5)
            results += train
        }
        if groups.contains("train") || groups.contains("inmodel") {
            note("small-layer model, traced and untraced...")
            results += try Scaling.spanInModel(rounds: rounds * 10)
        }
        if groups.contains("store") || groups.contains("ingest") || groups.contains("export") {
            note("store: bytes per span, ingest, export...")
            if groups.contains("store") { results.append(try StoreBench.bytesPerSpan(steps: 2000)) }
            let (ingest, path) = try StoreBench.ingest(spans: 1_000_000)
            results.append(ingest)
            if groups.contains("store") || groups.contains("export") { results.append(try StoreBench.export(path)) }
            if !skip10m && groups.contains("store") {
                note("report on 10M spans...")
                results.append(try StoreBench.report10M())
            }
        }
        if groups.contains("html") {
            note("HTML report: bytes per span, render time in headless Chromium...")
            results += try HTMLBench.run(include10M: !skip10m)
        }
        if groups.contains("matmul") {
            note("matmul...")
            results += try MatmulBench.run(rounds: 5)
        }
        print(render(results))
    }

    func render(_ results: [Result]) -> String {
        switch format {
        case .json:
            // Keys measured once are numbers; keys measured per case (matmul) are objects by case.
            var keys: [String] = []
            var byKey: [String: [Result]] = [:]
            for r in results {
                if byKey[r.key] == nil { keys.append(r.key) }
                byKey[r.key, default: []].append(r)
            }
            func number(_ v: Double) -> String { v.isFinite ? String(v) : "null" }
            return "{"
                + keys.map { key in
                    let rs = byKey[key]!
                    let value =
                        rs.count == 1
                        ? number(rs[0].value)
                        : "{" + rs.map { "\"\($0.what)\":\(number($0.value))" }.joined(separator: ",") + "}"
                    return "\"\(key)\":\(value)"
                }.joined(separator: ",") + "}"
        case .table:
            var lines = ["key                     value      unit   target      pass  what"]
            for r in results {
                let pass = r.pass.map { $0 ? "yes" : "NO" } ?? ""
                lines.append(
                    r.key.padding(toLength: 22, withPad: " ", startingAt: 0) + "  "
                        + Result.format(r.value).leftPadded(9) + "  " + r.unit.padding(toLength: 5, withPad: " ", startingAt: 0)
                        + "  " + r.target.padding(toLength: 10, withPad: " ", startingAt: 0) + "  "
                        + pass.padding(toLength: 4, withPad: " ", startingAt: 0) + "  " + r.what + " [\(r.samples)]")
            }
            return lines.joined(separator: "\n")
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}

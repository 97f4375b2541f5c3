import Foundation

/// Runs `pytorch_compare.py` alternately with Tracewell's own measurements and prints ratios.
enum PyTorchComparison {
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("pytorch_compare.py").path
    }

    /// One round of the PyTorch workloads, or nil when PyTorch is not installed.
    static func pytorchRound(python: String) throws -> [String: Any]? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, script]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus == 3 { return nil }
        guard p.terminationStatus == 0,
            let line = String(decoding: data, as: UTF8.self).split(separator: "\n").first(where: { $0.hasPrefix("{") }),
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        else {
            throw BenchError("\(script) failed (status \(p.terminationStatus))")
        }
        return object
    }

    static func run(python: String, rounds: Int) throws -> String {
        var ours: [String: [Double]] = [:]
        var theirs: [String: [Double]] = [:]
        var version = "?"
        for round in 0..<rounds {
            note("round \(round + 1) of \(rounds): Tracewell...")
            for r in try WrapperBench.run(rounds: 7) + TrainBench.run(blocks: 20) { ours[r.key, default: []].append(r.value) }
            note("round \(round + 1) of \(rounds): PyTorch...")
            guard let t = try pytorchRound(python: python) else {
                return "PyTorch is not installed for \(python): nothing to compare (pip install torch)."
            }
            version = t["torch"] as? String ?? "?"
            for (k, v) in t { if let d = v as? Double { theirs[k, default: []].append(d) } }
        }
        let bytes = try StoreBench.chromeBytesPerEvent(steps: 10)
        func m(_ d: [String: [Double]], _ k: String) -> Double { Measure.median(d[k] ?? []) }
        let rows: [(String, Double, Double, String)] = [
            (
                "module call through the wrapper (ns above forward)", m(ours, "wrapper_ns"),
                m(theirs, "module_call_ns") - m(theirs, "module_forward_ns"), "ns"
            ),
            (
                "one no-op forward hook (ns above forward)", m(ours, "hook_ns"),
                m(theirs, "module_hook_ns") - m(theirs, "module_forward_ns"), "ns"
            ),
            (
                "pre-hook + forward hook pair (ns above forward)", m(ours, "hook_pair_ns"),
                m(theirs, "hook_pair_ns") - m(theirs, "module_forward_ns"), "ns"
            ),
            (
                "profiler with shapes + memory: per module call (ours) / per op (PyTorch)", m(ours, "span_full_ns"),
                m(theirs, "profiler_op_ns"), "ns"
            ),
            ("MLP 784-256-256-10 training step, untraced", m(ours, "train_step_ms"), m(theirs, "mlp_step_ms"), "ms"),
            ("that step under the profiler (shapes + memory)", m(ours, "train_overhead_pct"), m(theirs, "mlp_profiled_pct"), "%"),
            ("Chrome JSON bytes per event (10 MLP steps)", bytes, Measure.median(theirs["chrome_bytes_per_event"] ?? []), "B"),
        ]
        var lines = [
            "PyTorch \(version), one thread; medians of \(rounds) alternating rounds", "",
            "| workload | Tracewell | PyTorch | Tracewell / PyTorch |", "|---|---:|---:|---:|",
        ]
        for (what, a, b, unit) in rows {
            lines.append("| \(what) | \(Result.format(a)) \(unit) | \(Result.format(b)) \(unit) | \(String(format: "%.2f", a / b)) |")
        }
        return lines.joined(separator: "\n")
    }
}

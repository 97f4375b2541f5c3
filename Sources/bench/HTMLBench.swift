import Examples
import Foundation
import Profiler
import TraceStore
import TraceTools

/// The HTML report: compressed bytes per embedded span, the page's render time in headless
/// Chromium for a 1M-span trace, and the file size for 10M spans.
enum HTMLBench {
    static func run(include10M: Bool) throws -> [Result] {
        try FileManager.default.createDirectory(at: StoreBench.cache, withIntermediateDirectories: true)
        let path = StoreBench.cache.appendingPathComponent("synthetic-1m.sqlite").path
        if ((try? TraceReader(path: path).runs().first?.spanCount) ?? nil ?? 0) < 1_000_000 {
            try? FileManager.default.removeItem(atPath: path)
            note("  building a 1M-span trace in \(path) (once)...")
            try SyntheticTrace(steps: 1_000_000 / 19 + 1).write(to: path, name: "synthetic 1M")
        }
        var results: [Result] = []
        let reader = try TraceReader(path: path)
        let bare = try HTMLReport(traces: [(reader, nil)], options: .init(spanBudget: 0))
        var report: HTMLReport?
        let ns = try Measure.nanoseconds { report = try HTMLReport(traces: [(reader, nil)], options: .init()) }
        let full = report!
        let perSpan = Double(full.summary.compressedBytes - bare.summary.compressedBytes) / Double(max(full.summary.embeddedSpans, 1))
        results.append(
            .atMost(
                "html_bytes_per_span", "HTML report: compressed bytes per embedded raw span (\(full.summary.embeddedSpans) spans)",
                perSpan, "B", 8, samples: "1 report"))
        results.append(try realBytesPerSpan(steps: 2000))
        results.append(
            Result(
                "html_1m_file_mb", "HTML report of a 1M-span trace: file size (\(full.summary.embeddedSpans) spans embedded)",
                Double(full.summary.htmlBytes) / 1e6, "MB", samples: "1 report"))
        results.append(
            Result(
                "html_1m_write_s", "HTML report of a 1M-span trace: building it (aggregates, window, compression)",
                ns / 1e9, "s", samples: "1 run"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-report-1m-\(getpid()).html").path
        try full.write(to: file)
        defer { try? FileManager.default.removeItem(atPath: file) }
        if let chromium = ["/usr/bin/chromium", ProcessInfo.processInfo.environment["CHROMIUM"]].compactMap({ $0 })
            .first(where: FileManager.default.isExecutableFile)
        {
            var renders: [Double] = []
            var walls: [Double] = []
            for _ in 0..<3 {
                let (render, wall) = try load(chromium, file)
                renders.append(render)
                walls.append(wall)
            }
            results.append(
                .atMost(
                    "html_1m_render_s", "headless Chromium: page start to every panel drawn, 1M-span trace's report",
                    Measure.median(renders), "s", 2, samples: "median of 3 launches"))
            results.append(
                Result(
                    "html_1m_chromium_s", "headless Chromium: whole process (start, load, draw, dump DOM, exit)",
                    Measure.median(walls), "s", samples: "median of 3 launches"))
        } else {
            note("  chromium not found: html_1m_render_s skipped")
        }
        let big = StoreBench.cache.appendingPathComponent("synthetic-10m.sqlite").path
        if include10M {
            if ((try? TraceReader(path: big).runs().first?.spanCount) ?? nil ?? 0) < 10_000_000 {
                try? FileManager.default.removeItem(atPath: big)
                note("  building a 10M-span trace in \(big) (once)...")
                try SyntheticTrace(steps: 10_000_000 / 19 + 1).write(to: big, name: "synthetic 10M")
            }
            var report10: HTMLReport?
            let ns10 = try Measure.nanoseconds { report10 = try HTMLReport(traces: [(TraceReader(path: big), nil)]) }
            results.append(
                Result(
                    "html_10m_file_mb", "HTML report of a 10M-span trace: file size", Double(report10!.summary.htmlBytes) / 1e6,
                    "MB", samples: "1 report"))
            results.append(Result("html_10m_write_s", "HTML report of a 10M-span trace: building it", ns10 / 1e9, "s", samples: "1 run"))
        }
        return results
    }

    /// Bytes per embedded span on a real traced MLP run (its timings are noisy, unlike the synthetic trace's).
    static func realBytesPerSpan(steps: Int) throws -> Result {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-html-\(getpid()).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try StoreBench.traceMLP(steps: steps, to: path)
        let reader = try TraceReader(path: path)
        let bare = try HTMLReport(traces: [(reader, nil)], options: .init(spanBudget: 0))
        let full = try HTMLReport(traces: [(reader, nil)], options: .init())
        let perSpan = Double(full.summary.compressedBytes - bare.summary.compressedBytes) / Double(max(full.summary.embeddedSpans, 1))
        return .atMost(
            "html_real_span_bytes", "the same on a real traced MLP run (\(full.summary.embeddedSpans) spans embedded)",
            perSpan, "B", 8, samples: "1 report")
    }

    /// Loads `file` in headless Chromium: the page's own render time (it stamps `data-render-ms`
    /// on <html> when the last panel is drawn) and the wall time of the whole process.
    static func load(_ chromium: String, _ file: String) throws -> (render: Double, wall: Double) {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--user-data-dir=\(profile.path)", "--virtual-time-budget=60000", "--window-size=1300,900",
            "--dump-dom", URL(fileURLWithPath: file).absoluteString,
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        var dom = Data()
        let ns = try Measure.nanoseconds {
            try process.run()
            let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
            DispatchQueue.global().asyncAfter(deadline: .now() + 120, execute: timer)
            dom = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            timer.cancel()
        }
        let text = String(decoding: dom, as: UTF8.self)
        guard text.contains("data-state=\"ready\""), let r = text.range(of: "data-render-ms=\""),
            let end = text[r.upperBound...].firstIndex(of: "\""), let ms = Double(text[r.upperBound..<end])
        else {
            throw BenchError("the report did not render in chromium")
        }
        return (ms / 1e3, ns / 1e9)
    }
}

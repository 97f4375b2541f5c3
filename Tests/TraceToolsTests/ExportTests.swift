import Foundation
import Testing
import TraceStore
import TraceTools

/// `../shared/tools/perfetto-check`, or `PERFETTO_CHECK`, when present on this machine.
let perfettoCheck: String? = {
    if let path = ProcessInfo.processInfo.environment["PERFETTO_CHECK"] { return path }
    let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let candidate = repo.deletingLastPathComponent().appendingPathComponent("shared/tools/perfetto-check").path
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
}()

func loadEvents(_ path: String) throws -> (top: [String: Any], events: [[String: Any]]) {
    let top = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    return (top, try #require(top["traceEvents"] as? [[String: Any]]))
}

@Suite("Chrome trace export")
struct ExportTests {
    @Test func structure() throws {
        let path = try fixture()
        let output = temporaryPath("run1.json")
        let out = try run(["export", "chrome", path, "--run", "1", "-o", output])
        #expect(out.status == 0)
        #expect(out.stderr.hasPrefix("wrote \(output): "))
        let (top, events) = try loadEvents(output)
        #expect(top["baseTimeNanoseconds"] as? Int == 1_800_000_000_000_000_000)
        #expect(top["displayTimeUnit"] as? String == "ms")
        let spans = events.filter { $0["ph"] as? String == "X" }
        #expect(spans.count == 95)
        #expect(spans.filter { $0["cat"] as? String == "forward" }.count == 35)
        #expect(spans.filter { ($0["name"] as? String)?.hasPrefix("ProfilerStep#") == true }.count == 5)
        let fc1 = try #require(spans.first { $0["name"] as? String == "nn.Module: fc1" })
        let args = try #require(fc1["args"] as? [String: Any])
        #expect(args["Input Dims"] as? [[Int]] == [[64, 784]])
        #expect(args["Module Type"] as? String == "Linear")
        #expect(events.contains { $0["ph"] as? String == "M" && $0["name"] as? String == "thread_name" })
        #expect(events.contains { $0["ph"] as? String == "M" && $0["name"] as? String == "process_name" })
        #expect(events.filter { $0["ph"] as? String == "C" && $0["name"] as? String == "Memory" }.count > 50)
        // Forward-to-backward arrows: one per backward span, as s/f pairs with matching ids.
        let starts = events.filter { $0["ph"] as? String == "s" }
        let finishes = events.filter { $0["ph"] as? String == "f" }
        #expect(starts.count == 35 && finishes.count == 35)
        #expect(Set(starts.compactMap { $0["id"] as? Int }) == Set(finishes.compactMap { $0["id"] as? Int }))
        #expect(finishes.allSatisfy { $0["bp"] as? String == "e" })

        // X events nest strictly per thread: sorted by start (longer first on ties), each lies inside the open one.
        let byThread = Dictionary(grouping: spans) { $0["tid"] as! Int }
        for (_, list) in byThread {
            // In integer nanoseconds, as Perfetto reads them.
            func ns(_ v: Any?) -> Int64 { Int64((((v as? Double) ?? 0) * 1000).rounded()) }
            let sorted = list.map { (ts: ns($0["ts"]), end: ns($0["ts"]) + ns($0["dur"])) }
                .sorted { ($0.ts, -$0.end) < ($1.ts, -$1.end) }
            var open: [Int64] = []
            for span in sorted {
                while let last = open.last, last <= span.ts { open.removeLast() }
                if let last = open.last { #expect(span.end <= last, "partial overlap at \(span.ts)") }
                open.append(span.end)
            }
        }
        // Microseconds with nanosecond decimals, as text.
        let raw = try String(contentsOfFile: output, encoding: .utf8)
        #expect(raw.contains("\"ts\":1.000,"))
    }

    @Test func gzipAndStepFilter() throws {
        let path = try fixture()
        let plain = temporaryPath("steps.json")
        let zipped = temporaryPath("steps.json.gz")
        #expect(try run(["export", "chrome", path, "--run", "1", "--steps", "1..2", "-o", plain]).status == 0)
        #expect(try run(["export", "chrome", path, "--run", "1", "--steps", "1..2", "-o", zipped]).status == 0)
        let magic = try Data(contentsOf: URL(fileURLWithPath: zipped)).prefix(2)
        #expect(magic == Data([0x1f, 0x8b]))
        let unzip = Process()
        unzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        unzip.arguments = ["-dc", zipped]
        let pipe = Pipe()
        unzip.standardOutput = pipe
        try unzip.run()
        let text = pipe.fileHandleForReading.readDataToEndOfFile()
        unzip.waitUntilExit()
        #expect(text == (try Data(contentsOf: URL(fileURLWithPath: plain))))
        let (_, events) = try loadEvents(plain)
        let steps = Set(events.compactMap { ($0["args"] as? [String: Any])?["Step"] as? Int })
        #expect(steps == [1, 2])
        #expect(events.filter { $0["ph"] as? String == "X" }.count == 38)
    }

    @Test(.enabled(if: perfettoCheck != nil, "needs ../shared/tools/perfetto-check (node and python3)"))
    func perfettoImportsEverySpan() throws {
        let path = try fixture()
        let output = temporaryPath("perfetto.json.gz")
        #expect(try run(["export", "chrome", path, "-o", output]).status == 0)
        let check = Process()
        check.executableURL = URL(fileURLWithPath: perfettoCheck!)
        check.arguments = [output, "--json"]
        let pipe = Pipe()
        check.standardOutput = pipe
        check.standardError = FileHandle.nullDevice
        try check.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        check.waitUntilExit()
        #expect(check.terminationStatus == 0)
        let result = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let slices = try #require((result["slices"] as? [[String: Any]])?.first)
        #expect(slices["n"] as? Int == 92, "every span of run 2 is a slice")
        #expect(slices["max_depth"] as? Int == 3)
        #expect((result["flows"] as? [[String: Any]])?.first?["n"] as? Int == 4 * 9)
        #expect((result["import_problems"] as? [Any])?.isEmpty == true)
        let counters = try #require(result["counter_tracks"] as? [[String: Any]])
        #expect(counters.contains { $0["name"] as? String == "Memory live bytes" })
    }
}

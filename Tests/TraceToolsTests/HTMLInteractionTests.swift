import Foundation
import Testing
import TraceEvents
import TraceRuntime
import TraceStore

@testable import TraceTools

/// Raises the peak of fc2's forward (module 4) in `step`, and of the spans around it (as the
/// runtime records it) unless `ancestors` is false, to `bytes`.
func plantPeak(_ batch: inout [SpanRecord], step: Int, bytes: Int64, ancestors: Bool = true) {
    let forward = SpanKind.forward.rawValue
    guard let i = batch.firstIndex(where: { Int($0.step) == step && $0.kind == forward && $0.subject == 4 }) else { return }
    batch[i].peak = bytes
    var parent = ancestors ? batch[i].parent : 0
    while parent != 0, let j = batch.firstIndex(where: { $0.id == parent }) {
        batch[j].peak = max(batch[j].peak, bytes)
        parent = batch[j].parent
    }
}

/// The JSON the test script `Browser/interactions.js` leaves in `<pre id="tw-selftest">`.
func selfTestResult(_ dom: String) throws -> [String: Any] {
    let text = try #require(dom.element(id: "tw-selftest", close: "</pre>")).dropFirst()
    let json = text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
        .replacingOccurrences(of: "&amp;", with: "&")
    return try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
}

@Suite("HTML report: the whole run's memory and clicks in the browser", .serialized)
struct HTMLInteractionTests {
    static let planted: Int64 = 48_000_000

    /// 40 steps of the known trace with fc2's forward in step 3 peaking at `planted` bytes (and,
    /// unless `ancestors` is false, the spans around it).
    func peakTrace(ancestors: Bool = true) throws -> String {
        let path = temporaryPath("peak.sqlite")
        try writeKnownTrace(path, steps: 40, edit: { plantPeak(&$0, step: 3, bytes: Self.planted, ancestors: ancestors) })
        return path
    }

    @Test("the whole-run memory series comes from the step spans, is bounded and keeps the run's peak exactly")
    func memorySeries() throws {
        let reader = try TraceReader(path: try peakTrace())
        let model = try Report(reader: reader, run: nil).model
        var lowest = Int64.max
        try SpanScan.forEach(reader, model) { row in
            if model.signatures[row.sig]?.kind == .step { lowest = min(lowest, row.live!) }
        }
        let series = try MemorySeries(reader: reader, model: model, steps: nil, buckets: 16)
        #expect(series.source == "steps" && series.count == 40)
        #expect(series.points.count == 14)
        #expect(series.points.map(\.high).max() == Self.planted)
        #expect(series.points.map(\.low).min() == lowest)
        #expect(zip(series.points, series.points.dropFirst()).allSatisfy { $0.ts < $1.ts })
        let peak = try #require(series.peak)
        #expect(peak.bytes == Self.planted && peak.step == 3)
        #expect(model.signatures[peak.sig]?.name == "fc2" && model.signatures[peak.moduleSig!]?.name == "fc2")
        let json = series.json(model)
        #expect(json.hasPrefix("{\"source\":\"steps\",\"count\":40,\"points\":14,\"peak\":{\"bytes\":48000000,"))
        #expect(json.contains("\"module\":\"fc2\",\"phase\":\"forward\""))
        // One point per step when they are few; --steps leaves the peak's step out.
        #expect(try MemorySeries(reader: reader, model: model, steps: nil).points.count == 40)
        let later = try MemorySeries(reader: reader, model: model, steps: 10...39)
        #expect(later.count == 30 && later.peak!.bytes < Self.planted && later.peak!.step >= 10)
    }

    @Test("a peak no step span holds is found by reading every span, exactly")
    func memorySeriesOutsideStepSpans() throws {
        let reader = try TraceReader(path: try peakTrace(ancestors: false))
        let model = try Report(reader: reader, run: nil).model
        let series = try MemorySeries(reader: reader, model: model, steps: nil, buckets: 16)
        #expect(series.source == "spans" && series.count == 40 * 19)
        #expect(series.points.count == 16 && series.points.map(\.high).max() == Self.planted)
        let peak = try #require(series.peak)
        #expect(peak.bytes == Self.planted && peak.step == 3 && model.signatures[peak.sig]?.name == "fc2")
    }

    @Test(
        "the memory timeline covers the whole run: a peak outside the embedded window is drawn and named",
        .enabled(if: Chromium.path != nil, Comment(rawValue: noChromium)))
    func peakOutsideTheWindow() throws {
        let (file, report) = try writeReport([(try peakTrace(), nil)], options: .init(window: 30...39))
        #expect(report.summary.embeddedSpans == 10 * 19)
        let page = try Chromium.load(file)
        expectCleanPage(page)
        let chart = try #require(page.dom.element(id: "tw-memory-chart", close: "</svg>"))
        #expect(chart.contains("class=\"window\""))
        let label = try #require(page.dom.element(id: "tw-peak-label", close: "</text>"))
        #expect(label.hasSuffix(">peak 45.78 MB in fc2 (forward), step 3"), "\(label)")
        #expect(page.dom.contains("id=\"tw-peak\" data-bytes=\"48000000\" data-step=\"3\""))
        // The window's own chart and peak, lower and inside it.
        let window = try #require(page.dom.element(id: "tw-window-peak-label", close: "</text>"))
        #expect(window.contains(">peak ") && !window.contains("45.78 MB") && window.contains(", step 3") && !window.hasSuffix(", step 3"))
        #expect(page.dom.contains("The peak, 45.78 MB, came while fc2 (forward) ran in step 3."))
    }

    @Test(
        "clicks in headless Chromium: flame graph zoom and back, table sort, a step's spans",
        .enabled(if: Chromium.path != nil, Comment(rawValue: noChromium)))
    func clicks() throws {
        let path = temporaryPath("clicks.sqlite")
        try writeKnownTrace(path)
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Browser/interactions.js")
        let script = try String(contentsOf: source, encoding: .utf8).replacingOccurrences(of: "/*STEPS*/", with: "5, 9, 4")
        let (file, _) = try writeReport([(path, nil)], options: .init(window: 4...7, testScript: script))
        let page = try Chromium.load(file)
        expectCleanPage(page)
        #expect(page.dom.contains("data-selftest=\"done\""))
        let result = try selfTestResult(page.dom)
        #expect(result["error"] == nil, "\(result["error"] ?? "")")

        // Flame graph: fc1 fills the pane when clicked, its top frame zooms out to MLP, the root back to the start.
        let flame = try #require(result["flame"] as? [[String: Any]])
        try #require(flame.count == 4)
        func frames(_ i: Int) -> [(String, Double)] {
            ((flame[i]["frames"] as? [[Any]]) ?? []).map { ($0[0] as? String ?? "", ($0[1] as? NSNumber)?.doubleValue ?? -1) }
        }
        let full = try #require(frames(0).first { $0.0 == "all modules" }?.1)
        let fc1 = try #require(frames(0).first { $0.0 == "fc1" }?.1)
        #expect(fc1 < full)
        #expect(flame[0]["caption"] as? String == "click a frame to zoom")
        #expect(frames(1).map(\.0) == ["all modules", "MLP", "fc1"] && frames(1).allSatisfy { $0.1 == full })
        #expect(flame[1]["caption"] as? String == "zoomed on fc1: click the top frame to zoom out")
        #expect(frames(2).map(\.0) == ["all modules", "MLP", "fc1", "act1", "fc2", "act2", "fc3"])
        #expect(frames(2)[1].1 == full && frames(2)[2].1 > fc1)
        #expect(flame[2]["caption"] as? String == "zoomed on MLP: click the top frame to zoom out")
        #expect(frames(3).map(\.0) == frames(0).map(\.0) && frames(3).map(\.1) == frames(0).map(\.1))
        #expect(flame[3]["caption"] as? String == "click a frame to zoom")

        // Module table: by forward total, descending then ascending; by name; back to the tree.
        let report = try Report(reader: TraceReader(path: path), run: nil)
        let ran = report.modules.filter { $0.forward.calls > 0 || $0.backward.calls > 0 }
        let tree = ran.map(\.module.displayName)
        let byTotal = ran.indices.sorted { (-ran[$0].forward.total, $0) < (-ran[$1].forward.total, $1) }.map { tree[$0] }
        let byTotalUp = ran.indices.sorted { (ran[$0].forward.total, $0) < (ran[$1].forward.total, $1) }.map { tree[$0] }
        #expect(tree == ["MLP", "fc1", "act1", "fc2", "act2", "fc3", "CrossEntropyLoss"])
        #expect(byTotal.first == "MLP" && byTotal != tree)
        let table = try #require(result["table"] as? [[String]])
        #expect(table == [tree, byTotal, byTotalUp, tree.sorted(), tree])

        // Steps: the slowest embedded step first; a click shows the clicked step's own spans.
        let model = report.model
        let slowest = (4...7).max { model.steps[Int64($0)]!.dur! < model.steps[Int64($1)]!.dur! }!
        func durations(_ step: Int64) throws -> [Double] {
            var out: [Double] = []
            try SpanScan.forEach(TraceReader(path: path), model, steps: step...step) { out.append(Double($0.dur)) }
            return out.sorted()
        }
        let steps = try #require(result["steps"] as? [[String: Any]])
        try #require(steps.count == 4)
        #expect(steps.map { ($0["step"] as? NSNumber)?.intValue } == [slowest, 5, 9, 4])
        for (i, step) in [(0, Int64(slowest)), (1, 5), (3, 4)] {
            let names = steps[i]["names"] as? [String] ?? []
            #expect(names.count == 19 && names.contains("ProfilerStep#\(step)") && names.contains("fc2"))
            let shown = (steps[i]["durations"] as? [NSNumber] ?? []).map(\.doubleValue).sorted()
            #expect(try shown == durations(step), "step \(step)")
            #expect((steps[i]["title"] as? String)?.hasPrefix("Step \(step): ") == true)
        }
        #expect(try durations(5) != durations(4))
        #expect((steps[2]["names"] as? [String])?.isEmpty == true)
        #expect(
            (steps[2]["note"] as? String)?.contains("Its spans are not embedded; write the report with --window 9 to see them.") == true)
    }
}

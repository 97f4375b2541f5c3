import Foundation
import Testing
import TraceEvents
import TraceRuntime
import TraceStore

@testable import TraceTools

/// Writes `steps` steps of the synthetic MLP as one run, with module paths `paths` (ids 1...8:
/// the model, fc1, act1, fc2, act2, fc3, an unused Dropout, the loss) and a bypass of fc3;
/// `edit` may change each batch of span records before it is written.
func writeKnownTrace(
    _ path: String, steps: Int = 12, name: String = "known", paths: [String]? = nil, rank: Int = 0,
    worldSize: Int = 1, seed: UInt64 = 1, bypasses: [BypassFinding]? = nil, edit: (inout [SpanRecord]) -> Void = { _ in }
) throws {
    var synthetic = SyntheticTrace(steps: steps)
    synthetic.seed = seed
    let writer = try TraceWriter(
        path: path,
        run: RunDescription(
            name: name, options: "{\"memory\":true}", startWallNanoseconds: 1_800_000_000_000_000_000, rank: rank, worldSize: worldSize,
            command: "test", host: "fixture", pid: 4242), names: synthetic.names)
    try synthetic.generate { batch in
        var batch = batch
        edit(&batch)
        try batch.withUnsafeBufferPointer { try writer.write($0, dropped: 0) }
    }
    let names = paths ?? ["", "fc1", "act1", "fc2", "act2", "fc3", "unused", ""]
    let types = ["MLP", "Linear", "ReLU", "Linear", "ReLU", "Linear", "Dropout", "CrossEntropyLoss"]
    var modules: [ModuleInfo] = []
    for id in 1...8 {
        let parent: UInt32 = id == 1 || id == 8 ? 0 : 1
        modules.append(
            ModuleInfo(
                id: UInt32(id), path: names[id - 1], type: types[id - 1], parent: parent,
                directParameters: 0, totalParameters: 0, hooks: 0, isBuiltIn: id != 1))
    }
    let bypasses =
        bypasses ?? [
            BypassFinding(module: 6, caller: 1, evidence: .foreignForward, count: steps, firstStep: 0, detail: ""),
            BypassFinding(module: 7, caller: 1, evidence: .neverRan, count: 1, firstStep: 0, detail: ""),
        ]
    try writer.finish(
        modules: modules, bypasses: bypasses, threads: [(0, 4242)],
        endWallNanoseconds: 1_800_000_000_000_000_000 + UInt64(steps) * 1_500_000, dropped: 0)
}

/// Writes the report of `traces` next to the first and returns its path.
func writeReport(_ traces: [(String, Int64?)], options: HTMLReport.Options = .init()) throws -> (String, HTMLReport) {
    let report = try HTMLReport(traces: traces.map { (try TraceReader(path: $0.0), $0.1) }, options: options)
    let out = URL(fileURLWithPath: traces[0].0).deletingLastPathComponent().appendingPathComponent("report.html").path
    try report.write(to: out)
    return (out, report)
}

/// What every rendered report must show: drawn, no script error, no CSP violation, no request.
func expectCleanPage(_ page: Chromium.Page, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(page.dom.contains("data-state=\"ready\""), "the page did not finish drawing", sourceLocation: sourceLocation)
    #expect(!page.dom.contains("data-errors="), "script errors", sourceLocation: sourceLocation)
    #expect(!page.dom.contains("data-csp-violations="), "CSP violations", sourceLocation: sourceLocation)
    #expect(page.console.isEmpty, "console: \(page.console)", sourceLocation: sourceLocation)
    #expect(page.requests.isEmpty, "network requests: \(page.requests)", sourceLocation: sourceLocation)
}

let noChromium = "chromium is not installed (apt-get install chromium; .ci/run installs it)"

@Suite("HTML report", .serialized)
struct HTMLReportTests {
    @Test("every panel is drawn with the known trace's rows and labels", .enabled(if: Chromium.path != nil, Comment(rawValue: noChromium)))
    func knownTrace() throws {
        let path = temporaryPath("known.sqlite")
        try writeKnownTrace(path)
        let (file, report) = try writeReport([(path, nil)])
        #expect(report.summary.embeddedSpans == 12 * 19)
        let page = try Chromium.load(file)
        expectCleanPage(page)
        let dom = page.dom
        for panel in ["findings", "flame", "modules", "steps", "memory", "graph", "ranks"] {
            #expect(dom.contains("data-panel=\"\(panel)\""), "panel \(panel)")
        }
        #expect(!dom.contains("data-panel=\"diff\""))
        // Findings, in words.
        let findings = try #require(dom.element(id: "findings", close: "</section>"))
        #expect(
            findings.contains(
                "<code>fc3.forward(x)</code> was called directly from <code>MLP</code>: no hook of its ran (none was registered) on 12 calls."
            ))
        #expect(findings.contains("<code>unused</code> (Dropout) is registered but never ran."))
        #expect(findings.contains("Write <code>fc3(x)</code> instead of <code>fc3.forward(x)</code>."))
        #expect(findings.contains("No events were dropped."))
        #expect(findings.occurrences(of: "data-severity=\"problem\"") == 1)
        // Module table: the seven modules that ran, in tree order, with report's columns.
        let table = try #require(dom.element(id: "tw-modules", close: "</table>"))
        #expect(table.occurrences(of: "<tr>") == 8)
        for header in [
            "Module", "Type", "Calls", "Fwd total", "Fwd self", "Bwd total", "Bwd self", "Mean", "p50", "p95", "Step %", "Alloc/call",
            "Peak", "Input shapes", "Mode",
        ] {
            #expect(table.contains(">\(header)</th>"), "column \(header)")
        }
        #expect(table.contains("<td>&nbsp;&nbsp;fc1</td><td>Linear</td><td class=\"num\">12</td>"))
        #expect(table.contains("<td>CrossEntropyLoss</td><td>CrossEntropyLoss</td><td class=\"num\">12</td>"))
        #expect(table.contains("<td>[64,784]</td><td>train</td>"))
        #expect(!table.contains(">unused<"))
        // Flame graphs: forward and backward of the module tree, never-ran modules left out.
        let forward = try #require(
            dom.components(separatedBy: "data-phase=\"fwd\"").dropFirst().first?.components(separatedBy: "data-phase=\"bwd\"").first)
        for module in ["all modules", "MLP", "fc1", "act1", "fc2", "act2", "fc3", "CrossEntropyLoss"] {
            #expect(forward.contains("data-module=\"\(module)\""), "forward frame \(module)")
        }
        #expect(!dom.contains("data-module=\"unused\""))
        #expect(dom.contains("Backward by time: "))
        // Steps: one bar per step, the slowest step's 19 spans drawn below.
        let steps = try #require(dom.element(id: "tw-step-chart", close: "</svg>"))
        #expect(steps.occurrences(of: "class=\"bar\"") == 12)
        let spans = try #require(dom.element(id: "tw-step-spans", close: "</svg>"))
        #expect(spans.occurrences(of: "class=\"span\"") == 19)
        #expect(spans.contains("data-name=\"ProfilerStep#"))
        // Memory: the peak is annotated with a module and phase.
        let label = try #require(dom.element(id: "tw-peak-label", close: "</text>"))
        #expect(label.contains(">peak ") && label.contains(" in ") && label.contains(", step "))
        #expect(dom.contains("Bytes allocated per module"))
        #expect(dom.contains("No static graph in this run"))
        #expect(dom.contains("One rank: the rank × step heatmap needs one trace per rank"))
    }

    @Test("hostile names are shown as text and never run", .enabled(if: Chromium.path != nil, Comment(rawValue: noChromium)))
    func hostileNames() throws {
        let script = "</script><script>document.documentElement.setAttribute('data-pwned','1')</script>"
        let image = "\"q'uote<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','2')\">"
        let control = "ctl\u{1}\u{7}\u{1b}[31mred"
        let path = temporaryPath("hostile.sqlite")
        try writeKnownTrace(path, name: "<b>run</b>" + script, paths: ["", script, image, control, "act2", "fc3", "unused", ""])
        let (file, _) = try writeReport([(path, nil)])
        let html = try String(contentsOfFile: file, encoding: .utf8)
        #expect(html.occurrences(of: "<script") == 2 && !html.contains("data-pwned="))
        let page = try Chromium.load(file)
        expectCleanPage(page)
        #expect(!page.dom.contains("data-pwned="))
        #expect(!page.dom.contains("<img"))
        #expect(page.dom.occurrences(of: "<script") == 2)
        let table = try #require(page.dom.element(id: "tw-modules", close: "</table>"))
        #expect(
            table.contains(
                "<td>&nbsp;&nbsp;&lt;/script&gt;&lt;script&gt;document.documentElement.setAttribute('data-pwned','1')&lt;/script&gt;</td>"))
        #expect(
            table.contains(
                "<td>&nbsp;&nbsp;\"q'uote&lt;img src=x onerror=\"document.documentElement.setAttribute('data-pwned','2')\"&gt;</td>"))
        #expect(table.contains("<td>&nbsp;&nbsp;ctl\u{1}\u{7}\u{1b}[31mred</td>"))
        #expect(page.dom.contains("<b>&lt;b&gt;run&lt;/b&gt;&lt;/script&gt;"))
    }

    @Test(
        "a real traced run with --demo-bypass: the bypass in words and in the graph",
        .enabled(if: Chromium.path != nil, Comment(rawValue: noChromium)))
    func demoBypass() throws {
        let train = tracectl.deletingLastPathComponent().appendingPathComponent("train")
        let path = temporaryPath("mlp.sqlite")
        let file = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("mlp.html").path
        let process = Process()
        process.executableURL = train
        process.arguments = ["--steps", "20", "--demo-bypass", "--trace", path, "--log-format", "jsonl", "--html", file]
        process.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        process.standardError = err
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        #expect(stderr.contains("\nreport: \(file) (one offline HTML file; open it in a browser)\n"))
        let page = try Chromium.load(file)
        expectCleanPage(page)
        let findings = try #require(page.dom.element(id: "findings", close: "</section>"))
        #expect(
            findings.contains(
                "<code>fc3.forward(x)</code> was called directly from <code>MLP</code>: its forward hook never fired on 24 calls."))
        let graph = try #require(page.dom.element(id: "tw-graph-modules", close: "</svg>"))
        #expect(graph.contains("data-module=\"fc3\" data-kind=\"bypass\""))
        #expect(graph.contains("bypass: forward called directly from MLP"))
        #expect(graph.occurrences(of: "data-kind=\"called\"") == 6)
    }

    @Test(
        "a crashed run's findings say where it died and what the other thread was doing",
        .enabled(if: Chromium.path != nil, Comment(rawValue: noChromium)))
    func crashedRun() throws {
        let train = tracectl.deletingLastPathComponent().appendingPathComponent("train")
        let path = temporaryPath("crash.sqlite")
        let process = Process()
        process.executableURL = train
        process.arguments = ["--demo-crash", "segv", "--trace", path]
        process.environment = ProcessInfo.processInfo.environment.merging(["SWIFT_BACKTRACE": "enable=no"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGSEGV)
        let file = path + ".html"
        let html = try run(["html", path, "-o", file])
        #expect(html.status == 0, "\(html.stderr)")
        let page = try Chromium.load(file)
        expectCleanPage(page)
        let findings = try #require(page.dom.element(id: "findings", close: "</section>"))
        #expect(
            findings.contains(
                "The program crashed in <code>blocks.1.attn</code> (FaultyAttention), forward, input [8,16,32], step 3: SIGSEGV"))
        #expect(findings.contains("At that moment thread 1 was in range <code>prefetch</code> → <code>Prefetcher</code>."))
        #expect(page.dom.contains("run <b>1 (crashed)</b>"))
    }

    @Test("a killed run's report draws, and says the run is incomplete", .enabled(if: Chromium.path != nil, Comment(rawValue: noChromium)))
    func killedRun() throws {
        let path = temporaryPath("killed.sqlite")
        let synthetic = SyntheticTrace(steps: 3)
        do {
            let writer = try synthetic.open(path)
            try synthetic.generate { batch in try batch.withUnsafeBufferPointer { try writer.write($0, dropped: 0) } }
        }
        let (file, _) = try writeReport([(path, nil)])
        let page = try Chromium.load(file)
        expectCleanPage(page)
        let findings = try #require(page.dom.element(id: "findings", close: "</section>"))
        #expect(findings.contains("Run 1 is incomplete: its process was killed or is still running."))
        #expect(page.dom.contains("run <b>1 (incomplete)</b>"))
    }

    @Test("rank files give the rank × step heatmap", .enabled(if: Chromium.path != nil, Comment(rawValue: noChromium)))
    func ranks() throws {
        let a = temporaryPath("rank0.sqlite")
        let b = URL(fileURLWithPath: a).deletingLastPathComponent().appendingPathComponent("rank1.sqlite").path
        try writeKnownTrace(a, rank: 0, worldSize: 2, seed: 1)
        try writeKnownTrace(b, rank: 1, worldSize: 2, seed: 7)
        let (file, _) = try writeReport([(a, nil), (b, nil)])
        let page = try Chromium.load(file)
        expectCleanPage(page)
        let heatmap = try #require(page.dom.element(id: "tw-heatmap", close: "</svg>"))
        #expect(heatmap.occurrences(of: "<rect") == 24)
        #expect(heatmap.contains(">rank 0</text>") && heatmap.contains(">rank 1</text>"))
        #expect(page.dom.contains("Load balance (mean ÷ max step time over ranks, averaged over steps): 0."))
        #expect(page.dom.contains("id=\"tw-run-select\""))
        #expect(!page.dom.contains("data-panel=\"diff\""))
    }

    @Test("two runs give the diff: deltas, new modules", .enabled(if: Chromium.path != nil, Comment(rawValue: noChromium)))
    func diff() throws {
        let path = try fixture()
        let (file, _) = try writeReport([(path, 1), (path, 2)])
        let page = try Chromium.load(file)
        expectCleanPage(page)
        let table = try #require(page.dom.element(id: "tw-diff", close: "</table>"))
        #expect(table.occurrences(of: "<tr>") == 8)
        #expect(table.contains(">Base time/step</th>") && table.contains(">New time/step</th>"))
        let section = try #require(page.dom.element(id: "diff", close: "</section>"))
        #expect(
            section.contains("<b>New modules: </b>act3 (ReLU), fc4 (Linear)")
                || section.contains("<b>New modules: </b>fc4 (Linear), act3 (ReLU)"))
        #expect(!section.contains("Missing modules"))
    }

    @Test(
        "the request check sees a page that does reach for the network", .enabled(if: Chromium.path != nil, Comment(rawValue: noChromium)))
    func requestCheckCanFail() throws {
        let file = temporaryPath("leaky.html")
        try "<!DOCTYPE html><img src=\"http://127.0.0.1:9/leak.png\"><script>console.error('leaky page')</script>"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let page = try Chromium.load(file)
        #expect(page.requests == ["http://127.0.0.1:9/leak.png"])
        #expect(page.console.contains { $0.contains("leaky page") })
    }

    @Test("the embedded span window is bounded, ≤ 8 bytes per span after compression")
    func sizeBudget() throws {
        let path = temporaryPath("big.sqlite")
        try SyntheticTrace(steps: 3_000).write(to: path)
        let small = try HTMLReport(traces: [(TraceReader(path: path), nil)], options: .init(spanBudget: 10_000))
        #expect(small.summary.embeddedSpans <= 10_000 && small.summary.embeddedSpans > 9_000)
        let all = try HTMLReport(traces: [(TraceReader(path: path), nil)], options: .init(spanBudget: 100_000))
        #expect(all.summary.embeddedSpans == 3_000 * 19)
        let perSpan =
            Double(all.summary.compressedBytes - small.summary.compressedBytes)
            / Double(all.summary.embeddedSpans - small.summary.embeddedSpans)
        #expect(perSpan <= 8, "\(perSpan) bytes per span")
        let window = try HTMLReport(traces: [(TraceReader(path: path), nil)], options: .init(window: 10...19))
        #expect(window.summary.embeddedSpans == 10 * 19)
    }

    @Test("CSP: default-src 'none', script and style admitted by their SHA-256 only")
    func contentSecurityPolicy() throws {
        #expect(
            SHA256.digest(Array("abc".utf8)).map { String(format: "%02x", $0) }.joined()
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.digest(Array(String(repeating: "a", count: 1000).utf8)).map { String(format: "%02x", $0) }.joined()
                == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
        let path = temporaryPath("csp.sqlite")
        try writeKnownTrace(path, steps: 3)
        let (file, _) = try writeReport([(path, nil)])
        let html = try String(contentsOfFile: file, encoding: .utf8)
        let script = try HTMLResources.script()
        let style = try HTMLResources.text("report.css")
        #expect(
            html.contains(
                "content=\"default-src 'none'; script-src '\(HTMLReport.hash(script))'; style-src '\(HTMLReport.hash(style))'; img-src data:; base-uri 'none'; form-action 'none'\""
            ))
        #expect(html.contains("<script>" + script + "</script>") && html.contains("<style>" + style + "</style>"))
        // The only URL in the page is the SVG namespace, which is a name, not a request.
        let urls = html.replacingOccurrences(of: "'http://www.w3.org/2000/svg'", with: "")
        #expect(!urls.contains("http://") && !urls.contains("https://") && !urls.contains("src="))
    }

    @Test("tracectl html: from any directory; bad input is one line and exit 2")
    func command() throws {
        let path = temporaryPath("cmd.sqlite")
        try writeKnownTrace(path, steps: 3)
        let out = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("cmd.html").path
        let process = Process()
        process.executableURL = tracectl
        process.arguments = ["html", path, "-o", out]
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        let err = Pipe()
        process.standardError = err
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(message)")
        #expect(message.hasPrefix("wrote \(out): ") && message.contains("1 run, 57 raw spans embedded"))
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains("default-src 'none'"))

        let two = try fixture()
        let diff = try run(["html", two, "--run", "1", "--run", "2", "-o", out])
        #expect(diff.status == 0 && diff.stderr.contains(" 2 runs, 187 raw spans embedded"))
        #expect(try String(contentsOfFile: out, encoding: .utf8).count > 10_000)
        let missing = try run(["html", "/nonexistent.sqlite", "-o", out])
        #expect(missing.status == 2 && missing.stderr == "tracectl: /nonexistent.sqlite: no such file\n")
        let window = try run(["html", path, "--window", "7", "-o", out])
        #expect(window.status == 2 && window.stderr == "tracectl: run 1 has no step 7 (it has steps 0..2)\n")
    }
}

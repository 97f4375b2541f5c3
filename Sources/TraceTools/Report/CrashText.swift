import TraceStore

/// How reports show a crash record: the lines that open `tracectl report`, and the stable JSON
/// object of `report --format json` and `bypass --format json` (fields in the README).
package enum CrashText {
    /// The summary line, then each thread's open stack (outermost first) and its last spans.
    package static func lines(_ crash: CrashRecord) -> [String] {
        var out = [Terminal.visible(crash.summary)]
        let where_ = crash.address != 0 && [7, 11].contains(crash.signal) ? String(format: " at address 0x%llx", crash.address) : ""
        out.append("process \(crash.pid), thread \(crash.osThreadID) received the signal\(where_); the run stops there")
        for t in crash.threads {
            out.append("")
            out.append("thread \(t.index) (tid \(t.osThreadID))\(t.crashed ? ", crashed" : ""): \(t.open.count) open spans")
            for s in t.open {
                out.append("  " + String(repeating: "  ", count: Int(max(0, min(s.depth, 64)))) + describe(s) + ", open for \(duration(s))")
            }
            if !t.last.isEmpty {
                out.append("  last \(t.last.count) finished spans, oldest first:")
                for s in t.last { out.append("    " + describe(s) + ", \(duration(s))") }
            }
        }
        return out
    }

    private static func describe(_ s: CrashRecord.Span) -> String {
        let type = s.moduleType == s.name ? "" : " (\(s.moduleType ?? "?"))"
        var text = s.isModule ? "\(s.name)\(type) \(s.kind)" : "\(s.kind) \(s.name)"
        if let shapes = s.inputShapes { text += " input \(shapes)" }
        return Terminal.visible(text + ", step \(s.step)")
    }

    private static func duration(_ s: CrashRecord.Span) -> String { Units.duration(Double(s.durationNanoseconds)) }

    /// `{"summary", "signal", "signal_name", "module", "type", "phase", "input_shapes", "step",
    /// "pid", "os_tid", "address", "threads": [{"thread", "os_tid", "crashed", "open": [span], "last": [span]}]}`;
    /// a span is `{"kind", "name", "module_type", "input_shapes", "step", "depth", "span_id", "start_ns", "dur_ns"}`.
    package static func json(_ crash: CrashRecord?) -> String {
        guard let crash else { return "null" }
        let at = crash.crashedIn
        let fields = [
            "\"summary\":\(JSON.quote(crash.summary))", "\"signal\":\(crash.signal)",
            "\"signal_name\":\(JSON.quote(crash.signalName))", "\"module\":\(optional(at?.name))",
            "\"type\":\(optional(at?.moduleType))", "\"phase\":\(optional(at?.phase))",
            "\"input_shapes\":\(optional(at?.inputShapes))", "\"step\":\(at.map { String($0.step) } ?? "null")",
            "\"pid\":\(crash.pid)", "\"os_tid\":\(crash.osThreadID)", "\"address\":\(crash.address)",
            "\"threads\":[" + crash.threads.map(thread).joined(separator: ",") + "]",
        ]
        return "{" + fields.joined(separator: ",") + "}"
    }

    private static func thread(_ t: CrashRecord.ThreadStack) -> String {
        "{\"thread\":\(t.index),\"os_tid\":\(t.osThreadID),\"crashed\":\(t.crashed),\"open\":["
            + t.open.map(span).joined(separator: ",") + "],\"last\":[" + t.last.map(span).joined(separator: ",") + "]}"
    }

    private static func span(_ s: CrashRecord.Span) -> String {
        "{\"kind\":\(JSON.quote(s.kind)),\"name\":\(JSON.quote(s.name)),\"module_type\":\(optional(s.moduleType)),"
            + "\"input_shapes\":\(optional(s.inputShapes)),\"step\":\(s.step),\"depth\":\(s.depth),\"span_id\":\(s.spanID),"
            + "\"start_ns\":\(s.startNanoseconds),\"dur_ns\":\(s.durationNanoseconds)}"
    }

    private static func optional(_ s: String?) -> String { s.map(JSON.quote) ?? "null" }
}

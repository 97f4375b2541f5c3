import CZlib
import Foundation
import TraceStore

/// `tracectl html`: one self-contained HTML file with the report's panels. The CSS and
/// JavaScript are inlined from `HTML/Resources`; the data is one zlib stream (JSON aggregates
/// and binary span columns) embedded as base64 and inflated by the page with
/// `DecompressionStream`. A Content-Security-Policy of `default-src 'none'` that admits only
/// the hashes of the inline script and style makes every network request impossible, and
/// trace text reaches the page only through `textContent`.
package struct HTMLReport {
    package struct Options: Sendable {
        /// Steps the aggregates cover (all when nil).
        package var steps: ClosedRange<Int64>?
        /// Steps whose raw spans are embedded (default: around the slowest step).
        package var window: ClosedRange<Int64>?
        /// At most this many raw spans per run are embedded.
        package var spanBudget: Int
        /// Tests only: a script run after the report's own, admitted by its hash in the CSP.
        package var testScript: String?

        package init(
            steps: ClosedRange<Int64>? = nil, window: ClosedRange<Int64>? = nil, spanBudget: Int = 100_000, testScript: String? = nil
        ) {
            self.steps = steps
            self.window = window
            self.spanBudget = spanBudget
            self.testScript = testScript
        }
    }

    package struct Summary: Sendable {
        package var htmlBytes = 0
        /// The compressed data (before base64).
        package var compressedBytes = 0
        /// The binary span and step columns before compression.
        package var columnBytes = 0
        package var embeddedSpans = 0
        package var runs = 0
    }

    package let html: String
    package let summary: Summary

    /// The report of `traces` (each a file and a run, the latest when nil): several files of
    /// one data-parallel job give the rank panels, two runs a diff.
    package init(traces: [(reader: TraceReader, run: Int64?)], options: Options = Options()) throws {
        guard !traces.isEmpty else { throw ExportError("no trace given") }
        var runs: [String] = []
        var binary: [UInt8] = []
        var summary = Summary()
        for trace in traces {
            let payload = try RunPayload(
                reader: trace.reader, run: trace.run,
                options: .init(steps: options.steps, window: options.window, budget: options.spanBudget),
                binaryBase: binary.count)
            runs.append(payload.json)
            binary += payload.columns.bytes
            summary.embeddedSpans += payload.embeddedSpans
        }
        summary.columnBytes = binary.count
        summary.runs = runs.count
        let ranks = RankPayload.json(traces).map { ",\"ranks\":" + $0 } ?? ""
        let json = "{\"version\":1,\"generator\":\"tracectl html\",\"runs\":[\n" + runs.joined(separator: ",\n") + "]\(ranks)}"
        let jsonBytes = Array(json.utf8)
        var raw = Array("TWR1".utf8)
        for i in 0..<4 { raw.append(UInt8(truncatingIfNeeded: jsonBytes.count >> (8 * i))) }
        raw += jsonBytes
        raw += binary
        let compressed = try HTMLReport.deflate(raw)
        summary.compressedBytes = compressed.count

        let script = try HTMLResources.script()
        let style = try HTMLResources.text("report.css")
        let test = options.testScript
        guard !(script + (test ?? "")).lowercased().contains("</script"), !style.lowercased().contains("</style") else {
            throw ExportError("report.js or report.css closes its own element")
        }
        let scripts = ([script] + (test.map { [$0] } ?? [])).map { "'\(HTMLReport.hash($0))'" }.joined(separator: " ")
        let csp =
            "default-src 'none'; script-src \(scripts); style-src '\(HTMLReport.hash(style))'; "
            + "img-src data:; base-uri 'none'; form-action 'none'"
        let title =
            traces.count == 1
            ? "Tracewell report: \(URL(fileURLWithPath: traces[0].reader.path).lastPathComponent)"
            : "Tracewell report: \(traces.count) runs"
        let values = [
            "CSP": HTMLReport.escape(csp), "TITLE": HTMLReport.escape(title), "STYLE": style, "SCRIPT": script,
            "DATA": Data(compressed).base64EncodedString(), "TEST": test.map { "<script>\($0)</script>\n" } ?? "",
        ]
        html = try HTMLReport.fill(HTMLResources.text("report.html"), values)
        summary.htmlBytes = html.utf8.count
        self.summary = summary
    }

    /// Writes the page to `path`.
    package func write(to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(html.utf8)) else {
            throw ExportError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// `sha256-...` of `text` as CSP wants it.
    static func hash(_ text: String) -> String { "sha256-" + Data(SHA256.digest(Array(text.utf8))).base64EncodedString() }

    /// `text` safe inside HTML text and double-quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: if c.value < 0x20 && c != "\n" && c != "\t" { out += "\u{FFFD}" } else { out.unicodeScalars.append(c) }
            }
        }
        return out
    }

    /// The template with each `<!--TW:KEY-->` replaced, in one pass (inserted text is not searched).
    static func fill(_ template: String, _ values: [String: String]) throws -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "<!--TW:") {
            out += rest[..<open.lowerBound]
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "-->"), let value = values[String(after[..<close.lowerBound])] else {
                throw ExportError("report.html: unknown placeholder")
            }
            out += value
            rest = after[close.upperBound...]
        }
        return out + rest
    }

    /// zlib format (RFC 1950), which `DecompressionStream("deflate")` reads.
    static func deflate(_ bytes: [UInt8]) throws -> [UInt8] {
        var length = compressBound(uLong(bytes.count))
        var out = [UInt8](repeating: 0, count: Int(length))
        let status = out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { i in compress2(o.baseAddress, &length, i.baseAddress, uLong(bytes.count), 9) }
        }
        guard status == Z_OK else { throw ExportError("compressing the report data failed (zlib \(status))") }
        return Array(out.prefix(Int(length)))
    }
}

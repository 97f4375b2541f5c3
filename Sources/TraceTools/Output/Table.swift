import Foundation

/// How a command prints a table.
package enum OutputFormat: String, CaseIterable, Sendable {
    case table, json, csv
}

/// Rows of text cells with a header, printed aligned, as JSON objects, or as CSV.
package struct Table {
    package struct Column: Sendable {
        package var title: String
        /// JSON key (defaults to the title in snake case).
        package var key: String
        package var rightAligned: Bool

        package init(_ title: String, key: String? = nil, right: Bool = false) {
            self.title = title
            self.key = key ?? title.lowercased().replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "%", with: "pct")
            rightAligned = right
        }
    }

    /// A cell: its text, and its JSON value.
    package enum Cell {
        case text(String)
        case int(Int64)
        case number(Double, String)
        case null

        var display: String {
            switch self {
            case .text(let t): t
            case .int(let i): String(i)
            case .number(_, let shown): shown
            case .null: ""
            }
        }

        var json: String {
            switch self {
            case .text(let t): JSON.quote(t)
            case .int(let i): String(i)
            case .number(let d, _): d.isFinite ? JSON.number(d) : "null"
            case .null: "null"
            }
        }
    }

    package var columns: [Column]
    package var rows: [[Cell]] = []

    package init(_ columns: [Column]) { self.columns = columns }

    package mutating func append(_ row: [Cell]) { rows.append(row) }

    package func render(_ format: OutputFormat) -> String {
        switch format {
        case .table: aligned()
        case .json: "[" + rows.map { object($0) }.joined(separator: ",\n ") + "]"
        case .csv:
            ([columns.map { CSV.quote($0.key) }] + rows.map { $0.map { CSV.quote($0.display) } })
                .map { $0.joined(separator: ",") }.joined(separator: "\n")
        }
    }

    /// One JSON object for `row`.
    package func object(_ row: [Cell]) -> String {
        "{" + zip(columns, row).map { "\(JSON.quote($0.key)):\($1.json)" }.joined(separator: ",") + "}"
    }

    func aligned() -> String {
        let rows = self.rows.map { $0.map { Cell.text(Terminal.visible($0.display)) } }
        let widths = columns.indices.map { i in
            max(columns[i].title.count, rows.map { $0[i].display.count }.max() ?? 0)
        }
        func line(_ cells: [String]) -> String {
            zip(columns.indices, cells).map { i, text in
                let pad = String(repeating: " ", count: widths[i] - text.count)
                return columns[i].rightAligned ? pad + text : text + pad
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        return ([line(columns.map(\.title))] + rows.map { line($0.map(\.display)) }).joined(separator: "\n")
    }
}

/// Text bound for a terminal.
package enum Terminal {
    /// `s` with control characters shown as `\u{1b}` instead of sent raw (no escape-sequence
    /// injection from a crafted trace: ESC, BEL, CR and the C1 controls are all made visible).
    package static func visible(_ s: String) -> String {
        guard s.unicodeScalars.contains(where: isControl) else { return s }
        var out = ""
        for scalar in s.unicodeScalars {
            if isControl(scalar) { out += "\\u{" + String(scalar.value, radix: 16) + "}" } else { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    private static func isControl(_ c: Unicode.Scalar) -> Bool { c.value < 0x20 || (0x7f...0x9f).contains(c.value) }
}

/// JSON text without Foundation's reordering or float noise.
package enum JSON {
    package static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            // Not `\\`: Perfetto's JSON parser reads `\\"` as an escaped quote, so a name ending
            // in a backslash would make it refuse the file. `\u005c` means the same to every parser.
            case "\\": out += "\\u005c"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out +=
                        "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// A finite double with at most 6 significant decimals, integers without a fraction.
    package static func number(_ d: Double) -> String {
        if d == d.rounded() && abs(d) < 1e15 { return String(Int64(d)) }
        var text = String(format: "%.6g", d)
        if text.contains("e") { text = String(d) }
        return text
    }
}

package enum CSV {
    package static func quote(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            : s
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }

    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

#if canImport(Glibc)
    import Glibc
#endif

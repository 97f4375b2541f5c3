import Foundation

/// A direct use of `forward` that skips a module's call wrapper.
package struct LintFinding: Equatable, Sendable {
    package var file: String
    package var line: Int
    package var column: Int
    /// The code as written: the call `fc2.forward(h)` or the function value `layer.forward`.
    package var call: String
    /// What to write instead (`fc2(h)`, `layer.callAsFunction`); nil when no rewrite in place is
    /// right (`super.forward` in a helper method).
    package var fix: String?
    /// The explanation and the fix, in words.
    package var message: String

    package init(file: String, line: Int, column: Int, call: String, fix: String?, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.call = call
        self.fix = fix
        self.message = message
    }

    /// `file:line:col: warning: ...`, the format editors and CI annotate.
    package var diagnostic: String { "\(file):\(line):\(column): warning: \(message)" }
}

extension LintFinding {
    static let skips = "skips the module's call wrapper: hooks do not fire and the profiler does not see the call"

    /// `fc2.forward(h)`: write `fc2(h)`.
    static func call(_ call: String, fix: String, at location: (line: Int, column: Int), file: String) -> LintFinding {
        LintFinding(
            file: file, line: location.line, column: location.column, call: call, fix: fix,
            message: "'\(call)' \(skips); write '\(fix)' instead")
    }

    /// `checkpoint(layer.forward, h)`: pass `layer.callAsFunction` or `{ try layer($0) }`.
    static func functionValue(_ value: String, receiver: String, at location: (line: Int, column: Int), file: String) -> LintFinding {
        let fix = "\(receiver).callAsFunction"
        return LintFinding(
            file: file, line: location.line, column: location.column, call: value, fix: fix,
            message: "'\(value)' is the module's forward as a function value; calling it \(skips); "
                + "pass '\(fix)' or '{ try \(receiver)($0) }' instead")
    }

    /// `super.forward(x)` in a helper: `self(x)` would run this class's forward, which recurses
    /// when forward calls the helper, so the fix is to move the code.
    static func superInHelper(
        _ call: String, arguments: String?, method: String?, at location: (line: Int, column: Int),
        file: String
    ) -> LintFinding {
        let inMethod = method.map { " in '\($0)'" } ?? ""
        let selfCall = arguments.map { "self(\($0))" } ?? "self.callAsFunction"
        let recursion = method.map { "which recurses if forward calls '\($0)'" } ?? "which recurses if forward calls this code"
        return LintFinding(
            file: file, line: location.line, column: location.column, call: call, fix: nil,
            message: "'\(call)'\(inMethod) \(skips); move this code into 'override func forward', "
                + "or call the module through its wrapper from outside; '\(selfCall)' is no fix: "
                + "it runs this class's forward, \(recursion)")
    }
}

extension LintFinding {
    /// The findings as a JSON array of `{file, line, column, call, fix, message}` objects (`fix`
    /// is null when there is no one-line fix).
    package static func json(_ findings: [LintFinding]) -> String {
        func quote(_ s: String) -> String { String(decoding: try! JSONEncoder().encode(s), as: UTF8.self) }
        let items = findings.map {
            "{\"file\":\(quote($0.file)),\"line\":\($0.line),\"column\":\($0.column),\"call\":\(quote($0.call)),"
                + "\"fix\":\($0.fix.map(quote) ?? "null"),\"message\":\(quote($0.message))}"
        }
        return "[" + items.joined(separator: ",\n ") + "]"
    }
}

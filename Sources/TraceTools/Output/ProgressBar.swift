import Foundation

/// A progress bar on stderr, drawn only when stderr is a terminal and the work is long.
package final class ProgressBar {
    private let label: String
    private let total: Int64
    private let enabled: Bool
    private var lastDraw = Date()
    private var drawn = false
    private let started = Date()

    package init(_ label: String, total: Int64) {
        self.label = label
        self.total = max(total, 1)
        enabled = isatty(STDERR_FILENO) == 1
    }

    /// Reports `done` units of `total`; redraws at most every 100 ms, after the first half second.
    package func update(_ done: Int64) {
        guard enabled else { return }
        let now = Date()
        guard now.timeIntervalSince(lastDraw) > 0.1, now.timeIntervalSince(started) > 0.5 else { return }
        lastDraw = now
        drawn = true
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
        FileHandle.standardError.write("\r\(label) [\(bar)] \(Int(fraction * 100))%".data(using: .utf8)!)
    }

    /// Clears the bar.
    package func finish() {
        guard drawn else { return }
        FileHandle.standardError.write("\r\u{1B}[2K".data(using: .utf8)!)
    }
}

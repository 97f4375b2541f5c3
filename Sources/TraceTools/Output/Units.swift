import Foundation

/// Human units for durations and bytes, as PyTorch's tables print them.
package enum Units {
    /// `512ns`, `12.3us`, `4.56ms`, `1.234s`.
    package static func duration(_ ns: Double) -> String {
        let a = abs(ns)
        if a < 1_000 { return String(format: "%.0fns", ns) }
        if a < 1_000_000 { return String(format: "%.1fus", ns / 1e3) }
        if a < 1_000_000_000 { return String(format: "%.2fms", ns / 1e6) }
        return String(format: "%.3fs", ns / 1e9)
    }

    /// `0 B`, `1.25 KB`, `3.50 MB` (1024-based like PyTorch).
    package static func bytes(_ b: Double) -> String {
        let a = abs(b)
        if a < 1024 { return String(format: "%.0f B", b) }
        if a < 1024 * 1024 { return String(format: "%.2f KB", b / 1024) }
        if a < 1024 * 1024 * 1024 { return String(format: "%.2f MB", b / 1024 / 1024) }
        return String(format: "%.2f GB", b / 1024 / 1024 / 1024)
    }

    package static func percent(_ fraction: Double) -> String { String(format: "%.1f%%", fraction * 100) }

    /// A signed relative change, `+12.5%`.
    package static func change(_ from: Double, _ to: Double) -> String {
        guard from != 0 else { return to == 0 ? "0.0%" : "new" }
        return String(format: "%+.1f%%", (to - from) / from * 100)
    }
}

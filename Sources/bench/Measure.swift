import Foundation
import TraceRuntime

/// Timing helpers: medians over interleaved rounds, on the TSC.
enum Measure {
    /// Nanoseconds `body` takes.
    @inline(__always)
    static func nanoseconds(_ body: () throws -> Void) rethrows -> Double {
        let t0 = Clock.ticks()
        try body()
        return Double(Clock.calibration.duration(Clock.ticks() &- t0))
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

/// Keeps a value alive without the optimizer seeing through it.
@inline(never) func blackHole<T>(_ value: T) { withExtendedLifetime(value) {} }

/// One benchmark result.
struct Result {
    let key: String
    let what: String
    let value: Double
    let unit: String
    /// "≤ 2", "≥ 1.5e6", or "report".
    let target: String
    let pass: Bool?
    /// How many samples the median is of.
    let samples: String

    init(
        _ key: String, _ what: String, _ value: Double, _ unit: String, target: String = "report",
        pass: Bool? = nil, samples: String
    ) {
        self.key = key
        self.what = what
        self.value = value
        self.unit = unit
        self.target = target
        self.pass = pass
        self.samples = samples
    }

    static func atMost(_ key: String, _ what: String, _ value: Double, _ unit: String, _ limit: Double, samples: String) -> Result {
        Result(key, what, value, unit, target: "≤ \(format(limit))", pass: value <= limit, samples: samples)
    }

    static func atLeast(_ key: String, _ what: String, _ value: Double, _ unit: String, _ limit: Double, samples: String) -> Result {
        Result(key, what, value, unit, target: "≥ \(format(limit))", pass: value >= limit, samples: samples)
    }

    static func format(_ v: Double) -> String {
        if v.isNaN { return "n/a" }
        if abs(v) >= 1e6 { return String(format: "%.3g", v) }
        if abs(v) >= 100 { return String(format: "%.0f", v) }
        if abs(v) >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.2f", v)
    }
}

/// Progress lines on stderr.
func note(_ text: String) { FileHandle.standardError.write((text + "\n").data(using: .utf8)!) }

import TraceStore

/// Values read from a trace are untrusted: these read them checked, so a damaged or crafted
/// file gives one error line instead of a trap, a huge allocation or a wrong index.
enum Checked {
    /// Times, durations and byte counts beyond ±2^62 are refused: sums of two stay in range.
    static let limit: Int64 = 1 << 62

    static func damaged(_ what: String, _ value: Int64) -> StoreError {
        StoreError("\(what) \(value) is out of range (a damaged or crafted trace)")
    }

    /// `value` as a UInt32, or an error naming it.
    static func uint32(_ value: Int64, _ what: @autoclosure () -> String) throws -> UInt32 {
        guard let v = UInt32(exactly: value) else { throw damaged(what(), value) }
        return v
    }

    /// `value` if it is within ±`limit`.
    @inline(__always)
    static func bounded(_ value: Int64, _ what: @autoclosure () -> String) throws -> Int64 {
        guard value > -limit && value < limit else { throw damaged(what(), value) }
        return value
    }

    /// `a - b`, both within ±`limit` (so the difference cannot overflow).
    @inline(__always)
    static func difference(_ a: Int64, _ b: Int64, _ what: @autoclosure () -> String) throws -> Int64 {
        guard b > -limit && b < limit else { throw damaged(what(), b) }
        return try sum(a, -b, what())
    }

    /// `a + b`, both within ±`limit` (so the sum cannot overflow).
    @inline(__always)
    static func sum(_ a: Int64, _ b: Int64, _ what: @autoclosure () -> String) throws -> Int64 {
        guard a > -limit && a < limit else { throw damaged(what(), a) }
        guard b > -limit && b < limit else { throw damaged(what(), b) }
        return a + b
    }
}

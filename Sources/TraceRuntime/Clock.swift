import CTracing

/// The tracer's clock: raw ticks on the hot path (the TSC on x86-64), converted to
/// nanoseconds off the hot path with a calibration taken against CLOCK_MONOTONIC.
@usableFromInline package enum Clock {
    /// A raw timestamp. Cheap (about 10 ns); only differences and `nanoseconds(_:)` mean anything.
    @inlinable @inline(__always) package static func ticks() -> UInt64 { ct_ticks() }

    /// CLOCK_MONOTONIC in nanoseconds.
    @usableFromInline package static func monotonicNanoseconds() -> UInt64 { ct_monotonic_ns() }

    /// Wall-clock nanoseconds since the Unix epoch.
    @usableFromInline package static func wallNanoseconds() -> UInt64 { ct_realtime_ns() }

    /// A linear map from ticks to monotonic nanoseconds.
    @usableFromInline package struct Calibration: Sendable {
        @usableFromInline package let tickOrigin: UInt64
        @usableFromInline package let nanosecondOrigin: UInt64
        /// Nanoseconds per tick.
        @usableFromInline package let scale: Double

        /// Monotonic nanoseconds at `ticks`.
        @inlinable package func nanoseconds(_ ticks: UInt64) -> Int64 {
            let delta = Double(Int64(bitPattern: ticks &- tickOrigin))
            return Int64(bitPattern: nanosecondOrigin) &+ Int64((delta * scale).rounded())
        }

        /// Nanoseconds spanned by `ticks` ticks.
        @inlinable package func duration(_ ticks: UInt64) -> Int64 { Int64((Double(ticks) * scale).rounded()) }
    }

    /// Measured once per process: ticks against CLOCK_MONOTONIC over about 20 ms.
    @usableFromInline package static let calibration: Calibration = calibrate(milliseconds: 20)

    static func calibrate(milliseconds: UInt64) -> Calibration {
        #if arch(x86_64)
            func pair() -> (UInt64, UInt64) {
                // Bracket the clock read with two tick reads and keep the tightest of a few tries.
                var best: (UInt64, UInt64, UInt64) = (UInt64.max, 0, 0)
                for _ in 0..<5 {
                    let t0 = ct_ticks()
                    let ns = ct_monotonic_ns()
                    let t1 = ct_ticks()
                    if t1 &- t0 < best.0 { best = (t1 &- t0, t0 &+ (t1 &- t0) / 2, ns) }
                }
                return (best.1, best.2)
            }
            let (t0, n0) = pair()
            while ct_monotonic_ns() &- n0 < milliseconds * 1_000_000 {}
            let (t1, n1) = pair()
            let scale = Double(n1 &- n0) / Double(t1 &- t0)
            return Calibration(tickOrigin: t0, nanosecondOrigin: n0, scale: scale)
        #else
            return Calibration(tickOrigin: 0, nanosecondOrigin: 0, scale: 1)
        #endif
    }
}

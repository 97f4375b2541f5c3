import Synchronization

/// One estimate of how far this process's CLOCK_MONOTONIC is from rank 0's, taken by the
/// process group (ping-pong with rank 0) and written into every trace this process records,
/// so that `tracectl` can place ranks of different hosts on one time axis.
package struct ClockSample: Sendable, Equatable {
    /// When in the run: `start` (the group was created) or `end` (before the trace closed).
    package var phase: String
    /// How it was measured, in words (`ping-pong with rank 0, min RTT of 10 exchanges`).
    package var method: String
    /// This clock minus rank 0's (ns): a rank-0 time is `local - offset`.
    package var offsetNs: Int64
    /// The true offset lies within `offsetNs ± boundNs` (half the shortest round trip).
    package var boundNs: Int64
    /// The shortest round trip of the exchanges (ns).
    package var minRoundTripNs: Int64
    /// How many exchanges the estimate took.
    package var exchanges: Int
    /// Whether rank 0 runs on this host (then the clocks are one and the offset is 0 in truth).
    package var sameHost: Bool

    /// A sample with these values.
    package init(
        phase: String, method: String, offsetNs: Int64, boundNs: Int64, minRoundTripNs: Int64, exchanges: Int, sameHost: Bool
    ) {
        (self.phase, self.method, self.offsetNs, self.boundNs) = (phase, method, offsetNs, boundNs)
        (self.minRoundTripNs, self.exchanges, self.sameHost) = (minRoundTripNs, exchanges, sameHost)
    }
}

/// The clock samples of this process, in the order they were taken (one owner: the process
/// group adds, trace writers read).
package enum ClockAlignment {
    private static let samples = Mutex<[ClockSample]>([])

    /// Adds a sample (the process group, after each ping-pong).
    package static func record(_ sample: ClockSample) { samples.withLock { $0.append(sample) } }

    /// Every sample so far.
    package static var all: [ClockSample] { samples.withLock { $0 } }
}

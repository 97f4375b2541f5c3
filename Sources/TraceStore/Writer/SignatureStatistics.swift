import TraceEvents
import TraceRuntime

/// Per-signature statistics of one run in flat memory, kept as spans arrive so that a
/// whole-run report never scans the spans. Used on the drain thread, read by `finish`.
struct SignatureStatistics {
    struct Counters {
        var calls: Int64 = 0, total: Int64 = 0, selfTime: Int64 = 0, allocated: Int64 = 0, freed: Int64 = 0
        var peak: Int64 = .min
    }
    private var counters: [Counters] = []
    private var histograms: [Histogram] = []
    private var selfTimes = SelfTimeAccumulator()
    /// The run's first signature id: statistics are kept by `sig − firstSignature`.
    private(set) var firstSignature: Int64?

    /// Adds span `r` of signature `sig` (spans arrive children first on each thread).
    @inline(__always)
    mutating func add(_ r: SpanRecord, sig: Int64) {
        let duration = max(Int64(bitPattern: r.end) &- Int64(bitPattern: r.start), 0)
        let selfTime = selfTimes.arrive(thread: Int(r.thread), depth: Int(r.depth), duration: duration)
        let first = firstSignature ?? sig
        firstSignature = first
        let slot = Int(sig - first)
        if slot >= counters.count {
            counters += [Counters](repeating: Counters(), count: slot + 8 - counters.count)
            histograms += [Histogram](repeating: Histogram(), count: counters.count - histograms.count)
        }
        let memory = r.flags & SpanFlag.memory != 0
        counters.withUnsafeMutableBufferPointer { c in
            c[slot].calls += 1
            c[slot].total &+= duration
            c[slot].selfTime &+= selfTime
            if memory {
                c[slot].allocated &+= r.allocated
                c[slot].freed &+= r.freed
                c[slot].peak = max(c[slot].peak, r.peak)
            }
        }
        histograms[slot].add(duration)
    }

    /// The statistics of every signature that had spans, by signature id.
    var all: [(sig: Int64, stats: SpanStats)] {
        guard let firstSignature else { return [] }
        return counters.enumerated().compactMap { slot, c in
            guard c.calls > 0 else { return nil }
            var st = SpanStats()
            st.calls = c.calls
            st.total = c.total
            st.selfTime = c.selfTime
            st.allocated = c.allocated
            st.freed = c.freed
            st.peak = c.peak == .min ? nil : c.peak
            st.histogram = histograms[slot]
            return (firstSignature + Int64(slot), st)
        }
    }
}

/// Durations in log-linear buckets (exact below 64 ns, then 32 buckets per power of two):
/// percentiles within 1.6% whatever the number of spans. Only the range of buckets in use is
/// stored (a few octaves for one signature: a few hundred bytes).
package struct Histogram {
    static let bucketCount = 64 + 58 * 32
    /// Counts of buckets `first ..< first + counts.count`.
    private var first = 0
    private var counts: [UInt32] = []
    package private(set) var count: Int64 = 0
    /// Buckets held in memory.
    var storedBuckets: Int { counts.count }

    package init() {}

    /// Adds every count of `other`.
    package mutating func merge(_ other: Histogram) {
        for (i, c) in other.counts.enumerated() where c > 0 { add(bucket: other.first + i, c) }
    }

    /// Non-zero buckets as little-endian (UInt16 bucket, UInt32 count) pairs, for storage.
    package var serialized: [UInt8] {
        var bytes: [UInt8] = []
        for (i, c) in counts.enumerated() where c > 0 {
            let b = first + i
            bytes += [UInt8(b & 0xff), UInt8(b >> 8), UInt8(c & 0xff), UInt8(c >> 8 & 0xff), UInt8(c >> 16 & 0xff), UInt8(c >> 24)]
        }
        return bytes
    }

    package init(serialized bytes: [UInt8]) {
        var i = 0
        while i + 6 <= bytes.count {
            let bucket = Int(bytes[i]) | Int(bytes[i + 1]) << 8
            let c = UInt32(bytes[i + 2]) | UInt32(bytes[i + 3]) << 8 | UInt32(bytes[i + 4]) << 16 | UInt32(bytes[i + 5]) << 24
            if bucket < Histogram.bucketCount { add(bucket: bucket, c) }
            i += 6
        }
    }

    @inline(__always)
    package mutating func add(_ value: Int64) { add(bucket: Histogram.bucket(value), 1) }

    @inline(__always)
    private mutating func add(bucket: Int, _ n: UInt32) {
        if bucket < first || bucket >= first + counts.count { widen(toInclude: bucket) }
        counts[bucket - first] &+= n
        count += Int64(n)
    }

    /// Extends the stored range, an octave (32 buckets) at a time.
    private mutating func widen(toInclude bucket: Int) {
        let low = bucket & ~31
        guard !counts.isEmpty else {
            first = low
            counts = [UInt32](repeating: 0, count: 32)
            return
        }
        let start = min(first, low)
        let end = max(first + counts.count, low + 32)
        var wider = [UInt32](repeating: 0, count: end - start)
        wider.replaceSubrange((first - start)..<(first - start + counts.count), with: counts)
        first = start
        counts = wider
    }

    @inline(__always) static func bucket(_ value: Int64) -> Int {
        guard value >= 64 else { return Int(max(value, 0)) }
        let e = 63 - value.leadingZeroBitCount
        return 64 + (e - 6) * 32 + Int((value >> (e - 5)) & 31)
    }

    static func lowerBound(_ bucket: Int) -> Double {
        guard bucket >= 64 else { return Double(bucket) }
        let e = (bucket - 64) / 32 + 6
        let sub = (bucket - 64) % 32
        return Double(Int64(32 + sub) << (e - 5))
    }

    /// The value at quantile `q` (0...1), the middle of its bucket.
    package func percentile(_ q: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = max(1, Int64((q * Double(count)).rounded(.up)))
        var seen: Int64 = 0
        for (i, c) in counts.enumerated() where c > 0 {
            seen += Int64(c)
            if seen >= rank {
                let b = first + i
                let lo = Histogram.lowerBound(b)
                let hi = Histogram.lowerBound(b + 1)
                return b < 64 ? lo : (lo + hi) / 2
            }
        }
        return 0
    }
}

/// What a report needs about all spans of one signature: counts, time, memory, distribution.
package struct SpanStats {
    package var calls: Int64 = 0
    package var total: Int64 = 0
    /// Duration minus the durations of child spans.
    package var selfTime: Int64 = 0
    package var allocated: Int64 = 0
    package var freed: Int64 = 0
    package var peak: Int64?
    package var histogram = Histogram()

    package init() {}

    @inline(__always)
    package mutating func add(duration: Int64, selfTime: Int64, allocated: Int64?, freed: Int64?, peak: Int64?) {
        calls &+= 1
        total &+= duration
        self.selfTime &+= selfTime
        histogram.add(duration)
        if let allocated { self.allocated &+= allocated }
        if let freed { self.freed &+= freed }
        if let peak { self.peak = max(self.peak ?? peak, peak) }
    }

    package mutating func merge(_ other: SpanStats) {
        calls &+= other.calls
        total &+= other.total
        selfTime &+= other.selfTime
        allocated &+= other.allocated
        freed &+= other.freed
        if let p = other.peak { peak = max(peak ?? p, p) }
        histogram.merge(other.histogram)
    }
}

/// Self time while spans arrive as a thread finishes them (children before their parent):
/// per thread, the children's durations not yet claimed at each depth.
struct SelfTimeAccumulator {
    private var pending: [[Int64]] = []

    /// The self time of a span of `duration` at `depth` on `thread`, arriving now.
    @inline(__always)
    mutating func arrive(thread: Int, depth: Int, duration: Int64) -> Int64 {
        if thread >= pending.count { pending += [[Int64]](repeating: [], count: thread + 1 - pending.count) }
        if depth + 2 > pending[thread].count {
            pending[thread] += [Int64](repeating: 0, count: depth + 2 - pending[thread].count)
        }
        let children = pending[thread][depth + 1]
        pending[thread][depth + 1] = 0
        pending[thread][depth] += duration
        return duration - children
    }
}

import Testing

@testable import TraceStore

@Suite("Duration histograms")
struct HistogramTests {
    @Test func percentilesAreExactBelow64nsAndWithinABucketAbove() {
        var h = Histogram()
        for v in 1...1000 { h.add(Int64(v)) }
        #expect(h.count == 1000)
        #expect(h.percentile(0.01) == 10)
        #expect(h.percentile(0.05) == 50)
        for (q, exact) in [(0.5, 500.0), (0.95, 950.0), (1.0, 1000.0)] {
            #expect(abs(h.percentile(q) - exact) / exact < 0.016, "p\(q * 100): \(h.percentile(q))")
        }
    }

    @Test func onlyTheRangeInUseIsStored() {
        var h = Histogram()
        for v in stride(from: 1_024, to: 8_192, by: 8) { h.add(Int64(v)) }
        // 1,024 ... 8,191 ns is three octaves: 3 × 32 buckets, not the 1,920 of the whole range.
        #expect(h.storedBuckets == 3 * 32)
        h.add(10)
        h.add(3_000_000_000)
        #expect(h.percentile(0) == 10)
        #expect(abs(h.percentile(1) - 3e9) / 3e9 < 0.016)
        #expect(h.count == 896 + 2)
    }

    @Test func serializationAndMergeKeepEveryCount() {
        var a = Histogram()
        var b = Histogram()
        for v in [5, 5, 70, 1_000_000] { a.add(Int64(v)) }
        for v in [5, 2_000, 1_000_000] { b.add(Int64(v)) }
        let restored = Histogram(serialized: a.serialized)
        #expect(restored.serialized == a.serialized)
        #expect(restored.count == 4)
        // Non-zero buckets only, six bytes each: 5, 70 and 1,000,000 ns.
        #expect(a.serialized.count == 3 * 6)
        a.merge(b)
        #expect(a.count == 7)
        #expect(a.percentile(3.0 / 7) == 5)
        #expect(abs(a.percentile(1) - 1e6) / 1e6 < 0.016)
        #expect(Histogram(serialized: [1, 2, 3]).count == 0, "a truncated blob adds nothing")
    }
}

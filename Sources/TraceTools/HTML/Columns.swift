/// Integer columns as LEB128 varints (signed ones zigzag-encoded), concatenated; the page
/// decodes them with `readColumn` in report.js.
struct Columns {
    private(set) var bytes: [UInt8] = []
    private(set) var index: [(name: String, start: Int, end: Int, count: Int)] = []

    /// Appends column `name`; `signed` values are zigzag-encoded.
    mutating func add(_ name: String, _ values: [Int64], signed: Bool = false) {
        let start = bytes.count
        bytes.reserveCapacity(bytes.count + values.count * 2)
        for v in values {
            var u = signed ? UInt64(bitPattern: (v << 1) ^ (v >> 63)) : UInt64(bitPattern: max(v, 0))
            while u >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: u) | 0x80)
                u >>= 7
            }
            bytes.append(UInt8(u))
        }
        index.append((name, start, bytes.count, values.count))
    }

    /// `{"name":[start,end,count],...}` with offsets shifted by `base`.
    func json(base: Int) -> String {
        "{" + index.map { "\(JSON.quote($0.name)):[\($0.start + base),\($0.end + base),\($0.count)]" }.joined(separator: ",") + "}"
    }
}

/// Deltas of a sequence (the first against 0).
func deltas(_ values: [Int64]) -> [Int64] {
    var previous: Int64 = 0
    return values.map { v in
        defer { previous = v }
        return v &- previous
    }
}

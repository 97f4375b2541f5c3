/// Bytes of JSON text, appended without building Swift strings per value.
struct ByteBuffer {
    var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    @inline(__always) mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
    @inline(__always) mutating func append(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }
    @inline(__always) mutating func append(byte: UInt8) { bytes.append(byte) }

    /// A decimal integer.
    @inline(__always) mutating func append(int value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            append(unsigned: UInt64(bitPattern: 0 &- value))
        } else {
            append(unsigned: UInt64(value))
        }
    }

    @inline(__always) mutating func append(unsigned value: UInt64) {
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var v = value
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - n] = UInt8(truncatingIfNeeded: v % 10) &+ 48
                v /= 10
                n += 1
            } while v > 0
            bytes.append(contentsOf: d[(20 - n)...])
        }
    }

    /// Nanoseconds as microseconds with three decimals (`12.345`), exactly.
    @inline(__always) mutating func append(micros ns: Int64) {
        if ns < 0 { bytes.append(UInt8(ascii: "-")) }
        let a = UInt64(ns < 0 ? 0 &- ns : ns)
        append(unsigned: a / 1000)
        let frac = a % 1000
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(truncatingIfNeeded: frac / 100) &+ 48)
        bytes.append(UInt8(truncatingIfNeeded: frac / 10 % 10) &+ 48)
        bytes.append(UInt8(truncatingIfNeeded: frac % 10) &+ 48)
    }
}

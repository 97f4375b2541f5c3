import Foundation
import TraceEvents

/// Reads the fixed-format file the crash handler writes (`Sources/CTracing/crash.c`; the format
/// is in `Traces/README.md`). The file is untrusted: every length, count and value is checked
/// before use, and anything wrong is one error naming the file and the first problem.
package enum CrashFile {
    /// What the handler writes first: 8 bytes of magic, then the version.
    static let magic = Array("TWCRASH\u{0}".utf8)
    static let version: UInt32 = 1
    static let headerSize = 96
    /// Larger than any record the handler writes (1,024 threads of 544 spans of a few hundred bytes
    /// would be more, but the handler's table holds 1 MiB of names): refused before reading.
    static let maxFileBytes = 64 << 20
    static let maxText = 1024
    static let maxSpansPerThread = 4096

    /// Reads and checks the file at `path`; nil when there is none.
    package static func read(_ path: String) throws -> CrashRecord? {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw StoreError("\(path): cannot read the crash record: \(String(cString: strerror(errno)))")
        }
        guard st.st_mode & S_IFMT == S_IFREG else { throw StoreError("\(path): not a regular file, so not a crash record") }
        guard st.st_size <= maxFileBytes else { throw StoreError("\(path): \(st.st_size) bytes, too large for a crash record") }
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError("\(path): cannot read the crash record: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            done += n
        }
        return try parse(Array(bytes.prefix(done)), name: path)
    }

    /// Parses the bytes of a crash file named `name` (for messages).
    package static func parse(_ bytes: [UInt8], name: String) throws -> CrashRecord {
        var r = ByteReader(bytes: bytes, name: name)
        guard bytes.count >= headerSize else {
            throw StoreError("\(name): a damaged crash record (\(bytes.count) bytes, shorter than its \(headerSize)-byte header)")
        }
        guard Array(bytes.prefix(8)) == magic else { throw StoreError("\(name): not a crash record (bad magic)") }
        r.offset = 8
        let version = try r.u32()
        guard version == CrashFile.version else {
            throw StoreError("\(name): crash record version \(version), this tool reads version \(CrashFile.version)")
        }
        guard try r.u32() == UInt32(headerSize) else { throw StoreError("\(name): a damaged crash record (bad header size)") }
        let signal = Int64(try r.i32())
        let code = Int64(try r.i32())
        let address = Int64(bitPattern: try r.u64())
        let runID = Int64(bitPattern: try r.u64())
        let pid = Int64(try r.i32())
        let crashedTID = Int64(try r.i32())
        _ = try r.u32()  // the session's epoch
        _ = try r.u32()
        let clock = Clock(
            nsPerTick: Double(bitPattern: try r.u64()), tickOrigin: try r.u64(), nsOrigin: try r.u64(),
            sessionStart: try r.u64())
        let crashTick = try r.u64()
        guard (1...64).contains(signal), runID >= 1, runID < 1 << 53, pid > 0, clock.isValid else {
            throw StoreError("\(name): a damaged crash record (signal \(signal), run \(runID), pid \(pid) out of range)")
        }
        let crashNanoseconds = try clock.nanoseconds(crashTick, name)

        var threads: [CrashRecord.ThreadStack] = []
        var ended = false
        while r.offset < bytes.count {
            let (type, payload) = try r.record()
            switch type {
            case 1:
                guard payload.count == 16 else { throw r.damaged("a thread record of \(payload.count) bytes") }
                var p = ByteReader(bytes: payload, name: name)
                let index = Int64(try p.u16())
                let crashed = try p.u8() != 0
                _ = try p.u8()
                let tid = Int64(try p.i32())
                let open = Int(try p.u32())
                let last = Int(try p.u32())
                guard open <= maxSpansPerThread, last <= maxSpansPerThread else { throw r.damaged("a thread with \(open) + \(last) spans") }
                threads.append(CrashRecord.ThreadStack(index: index, osThreadID: tid, crashed: crashed, open: [], last: []))
            case 2, 3:
                guard !threads.isEmpty else { throw r.damaged("a span before any thread") }
                let span = try parseSpan(payload, open: type == 2, clock: clock, crashNanoseconds: crashNanoseconds, r)
                if type == 2 { threads[threads.count - 1].open.append(span) } else { threads[threads.count - 1].last.append(span) }
                guard threads[threads.count - 1].open.count + threads[threads.count - 1].last.count <= maxSpansPerThread else {
                    throw r.damaged("too many spans on one thread")
                }
            case 4:
                guard payload.count == 4 else { throw r.damaged("an end record of \(payload.count) bytes") }
                var p = ByteReader(bytes: payload, name: name)
                guard Int(try p.u32()) >= threads.count else { throw r.damaged("an end record that counts fewer threads") }
                ended = true
            default:
                throw r.damaged("an unknown record type \(type)")
            }
            if ended { break }
        }
        guard ended else {
            throw StoreError("\(name): a damaged crash record (truncated: it ends at byte \(bytes.count) without its end record)")
        }
        return CrashRecord(
            runID: runID, signal: signal, code: code, address: address, pid: pid, osThreadID: crashedTID,
            crashNanoseconds: crashNanoseconds, threads: threads)
    }

    /// kind, flags, depth, step, subject, shapes, id, start, end, three text lengths, the texts.
    static func parseSpan(_ payload: [UInt8], open: Bool, clock: Clock, crashNanoseconds: Int64, _ outer: ByteReader) throws
        -> CrashRecord.Span
    {
        guard payload.count >= 48 else { throw outer.damaged("a span record of \(payload.count) bytes") }
        var p = ByteReader(bytes: payload, name: outer.name)
        let kindCode = try p.u8()
        _ = try p.u8()
        let depth = Int64(try p.u16())
        let step = Int64(try p.u32())
        let subject = Int64(try p.u32())
        _ = try p.u32()
        let id = try p.u64()
        let start = try p.u64()
        let end = try p.u64()
        let lengths = [Int(try p.u16()), Int(try p.u16()), Int(try p.u16())]
        _ = try p.u16()
        guard lengths.allSatisfy({ $0 <= maxText }), 48 + lengths.reduce(0, +) == payload.count else {
            throw outer.damaged("a span record whose text lengths do not add up")
        }
        let texts = try lengths.map { try p.text($0) }
        let kind = SpanKind(rawValue: kindCode)
        guard id < 1 << 53 else { throw outer.damaged("span id \(id)") }
        let startNanoseconds = try clock.nanoseconds(start, outer.name)
        let duration: Int64
        if open {
            duration = max(0, crashNanoseconds &- startNanoseconds)
        } else {
            guard end >= start, end &- start < 1 << 62 else { throw outer.damaged("a span that ends before it starts") }
            duration = try clock.nanoseconds(end, outer.name) &- startNanoseconds
            guard duration >= 0 else { throw outer.damaged("a span that ends before it starts") }
        }
        let name: String
        var moduleType: String?
        switch kind {
        case .forward, .backward:
            moduleType = texts[1].isEmpty ? nil : texts[1]
            name = texts[0].isEmpty ? (moduleType ?? "module \(subject)") : texts[0]
        case .step: name = "ProfilerStep#\(subject)"
        default: name = texts[0].isEmpty ? "?" : texts[0]
        }
        return CrashRecord.Span(
            spanID: Int64(id), kind: kind?.name ?? "kind \(kindCode)", name: name, moduleType: moduleType,
            inputShapes: texts[2].isEmpty ? nil : texts[2], step: step, depth: depth, startNanoseconds: startNanoseconds,
            durationNanoseconds: duration)
    }

    /// The handler's tick calibration, checked.
    struct Clock {
        var nsPerTick: Double
        var tickOrigin: UInt64
        var nsOrigin: UInt64
        var sessionStart: UInt64

        var isValid: Bool { nsPerTick.isFinite && nsPerTick >= 1e-6 && nsPerTick < 1000 && nsOrigin < 1 << 62 && sessionStart < 1 << 62 }

        /// Nanoseconds from the run's time zero at `ticks`.
        func nanoseconds(_ ticks: UInt64, _ name: String) throws -> Int64 {
            let delta = Double(Int64(bitPattern: ticks &- tickOrigin)) * nsPerTick
            let value = Double(nsOrigin) + delta - Double(sessionStart)
            guard value.isFinite, abs(value) < 1e17 else { throw StoreError("\(name): a damaged crash record (a timestamp out of range)") }
            return Int64(value.rounded())
        }
    }
}

/// Little-endian reads that throw at the end of the bytes.
struct ByteReader {
    let bytes: [UInt8]
    let name: String
    var offset = 0

    func damaged(_ what: String) -> StoreError { StoreError("\(name): a damaged crash record (\(what) at byte \(offset))") }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - offset else {
            throw StoreError("\(name): a damaged crash record (truncated at byte \(bytes.count))")
        }
        defer { offset += n }
        return bytes[offset..<offset + n]
    }

    mutating func unsigned(_ n: Int) throws -> UInt64 {
        try take(n).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
    mutating func u8() throws -> UInt8 { UInt8(try unsigned(1)) }
    mutating func u16() throws -> UInt16 { UInt16(try unsigned(2)) }
    mutating func u32() throws -> UInt32 { UInt32(try unsigned(4)) }
    mutating func i32() throws -> Int32 { Int32(bitPattern: try u32()) }
    mutating func u64() throws -> UInt64 { try unsigned(8) }
    /// UTF-8 text (invalid sequences replaced).
    mutating func text(_ n: Int) throws -> String { String(decoding: try take(n), as: UTF8.self) }

    /// A record's type and payload (a 2-byte type, 2 reserved, a 4-byte length).
    mutating func record() throws -> (UInt16, [UInt8]) {
        let type = try u16()
        _ = try u16()
        let length = Int(try u32())
        guard length <= 16 + 3 * CrashFile.maxText + 48 else { throw damaged("a record of \(length) bytes") }
        return (type, Array(try take(length)))
    }
}

import Foundation
import Testing
import TraceStore

/// SplitMix64: the same mutations on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

@Suite("Fuzzing tracectl with mutated traces")
struct FuzzTests {
    /// Columns a crafted file may set, and values that break naive readers.
    static let columns = [
        ("span_data", "dur"), ("span_data", "ts"), ("span_data", "up"), ("span_data", "sig"), ("span_data", "step"),
        ("span_data", "live"), ("span_data", "peak"), ("signatures", "kind"), ("signatures", "id"),
        ("signatures", "module_id"), ("signatures", "depth"), ("signatures", "input_shapes"),
        ("runs", "first_span_id"), ("runs", "end_wall_ns"), ("runs", "span_count"), ("steps", "base_ns"),
        ("steps", "first_span_id"), ("modules", "parent_id"), ("modules", "id"), ("span_stats", "histogram"),
        ("span_stats", "calls"), ("meta", "value"), ("strings", "text"), ("shapes", "text"),
    ]
    static let values = [
        "9223372036854775807", "-9223372036854775808", "4000000000000", "-1", "0", "NULL", "'x\"y\\\\'",
        "x'00ff00ff'", "2147483648", "65536", "1e300", "'[1,2'",
    ]

    /// Mutated copies of one trace (truncated, bytes flipped, crafted values), each through one subcommand
    /// (every subcommand in turn): no crash, no hang, a documented status and at most one line on stderr.
    @Test func mutatedTracesNeverCrashTheTools() throws {
        let base = temporaryPath("base.sqlite")
        try SyntheticTrace(steps: 4).write(to: base)
        let original = try Data(contentsOf: URL(fileURLWithPath: base))
        var random = SeededGenerator(state: 20_261_201)
        let files = 260
        var failures = 0
        for i in 0..<files {
            let path = temporaryPath("fuzz-\(i).sqlite")
            var what: String
            switch i % 3 {
            case 0:
                let length = Int.random(in: 0..<original.count, using: &random)
                try original.prefix(length).write(to: URL(fileURLWithPath: path))
                what = "truncated to \(length) bytes"
            case 1:
                var bytes = original
                let flips = Int.random(in: 1...16, using: &random)
                for _ in 0..<flips { bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random) }
                try bytes.write(to: URL(fileURLWithPath: path))
                what = "\(flips) bytes flipped"
            default:
                try original.write(to: URL(fileURLWithPath: path))
                let (table, column) = FuzzTests.columns.randomElement(using: &random)!
                let value = FuzzTests.values.randomElement(using: &random)!
                let offset = Int.random(in: 0..<20, using: &random)
                let sql =
                    "UPDATE OR IGNORE \(table) SET \(column) = \(value) WHERE rowid IN (SELECT rowid FROM \(table) LIMIT 3 OFFSET \(offset))"
                let withoutRowid = ["meta", "modules", "steps", "span_stats"].contains(table)
                // A value the column's type refuses (a text id) leaves the file as it was: fine.
                try? Database(path: path, mode: .readWrite).execute(
                    withoutRowid ? "UPDATE OR IGNORE \(table) SET \(column) = \(value)" : sql)
                what = "\(table).\(column) = \(value)"
            }
            let commands = everySubcommand(path)
            let arguments = commands[i % commands.count]
            let (o, timedOut, signaled) = try runBounded(arguments, seconds: 20)
            let lines = o.stderr.split(separator: "\n").filter { !$0.hasPrefix("wrote ") }
            let ok = !timedOut && !signaled && [0, 1, 2].contains(o.status) && lines.count <= 1
            if !ok {
                failures += 1
                Issue.record(
                    "file \(i) (\(what)): tracectl \(arguments[0]) \(timedOut ? "hung" : signaled ? "crashed" : "exited \(o.status)"): \(o.stderr.prefix(300))"
                )
            }
            if failures > 5 { break }
        }
    }
}

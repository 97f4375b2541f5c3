import Foundation
import Testing
import TraceStore
import TraceTools

/// Every reading subcommand, on `path`.
func everySubcommand(_ path: String) -> [[String]] {
    [
        ["runs", path], ["report", path], ["report", path, "--steps", "1..2"], ["report", path, "--format", "json"],
        ["export", "chrome", path, "-o", temporaryPath("out.json")],
        ["export", "chrome", path, "-o", temporaryPath("out.json"), "--steps", "1"],
        ["graph", path], ["graph", path, "--format", "dot"], ["graph", path, "--level", "modules"], ["graph", path, "--format", "json"],
        ["bypass", path], ["diff", path, path], ["query", path, "SELECT * FROM spans LIMIT 5"],
    ]
}

/// Runs tracectl, killing it after `seconds` (a hang fails the test instead of blocking it).
func runBounded(_ arguments: [String], seconds: Double = 20) throws -> (outcome: ChildOutcome, timedOut: Bool, signaled: Bool) {
    let outcome = try runChild(tracectl, arguments, timeout: seconds)
    return (outcome, outcome.timedOut, outcome.signaled)
}

/// Changes a fixture with SQL through a writable connection.
func craft(_ sql: String, steps: Int = 5) throws -> String {
    let path = temporaryPath("crafted.sqlite")
    try SyntheticTrace(steps: steps).write(to: path)
    let db = try Database(path: path, mode: .readWrite)
    try db.execute(sql)
    return path
}

/// No crash, no hang, at most one line on stderr, and a documented status.
func expectSurvives(_ path: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    for arguments in everySubcommand(path) {
        let (o, timedOut, signaled) = try runBounded(arguments)
        let label = "\(what): tracectl \(arguments.dropLast(arguments.first == "query" ? 1 : 0).joined(separator: " "))"
        #expect(!timedOut, "\(label) hung", sourceLocation: sourceLocation)
        #expect(!signaled, "\(label) crashed: \(o.stderr)", sourceLocation: sourceLocation)
        #expect([0, 1, 2].contains(o.status), "\(label) exited \(o.status)", sourceLocation: sourceLocation)
        let lines = o.stderr.split(separator: "\n").filter { !$0.hasPrefix("wrote ") }
        #expect(lines.count <= 1, "\(label) printed \(lines.count) lines: \(o.stderr)", sourceLocation: sourceLocation)
        if o.status == 2 {
            #expect(lines.count == 1 && lines[0].hasPrefix("tracectl: "), "\(label): \(o.stderr)", sourceLocation: sourceLocation)
        }
    }
}

@Suite("Damaged and crafted traces")
struct DamagedTraceTests {
    @Test func aFifoIsRefusedWithoutBlocking() throws {
        let path = temporaryPath("fifo.sqlite")
        #expect(mkfifo(path, 0o644) == 0)
        for arguments in everySubcommand(path) {
            let (o, timedOut, _) = try runBounded(arguments, seconds: 10)
            #expect(!timedOut, "\(arguments[0]) hung on a FIFO")
            #expect(o.status == 2)
            #expect(o.stderr == "tracectl: \(path): not a regular file (a pipe, socket or device), so not a trace\n")
        }
    }

    @Test(arguments: [
        ("duration Int64.max", "UPDATE span_data SET dur = 9223372036854775807 WHERE id = 3"),
        ("timestamp near Int64.max", "UPDATE span_data SET ts = 9223372036854775000 WHERE id = 4"),
        ("negative duration", "UPDATE span_data SET dur = -5 WHERE id = 4"),
        ("unknown signature kind", "UPDATE signatures SET kind = 99 WHERE id = 2"),
        (
            "signature id 4e12",
            "UPDATE signatures SET id = 4000000000000 WHERE id = 3; UPDATE span_data SET sig = 4000000000000 WHERE sig = 3"
        ),
        ("signature id Int64.max", "UPDATE signatures SET id = 9223372036854775807 WHERE id = 3"),
        ("huge first_span_id", "UPDATE runs SET first_span_id = 9223372036854775000"),
        ("negative first_span_id", "UPDATE runs SET first_span_id = -9223372036854775000"),
        ("parent offset Int64.min", "UPDATE span_data SET up = -9223372036854775808 WHERE id = 5"),
        ("end before start", "UPDATE runs SET end_wall_ns = -9223372036854775808"),
        ("live bytes Int64.max", "UPDATE span_data SET live = 9223372036854775807, peak = 9223372036854775807 WHERE id = 6"),
        (
            "graph node module -1",
            """
            INSERT INTO graphs VALUES (1, 1, 0, 'step 0', '%x : Float(2)', '%1');
            INSERT INTO graph_nodes VALUES (1, 0, 'relu', '%1', 'Float(2)', '%x', -1, -7);
            INSERT INTO graph_calls VALUES (1, 0, -3, 9223372036854775807, -1);
            """
        ),
        ("graph step -1", "INSERT INTO graphs VALUES (1, 1, -1, 'step', '', '')"),
        (
            "module parent cycle",
            "UPDATE modules SET parent_id = id + 1; UPDATE modules SET parent_id = 1 WHERE id = (SELECT max(id) FROM modules)"
        ),
        ("step base Int64.min", "UPDATE steps SET base_ns = -9223372036854775808"),
    ])
    func craftedValuesGiveOneLineNotACrash(_ what: String, _ sql: String) throws {
        try expectSurvives(try craft(sql), what)
    }

    @Test func aDeepModuleChainDoesNotOverflowTheStack() throws {
        var sql = "BEGIN; DELETE FROM modules;"
        sql += "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
        sql += "INSERT INTO modules SELECT 1, i, 'm' || i, 'Linear', CASE i WHEN 1 THEN NULL ELSE i - 1 END, 0, 0, '', 1, i FROM n;"
        sql += "INSERT INTO graphs VALUES (1, 1, 0, 'step 0', '', ''); "
        sql += "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
        sql += "INSERT INTO graph_calls SELECT 1, i, CASE i WHEN 1 THEN NULL ELSE i - 1 END, i, 1 FROM n; COMMIT;"
        let path = try craft(sql, steps: 2)
        for arguments in [
            ["report", path], ["graph", path, "--level", "modules"], ["graph", path, "--level", "modules", "--format", "dot"],
        ] {
            let (o, timedOut, signaled) = try runBounded(arguments, seconds: 60)
            #expect(!timedOut && !signaled, "\(arguments[0]): \(o.stderr)")
            #expect(o.status == 0, "\(arguments[0]): \(o.stderr)")
        }
    }

    @Test func aFileThatIsNotATraceOrIsDamagedIsNamedSo() throws {
        let text = temporaryPath("text.sqlite")
        try "hello".write(toFile: text, atomically: true, encoding: .utf8)
        #expect(try run(["runs", text]).stderr == "tracectl: \(text): not a SQLite database\n")
        let empty = temporaryPath("empty.sqlite")
        FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(try run(["runs", empty]).stderr == "tracectl: \(empty): an empty file, not a trace\n")
        // A real trace with its pages overwritten past the header.
        let damaged = temporaryPath("damaged.sqlite")
        try SyntheticTrace(steps: 3).write(to: damaged)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: damaged))
        for i in 100..<min(bytes.count, 8192) { bytes[i] = 0xA5 }
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let o = try run(["runs", damaged])
        #expect(o.status == 2)
        #expect(o.stderr.hasPrefix("tracectl: \(damaged): a damaged SQLite database"), "\(o.stderr)")
    }

    @Test func diffOnAFileWithoutRunsSaysSo() throws {
        let path = try craft("DELETE FROM runs")
        #expect(try run(["diff", path]).stderr == "tracectl: diff: \(path) holds no runs; name a second file or --base-run\n")
    }

    @Test func usageErrorsTakeOneLine() throws {
        let o = try run(["report"])
        #expect(o.status == 2)
        #expect(o.stderr.split(separator: "\n").count == 1, "\(o.stderr)")
        #expect(o.stderr.hasPrefix("tracectl: "))
    }
}

@Suite("Traces on read-only file systems")
struct ReadOnlyTests {
    func sh(_ arguments: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// A WAL trace with no `-shm` beside it on a read-only mount (SQLite alone says "unable to
    /// open database file"). Needs a bind mount, so it runs where the tests run as root.
    @Test func aWALTraceOnAReadOnlyMountIsReadImmutable() throws {
        let source = temporaryPath("t.sqlite")
        try SyntheticTrace(steps: 3).write(to: source)
        let mountPoint = temporaryPath("ro")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let folder = URL(fileURLWithPath: source).deletingLastPathComponent().path
        guard getuid() == 0, sh(["mount", "--bind", folder, mountPoint]) == 0 else { return }
        defer { _ = sh(["umount", mountPoint]) }
        guard sh(["mount", "-o", "remount,bind,ro", mountPoint]) == 0 else { return }
        let o = try run(["runs", mountPoint + "/t.sqlite", "--format", "csv"])
        #expect(o.status == 0, "\(o.stderr)")
        #expect(o.stdout.split(separator: "\n").count == 2, "the header and run 1")
    }
}

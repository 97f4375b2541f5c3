import Foundation
import Testing
import TraceStore
import TraceTools

@Suite("tracectl subcommands on a generated trace")
struct CommandTests {
    @Test func runs() throws {
        let path = try fixture()
        let out = try run(["runs", path])
        #expect(out.status == 0)
        try expectGolden(out.stdout, "runs.txt")
        let json = try run(["runs", path, "--format", "json"])
        try expectGolden(json.stdout, "runs.json")
    }

    @Test func report() throws {
        let path = try fixture()
        let latest = try run(["report", path])
        #expect(latest.status == 0)
        try expectGolden(latest.stdout, "report.txt")
        let first = try run(["report", path, "--run", "1", "--steps", "1..3", "--sort", "total", "--top", "3"])
        try expectGolden(first.stdout, "report-run1-steps-sorted.txt")
        let json = try run(["report", path, "--run", "1", "--depth", "0", "--format", "json"])
        try expectGolden(json.stdout, "report-run1.json")
        let csv = try run(["report", path, "--format", "csv"])
        try expectGolden(csv.stdout, "report.csv")
    }

    @Test func reportNumbersAreExact() throws {
        let path = try fixture()
        let reader = try TraceReader(path: path)
        let report = try Report(reader: reader, run: 1)
        // Five steps, each calling every module once forward and once backward.
        let fc1 = try #require(report.modules.first { $0.module.path == "fc1" })
        #expect(fc1.forward.calls == 5 && fc1.backward.calls == 5)
        #expect(fc1.allocated == 5 * (65_536 + 65_536 + 200_960 * 4))
        let model = try #require(report.modules.first { $0.module.path == "" && $0.module.type == "MLP" })
        let children = report.modules.filter { $0.module.parentID == model.module.id }.reduce(0) { $0 + $1.forward.total }
        #expect(model.forward.selfTime == model.forward.total - children)
        #expect(report.neverRan.map(\.module.path) == ["unused"])
        #expect(report.bypasses.map(\.evidence) == ["never_ran"])
        #expect(report.stepCount == 5)
        let check = try reader.db.scalar("SELECT sum(dur_ns) FROM spans WHERE run_id = 1 AND kind = 'step'")
        #expect(report.stepTime == check)
        // The statistics the writer stored agree with a scan of the spans.
        let scanned = try Report(reader: reader, run: 1, steps: 0...4)
        for (a, b) in zip(report.modules, scanned.modules) {
            #expect(a.module.id == b.module.id)
            #expect(a.forward.total == b.forward.total && a.forward.selfTime == b.forward.selfTime, "\(a.module.displayName)")
            #expect(a.backward.total == b.backward.total && a.backward.selfTime == b.backward.selfTime)
            #expect(a.allocated == b.allocated && a.peak == b.peak && a.forward.p95 == b.forward.p95)
        }
    }

    @Test func query() throws {
        let path = try fixture()
        let sql = "SELECT kind, count(*) AS spans, max(depth) AS deepest FROM spans WHERE run_id = 1 GROUP BY kind ORDER BY kind"
        let table = try run(["query", path, sql])
        #expect(table.status == 0)
        try expectGolden(table.stdout, "query.txt")
        #expect(
            try run(["query", path, sql, "--format", "json"]).stdout == """
                [{"kind":"backward","spans":35,"deepest":3}
                ,{"kind":"forward","spans":35,"deepest":2}
                ,{"kind":"optimizer","spans":10,"deepest":1}
                ,{"kind":"range","spans":10,"deepest":1}
                ,{"kind":"step","spans":5,"deepest":0}
                ]

                """)
        #expect(try run(["query", path, "SELECT 'a,b' AS x, NULL AS y", "--format", "csv"]).stdout == "x,y\n\"a,b\",\n")
        // A closing semicolon and a trailing comment are not a second statement.
        #expect(try run(["query", path, "SELECT count(*) AS n FROM runs; -- both", "--format", "csv"]).stdout == "n\n2\n")
    }

    @Test func queryIsReadOnly() throws {
        let path = try fixture()
        for sql in [
            "DELETE FROM span_data", "DROP TABLE runs", "INSERT INTO meta VALUES ('a', 'b')",
            "ATTACH DATABASE '/tmp/x.db' AS x", "CREATE TABLE t(x)",
        ] {
            let out = try run(["query", path, sql])
            #expect(out.status == 2, "\(sql)")
            #expect(out.stderr == "tracectl: query: only read-only statements are allowed; this one writes\n", "\(sql)")
        }
        let bad = try run(["query", path, "SELEC 1"])
        #expect(bad.status == 2)
        #expect(bad.stderr == "tracectl: query: near \"SELEC\": syntax error\n")
        #expect(try TraceReader(path: path).runs().count == 2)
    }

    @Test func inputErrorsAreOneLine() throws {
        let text = temporaryPath("notes.txt")
        try "not a database".write(toFile: text, atomically: true, encoding: .utf8)
        let plain = temporaryPath("plain.sqlite")
        try Database(path: plain, mode: .readWrite).execute("CREATE TABLE t(x)")
        let newer = try fixture()
        try Database(path: newer, mode: .readWrite).execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        let good = try fixture()
        let cases: [([String], String)] = [
            (["report", "/nonexistent.sqlite"], "tracectl: /nonexistent.sqlite: no such file\n"),
            (["report", text], "tracectl: \(text): not a SQLite database\n"),
            (["runs", plain], "tracectl: \(plain): a SQLite database, but not a trace (no meta/runs/span_data tables)\n"),
            (["report", newer], "tracectl: \(newer): trace schema version 2 is newer than this tool's (1); use a newer tracectl\n"),
            (["report", good, "--run", "9"], "tracectl: \(good): no run 9 (runs: 1, 2)\n"),
            (["export", "chrome", good, "--run", "9", "-o", temporaryPath("x.json")], "tracectl: \(good): no run 9 (runs: 1, 2)\n"),
            (["report", good, "--steps", "7..9"], "tracectl: run 2 has no steps 7..9 (it has steps 0..3)\n"),
            (
                ["export", "chrome", good, "--steps", "12", "-o", temporaryPath("x.json")],
                "tracectl: run 2 has no step 12 (it has steps 0..3)\n"
            ),
            (["query", good, "SELECT 1; DELETE FROM runs"], "tracectl: query: one statement at a time: there is more after the first\n"),
            (["query", good, " -- nothing"], "tracectl: query: no SQL statement (the text is empty or only comments)\n"),
        ]
        for (arguments, message) in cases {
            let out = try run(arguments)
            #expect(out.status == 2, "\(arguments)")
            #expect(out.stderr == message)
            #expect(out.stdout.isEmpty)
        }
        let usage = try run(["report", good, "--steps", "3..1"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("--steps"))
        let missing = try run(["export", "chrome", good, "-o", temporaryPath("x.txt")])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("must end in .json or .json.gz"))
        #expect(try run(["--help"]).status == 0)
    }

    @Test func diff() throws {
        let path = try fixture()
        let out = try run(["diff", path])
        #expect(out.status == 0)
        try expectGolden(out.stdout.replacingOccurrences(of: path, with: "fixture.sqlite"), "diff.txt")
        let other = temporaryPath("other.sqlite")
        try SyntheticTrace(steps: 5).write(to: other)
        let files = try run(["diff", path, other, "--base-run", "1", "--format", "json"])
        #expect(files.stdout.contains("\"only_in_base\":[],\"only_in_new\":[]"))
        #expect(files.stdout.contains("{\"module\":\"fc1\",\"type\":\"Linear\",\"base_time_ns\":"))
    }

    @Test func bypassIsACheck() throws {
        let path = try fixture()
        let out = try run(["bypass", path])
        #expect(out.status == 1)
        try expectGolden(out.stdout, "bypass.txt")
        let json = try run(["bypass", path, "--format", "json"])
        #expect(
            json.stdout.hasPrefix(
                "{\"run\":2,\"bypasses\":[{\"module\":\"unused\",\"type\":\"Dropout\",\"root\":\"MLP\",\"caller\":\"MLP\",\"evidence\":\"never_ran\""
            ))
    }

    @Test func bypassOfAnIncompleteRunIsUnknown() throws {
        let path = temporaryPath("killed.sqlite")
        try SyntheticTrace(steps: 3).write(to: path)
        // What a killed process leaves: the run is not marked complete and findings were never written.
        try Database(path: path, mode: .readWrite).execute("UPDATE runs SET status = 'incomplete'; DELETE FROM bypasses")
        let out = try run(["bypass", path])
        #expect(out.status == 2)
        #expect(out.stdout.isEmpty)
        #expect(
            out.stderr == "tracectl: run 1 is incomplete (still running, or its process was killed): "
                + "bypass findings are written when a run ends, so none are known\n")
        let report = try run(["report", path])
        #expect(report.status == 0)
        #expect(report.stdout.contains("\nBypasses: unknown. They are written when a run ends, and this run is incomplete"))
        #expect(!report.stdout.contains("No bypasses"))
    }
}

@Suite("tracectl record")
struct RecordTests {
    var train: String { tracectl.deletingLastPathComponent().appendingPathComponent("train").path }

    @Test func recordsAProgramBuiltOnTheRuntime() throws {
        let output = temporaryPath("recorded.sqlite")
        let out = try run([
            "record", "-o", output, "--options", "noshapes", "--", train, "--steps", "3", "--no-trace",
            "--log-format", "jsonl",
        ])
        #expect(out.status == 0)
        #expect(out.stderr.contains("trace: \(output) (run 1, complete, "))
        let reader = try TraceReader(path: output)
        #expect(try reader.run(nil).options.contains("\"shapes\":false"))
        #expect(try reader.db.scalar("SELECT count(*) FROM spans WHERE kind = 'forward' AND name = 'fc1'") ?? 0 >= 3)
        #expect(out.stdout.split(separator: "\n").count == 3, "the program's own output passes through")
    }

    @Test func aProgramThatDoesNotTraceIsAnError() throws {
        let output = temporaryPath("none.sqlite")
        let out = try run(["record", "-o", output, "--", "true"])
        #expect(out.status == 2)
        #expect(
            out.stderr == "tracectl: record: true wrote no trace to \(output); is it built on the Tracewell runtime (linking Profiler)?\n")
        let failing = try run(["record", "-o", output, "--", train, "--steps", "0"])
        #expect(failing.status != 0)
    }
}

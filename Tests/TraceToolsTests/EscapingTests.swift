import Foundation
import Testing
import TraceStore
import TraceTools

/// A fixture whose user-range names are `names` (its `data` and `backward` ranges renamed).
func fixtureNamed(_ data: String, _ backward: String) throws -> String {
    let path = temporaryPath("names.sqlite")
    try SyntheticTrace(steps: 3).write(to: path)
    let db = try Database(path: path, mode: .readWrite)
    try db.prepare("UPDATE strings SET text = ? WHERE text = 'data'").run([.text(data)])
    try db.prepare("UPDATE strings SET text = ? WHERE text = 'backward'").run([.text(backward)])
    return path
}

@Suite("Names that are hard to print")
struct EscapingTests {
    @Test func aNameEndingInABackslashOrHoldingAQuoteKeepsTheExportValid() throws {
        let path = try fixtureNamed("load\\", "say \"hi\"\u{1b}[31m")
        try Database(path: path, mode: .readWrite).execute("UPDATE shapes SET text = '[64,\"784]' WHERE id = 1")
        let output = temporaryPath("names.json")
        #expect(try run(["export", "chrome", path, "-o", output]).status == 0)
        let (_, events) = try loadEvents(output)
        let names = Set(events.compactMap { $0["name"] as? String })
        #expect(names.contains("load\\") && names.contains("say \"hi\"\u{1b}[31m"))
        #expect(try String(contentsOfFile: output, encoding: .utf8).contains(#""load\u005c""#))
        guard let perfettoCheck else { return }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: perfettoCheck)
        check.arguments = [output, "--json"]
        let pipe = Pipe()
        check.standardOutput = pipe
        check.standardError = FileHandle.nullDevice
        try check.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        check.waitUntilExit()
        #expect(check.terminationStatus == 0, "Perfetto loads it")
        let result = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let slices = try #require((result["slices"] as? [[String: Any]])?.first)
        #expect(slices["n"] as? Int == 3 * 19, "every span is a slice")
    }

    @Test func tablesShowControlCharactersAndDotEscapesBackslashes() throws {
        let path = try fixtureNamed("bell\u{7}", "cr\r")
        let table = try run(["query", path, "SELECT DISTINCT name FROM spans WHERE kind = 'range' ORDER BY name"])
        #expect(table.stdout == "name\nbell\\u{7}\ncr\\u{d}\n")
        #expect(!table.stdout.contains("\u{7}") && !table.stdout.contains("\r"))
        try Database(path: path, mode: .readWrite).execute(
            """
            INSERT INTO graphs VALUES (1, 1, 0, 'step 0', '%x\\ : Float(2)', '%1');
            INSERT INTO graph_nodes VALUES (1, 0, 'relu', '%1', 'Float(2)', '%x\\', 2, NULL);
            """)
        let dot = try run(["graph", path, "--format", "dot"])
        #expect(dot.status == 0)
        #expect(dot.stdout.contains(#""%x\\" -> "%1";"#), "\(dot.stdout)")
    }

    @Test func namesWithANulStayDistinct() throws {
        let path = temporaryPath("nul.sqlite")
        let db = try Database(path: path, mode: .readWrite)
        try db.execute("CREATE TABLE t(text TEXT)")
        try db.prepare("INSERT INTO t VALUES (?), (?)").run([.text("load\u{0}a"), .text("load\u{0}b")])
        let s = try db.prepare("SELECT text FROM t ORDER BY rowid")
        var texts: [String] = []
        while try s.step() { texts.append(s.text(0)) }
        #expect(texts == ["load\u{0}a", "load\u{0}b"])
    }

    @Test func aQueryStopsAtItsTimeout() throws {
        let path = try fixture()
        let started = Date()
        let o = try run([
            "query", path, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n",
            "--timeout", "0.5",
        ])
        #expect(o.status == 2)
        #expect(o.stderr == "tracectl: query: stopped after 0.5 s (--timeout)\n")
        #expect(Date().timeIntervalSince(started) < 20)
    }
}

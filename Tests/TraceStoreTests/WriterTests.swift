import Foundation
import Testing
import TraceEvents
import TraceRuntime

@testable import TraceStore

func temporaryPath(_ name: String = "t.sqlite") -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracestore-tests-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

func newWriter(_ path: String) throws -> TraceWriter {
    try TraceWriter(
        path: path,
        run: RunDescription(
            name: "t", options: "{}", startWallNanoseconds: 1, command: "test",
            host: "h", pid: 1))
}

func write(_ writer: TraceWriter, _ records: [SpanRecord]) throws {
    try records.withUnsafeBufferPointer { try writer.write($0, dropped: 0) }
}

func scalar(_ path: String, _ sql: String) throws -> Int64? { try TraceReader(path: path).db.scalar(sql) }

@Suite("Trace writer")
struct WriterTests {
    @Test func aLongStepIsCommittedUnderAPlaceholderAndFilledInWhenItEnds() throws {
        let path = temporaryPath()
        let writer = try newWriter(path)
        try write(writer, [span(2, parent: 1, start: 10, end: 20, depth: 1)])
        try write(writer, [span(3, parent: 1, start: 30, end: 40, depth: 1)])
        // Committed after two batches, under a placeholder (sig 0) for the open step.
        #expect(try scalar(path, "SELECT count(*) FROM span_data WHERE sig = 0") == 1)
        #expect(try scalar(path, "SELECT count(*) FROM spans") == 2, "the view leaves the placeholder out")
        #expect(try scalar(path, "SELECT count(*) FROM spans WHERE parent_id = 1") == 2)
        try write(writer, [span(1, kind: .step, start: 0, end: 50)])
        #expect(try scalar(path, "SELECT count(*) FROM span_data WHERE sig = 0") == 0)
        #expect(try scalar(path, "SELECT dur_ns FROM spans WHERE kind = 'step'") == 50)
        try writer.finish(modules: [], bypasses: [], threads: [(0, 1)], endWallNanoseconds: 2, dropped: 0)
        #expect(try TraceReader(path: path).run(nil).runStatus == .complete)
        #expect(try TraceReader(path: path).run(nil).spanCount == 3)
    }

    @Test func aRunThatEndsInterruptedSaysSo() throws {
        let path = temporaryPath()
        let writer = try newWriter(path)
        try write(writer, [span(1, kind: .step)])
        try writer.finish(modules: [], bypasses: [], threads: [], endWallNanoseconds: 2, dropped: 0, status: .interrupted)
        #expect(try TraceReader(path: path).run(nil).status == "interrupted")
    }
}

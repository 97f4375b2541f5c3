import Foundation
import Modules
import Tensors
import Testing
import TraceRuntime
import TraceStore

@testable import Profiler

extension Tracing {
    @Suite("Trace sessions, schedules and safety")
    struct SessionTests {
        @Test func scheduleRecordsOnlyActiveSteps() throws {
            let m = Linear(3, 2)
            var ready: [Int64] = []
            let path = temporaryTrace()
            let profiler = Profiler(output: path, schedule: ProfilerSchedule(wait: 1, warmup: 1, active: 2, repeat: 2), runName: "sched")
            profiler.onTraceReady = { ready.append($0.runID) }
            try startAlone(profiler)
            for _ in 0..<10 {
                _ = try m(Tensor.ones([1, 3]))
                profiler.step()
            }
            let results = profiler.stop()
            #expect(ready == [1, 2])
            #expect(results.map(\.steps) == [2...3, 6...7])
            let steps = try rows(path, "SELECT run_id, step, count(*) FROM spans WHERE name = 'Linear' GROUP BY run_id, step ORDER BY 1, 2")
            #expect(
                steps == [
                    [.int(1), .int(2), .int(1)], [.int(1), .int(3), .int(1)],
                    [.int(2), .int(6), .int(1)], [.int(2), .int(7), .int(1)],
                ])
            let stepSpans = try texts(path, "SELECT name FROM spans WHERE kind = 'step' ORDER BY id")
            #expect(stepSpans == ["ProfilerStep#2", "ProfilerStep#3", "ProfilerStep#6", "ProfilerStep#7"])
        }

        @Test func scheduleMatchesPyTorch() {
            // torch.profiler.schedule(skip_first=1, wait=1, warmup=1, active=2, repeat=1)
            let s = ProfilerSchedule(wait: 1, warmup: 1, active: 2, repeat: 1, skipFirst: 1)
            #expect((0..<7).map { s.action(at: $0) } == [.none, .none, .warmup, .record, .recordAndSave, .none, .none])
        }

        @Test func fullRingDropsAndCountsExactly() throws {
            var options = ProfilerOptions(shapes: false, memory: false)
            options.drainInterval = .seconds(3600)  // nothing drains until stop()
            let relu = ReLU()
            let x = Tensor.ones([1])
            let calls = 70_000
            let path = try profile(options) { _ in
                for _ in 0..<calls { _ = try relu(x) }
            }
            let run = try TraceReader(path: path).run(nil)
            // The ring holds 65536 spans; every other span of the 70000 calls and the step span is
            // dropped and counted.
            #expect(try rows(path, "SELECT count(*) FROM spans") == [[.int(65_536)]])
            #expect(run.droppedEvents == Int64(calls) + 1 - 65_536)
        }

        @Test func unwritablePathIsOneClearError() throws {
            let profiler = Profiler(output: "/proc/tracewell/cannot.sqlite")
            #expect {
                try startAlone(profiler)
            } throws: { error in
                "\(error)".contains("/proc/tracewell")
            }
            #expect(Profiler.active !== profiler, "a profiler that failed to start does not hold the tracer")
        }

        /// A size limit (which SQLite reports as a full disk, and we do not) stops tracing with one
        /// message; the program goes on and the file keeps every batch committed before.
        @Test func fullDiskStopsTracingNotTheProgram() throws {
            var options = ProfilerOptions()
            options.maxFileBytes = 256 * 1024
            options.drainInterval = .milliseconds(5)
            let path = temporaryTrace("full")
            let relu = ReLU()
            let profiler = Profiler(output: path, options: options, runName: "full")
            try startAlone(profiler)
            for _ in 0..<200 {
                for _ in 0..<500 { _ = try relu(Tensor.ones([1])) }
                profiler.step()
                if profiler.failure != nil { break }
                Thread.sleep(forTimeInterval: 0.002)
            }
            _ = try relu(Tensor.ones([1]))  // calls still work once tracing stopped
            profiler.stop()
            #expect(
                profiler.failure?.contains("the trace reached its size limit (ProfilerOptions.maxFileBytes = 262144 bytes)") == true,
                "a size limit is not called a full disk")
            let reader = try TraceReader(path: path)
            #expect(try reader.db.prepare("PRAGMA integrity_check").text0 == "ok")
            let run = try reader.run(nil)
            #expect(run.status == "incomplete")
            #expect(run.spanCount > 1000)
            #expect(try reader.db.scalar("SELECT count(*) FROM spans") == run.spanCount)
        }

        @Test func readerRefusesNewerSchemasAndNonTraces() throws {
            let path = temporaryTrace()
            try profile(path: path) { _ in }
            let db = try Database(path: path, mode: .readWrite)
            try db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
            #expect {
                _ = try TraceReader(path: path)
            } throws: { "\($0)".contains("schema version 99 is newer") }
            let text = temporaryTrace("plain")
            try "hello".write(toFile: text, atomically: true, encoding: .utf8)
            #expect { _ = try TraceReader(path: text) } throws: { "\($0)".hasSuffix("not a SQLite database") }
            let other = temporaryTrace("other")
            try Database(path: other, mode: .readWrite).execute("CREATE TABLE t(x)")
            #expect { _ = try TraceReader(path: other) } throws: { "\($0)".contains("not a trace") }
            #expect { _ = try TraceReader(path: "/nonexistent/x.sqlite") } throws: { "\($0)".contains("no such file") }
            let good = try profile { _ in }
            #expect { _ = try TraceReader(path: good).run(7) } throws: { "\($0)".contains("no run 7 (runs: 1)") }
        }

        @Test func severalRunsShareAFile() throws {
            let path = temporaryTrace()
            let m = ReLU()
            try profile(path: path) { _ in _ = try m(Tensor.ones([1])) }
            try profile(path: path) { _ in
                _ = try m(Tensor.ones([1]))
                _ = try m(Tensor.ones([1]))
            }
            let runs = try TraceReader(path: path).runs()
            #expect(runs.map(\.id) == [1, 2])
            let perRun = try rows(path, "SELECT run_id, count(*) FROM spans GROUP BY run_id")
            #expect(perRun == [[.int(1), .int(2)], [.int(2), .int(3)]])
        }
    }
}

extension Tracing {
    @Suite("Spans of long steps")
    struct LongStepTests {
        final class Slow: Module<Tensor, Tensor> {
            let child = ReLU()
            override func forward(_ x: Tensor) throws -> Tensor {
                var y = x
                for _ in 0..<12 {
                    y = try child(y)
                    Thread.sleep(forTimeInterval: 0.005)
                }
                return y
            }
        }

        /// Spans whose parents are still open after two drains are written under placeholder rows,
        /// which are filled in when the parents end: the tree comes out the same.
        @Test func openParentsAcrossBatches() throws {
            let model = Slow()
            var options = ProfilerOptions()
            options.drainInterval = .milliseconds(10)
            let path = try profile(options, watch: model) { p in
                for _ in 0..<2 {
                    _ = try model(Tensor.ones([2]))
                    p.step()
                }
            }
            let tree = try rows(
                path,
                """
                SELECT s.name, p.name, count(*) FROM spans s LEFT JOIN spans p ON p.id = s.parent_id
                GROUP BY 1, 2 ORDER BY 1, 2
                """)
            #expect(
                tree == [
                    [.text("ProfilerStep#0"), .null, .int(1)],
                    [.text("ProfilerStep#1"), .null, .int(1)],
                    [.text("Slow"), .text("ProfilerStep#0"), .int(1)],
                    [.text("Slow"), .text("ProfilerStep#1"), .int(1)],
                    [.text("child"), .text("Slow"), .int(24)],
                ])
            // Filled-in rows carry their real times: the step contains its children.
            let outside = try rows(
                path,
                """
                SELECT count(*) FROM spans s JOIN spans p ON p.id = s.parent_id
                WHERE s.ts_ns < p.ts_ns OR s.ts_ns + s.dur_ns > p.ts_ns + p.dur_ns
                """)
            #expect(outside == [[.int(0)]])
            let steps = try rows(path, "SELECT step, dur_ns > 50000000 FROM steps WHERE run_id = 1 ORDER BY step")
            #expect(steps == [[.int(0), .int(1)], [.int(1), .int(1)]])
            let placeholders = try rows(
                path,
                """
                SELECT count(*) FROM span_data WHERE sig = 0 AND id IN (SELECT parent_id FROM spans)
                """)
            #expect(placeholders == [[.int(0)]], "every placeholder was filled in")
        }
    }
}

import Foundation
import Testing
import TraceStore

/// The `train` executable next to this test bundle.
var trainExecutable: URL {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return exe.deletingLastPathComponent().appendingPathComponent("train")
}

@Suite("Traces of other processes")
struct ProcessTests {
    @Test func sigkillLeavesAValidIncompleteTrace() throws {
        let path = temporaryTrace()
        let train = Process()
        train.executableURL = trainExecutable
        train.arguments = ["--steps", "1000000", "--trace", path, "--log-format", "jsonl"]
        train.standardOutput = FileHandle.nullDevice
        try train.run()
        // Wait for the first committed batch, then kill without warning.
        let deadline = Date().addingTimeInterval(60)
        var committed: Int64 = 0
        while committed < 200 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            committed = (try? TraceReader(path: path).run(nil).spanCount) ?? 0
        }
        kill(train.processIdentifier, SIGKILL)
        train.waitUntilExit()
        #expect(train.terminationReason == .uncaughtSignal)

        let reader = try TraceReader(path: path)
        #expect(try reader.db.prepare("PRAGMA integrity_check").text0 == "ok")
        let run = try reader.run(nil)
        #expect(run.status == "incomplete")
        #expect(run.spanCount >= committed)
        let visible = try reader.db.scalar("SELECT count(*) FROM spans WHERE run_id = \(run.id)")
        #expect(visible == run.spanCount, "every committed span is readable through the view")
        // Modules and threads are named as they first appear, not only when the run ends.
        let unnamed = try reader.db.scalar(
            """
            SELECT count(DISTINCT s.module_id) FROM signatures s LEFT JOIN modules m
            ON m.run_id = s.run_id AND m.id = s.module_id
            WHERE s.run_id = \(run.id) AND s.module_id IS NOT NULL AND m.path IS NULL
            """)
        #expect(unnamed == 0)
        #expect(try reader.db.scalar("SELECT count(*) FROM modules WHERE run_id = \(run.id) AND type = 'Linear'") ?? 0 > 0)
        #expect(try reader.db.scalar("SELECT count(*) FROM threads WHERE run_id = \(run.id) AND name = 'main'") == 1)
    }

    @Test func environmentActivationWinsAndCountsOptimizerSteps() throws {
        let path = temporaryTrace("env")
        let ignored = temporaryTrace("ignored")
        let (status, message) = try runTrain(
            ["--steps", "5", "--trace", ignored],
            environment: ["TRACEWELL_TRACE": path, "TRACEWELL_OPTIONS": "ops,name=from-env"])
        #expect(status == 0)
        #expect(!FileManager.default.fileExists(atPath: ignored))
        let reader = try TraceReader(path: path)
        let run = try reader.run(nil)
        #expect(run.name == "from-env")
        #expect(run.status == "complete")
        #expect(run.options.contains("\"ops\":true"))
        let steps = try reader.db.scalar("SELECT count(*) FROM spans WHERE kind = 'step'")
        #expect(steps == 6, "five optimizer steps end five steps; the sixth is open at exit")
        let ops = try reader.db.scalar("SELECT count(*) FROM spans WHERE kind = 'op'") ?? 0
        #expect(ops > 0)
        #expect(message.contains("trace: \(path)"))
    }

    @Test func badEnvironmentOptionsAreOneLineAndTrainingGoesOn() throws {
        let (status, message) = try runTrain(
            ["--steps", "2", "--no-trace"],
            environment: ["TRACEWELL_TRACE": temporaryTrace(), "TRACEWELL_OPTIONS": "bogus"])
        #expect(status == 0)
        #expect(
            message
                == "tracewell: TRACEWELL_TRACE is set but tracing could not start: TRACEWELL_OPTIONS: unknown option 'bogus' (known: ops, noshapes, nomemory, nograph, name=, wait=, warmup=, active=, repeat=, skip_first=)\n"
        )
    }
}

/// Runs `train` with JSON log lines and returns its status and stderr.
func runTrain(_ arguments: [String], environment: [String: String]) throws -> (Int32, String) {
    let train = try runChild(trainExecutable, arguments + ["--log-format", "jsonl"], environment: environment)
    return (train.status, train.stderr)
}

extension Statement {
    var text0: String { (try? step()) == true ? text(0) : "" }
}

import Foundation
import Testing
import TraceStore

/// Starts `train` on `path` for many steps; returns once `spans` spans are committed.
func startLongTraining(_ path: String, spans: Int64 = 200, stderr: FileHandle? = nil) throws -> Process {
    let train = Process()
    train.executableURL = trainExecutable
    train.arguments = ["--steps", "1000000", "--trace", path, "--log-format", "jsonl"]
    train.standardOutput = FileHandle.nullDevice
    if let stderr { train.standardError = stderr }
    try train.run()
    let deadline = Date().addingTimeInterval(60)
    while (try? TraceReader(path: path).run(nil).spanCount) ?? 0 < spans && Date() < deadline {
        Thread.sleep(forTimeInterval: 0.1)
    }
    return train
}

func logFile() -> (path: String, handle: FileHandle) {
    let path = temporaryTrace("log") + ".txt"
    FileManager.default.createFile(atPath: path, contents: nil)
    return (path, FileHandle(forWritingAtPath: path)!)
}

@Suite("Traces that survive the process")
struct RobustnessTests {
    /// Only the .sqlite of a killed run is copied (no -wal, no -shm): it holds the committed batches.
    @Test func aKilledRunIsInTheMainFileWithinASecond() throws {
        let path = temporaryTrace()
        let train = try startLongTraining(path)
        Thread.sleep(forTimeInterval: 2)
        kill(train.processIdentifier, SIGKILL)
        train.waitUntilExit()
        let copy = temporaryTrace("copy")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        #expect(!FileManager.default.fileExists(atPath: copy + "-wal"))
        let reader = try TraceReader(path: copy)
        let run = try reader.run(nil)
        #expect(run.status == "incomplete")
        #expect(run.spanCount >= 200, "the batches committed more than a second before the kill are in the main file")
        #expect(try reader.db.scalar("SELECT count(*) FROM spans WHERE run_id = \(run.id)") == run.spanCount)
        #expect(try reader.db.prepare("PRAGMA integrity_check").text0 == "ok")
    }

    /// Two programs tracing to one file: the second gets a file of its own and says so.
    @Test func aSecondWriterTracesToAFreshFileBeside() throws {
        let path = temporaryTrace("shared")
        let first = try startLongTraining(path, stderr: logFile().handle)
        let (status, message) = try runTrain(["--steps", "30", "--trace", path], environment: [:])
        kill(first.processIdentifier, SIGINT)
        first.waitUntilExit()
        let beside = path.replacingOccurrences(of: "shared.sqlite", with: "shared-2.sqlite")
        #expect(status == 0)
        #expect(
            message.hasPrefix("tracewell: \(path) is being written by another process; this run is traced to \(beside)\n"), "\(message)")
        #expect(message.contains("trace: \(beside) (run 1,"))
        for file in [path, beside] {
            let reader = try TraceReader(path: file)
            let runs = try reader.runs()
            #expect(runs.count == 1, "\(file)")
            #expect(runs.first?.runStatus?.isFinished == true, "\(file)")
            #expect(try reader.db.scalar("SELECT count(*) FROM spans") == runs.first?.spanCount, "every span of \(file) is its run's")
        }
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalFinishesTheRunThenEndsTheProgram(_ signal: Int32) throws {
        let path = temporaryTrace()
        let log = logFile()
        let train = try startLongTraining(path, stderr: log.handle)
        kill(train.processIdentifier, signal)
        train.waitUntilExit()
        #expect(train.terminationReason == .uncaughtSignal)
        #expect(train.terminationStatus == signal, "the process ends with the signal's usual status")
        let name = signal == SIGINT ? "SIGINT" : "SIGTERM"
        let message = try String(contentsOfFile: log.path, encoding: .utf8)
        let reader = try TraceReader(path: path)
        let run = try reader.run(nil)
        #expect(message == "tracewell: \(name): trace written to \(path) (run \(run.id), interrupted, \(run.spanCount) spans)\n")
        #expect(run.status == "interrupted")
        #expect(try reader.db.scalar("SELECT count(*) FROM span_stats WHERE run_id = \(run.id)") ?? 0 > 0, "statistics written")
        #expect(try reader.db.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'signatures_by_module'") == 1, "indexes built")
        #expect(try reader.db.scalar("SELECT count(*) FROM spans WHERE run_id = \(run.id)") == run.spanCount)
        #expect(try reader.db.scalar("SELECT count(*) FROM modules WHERE run_id = \(run.id) AND type = 'Linear'") == 3)
    }

    /// A damaged file is refused with one line before anything is appended; training goes on.
    @Test func trainingGoesOnWhenTheFileIsDamaged() throws {
        let path = temporaryTrace("crafted")
        try SyntheticTrace(steps: 3).write(to: path)
        try Database(path: path, mode: .readWrite).execute("UPDATE signatures SET id = 9223372036854775807 WHERE id = 2")
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let (status, message) = try runTrain(["--steps", "5", "--trace", path], environment: [:])
        #expect(status == 0)
        #expect(
            message
                == "train: tracing disabled: cannot write the trace: \(path): a damaged trace (signatures id 9223372036854775807 is out of range); refusing to append a run to it\n"
        )
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "the file is not touched")
    }
}

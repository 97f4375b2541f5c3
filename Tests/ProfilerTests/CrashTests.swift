import Foundation
import Testing
import TraceStore

@testable import TraceTools

/// `tracectl`, built beside the test bundle.
var tracectlExecutable: URL { trainExecutable.deletingLastPathComponent().appendingPathComponent("tracectl") }

@Suite("Crash records (the flight recorder)")
struct CrashTests {
    /// Runs `train --demo-crash kind` into a fresh trace; returns the trace's path and how train ended.
    func crash(_ kind: String, backtracer: Bool = false) throws -> (String, ChildOutcome) {
        let path = temporaryTrace(kind)
        // The Swift runtime's backtracer (the handler chained to) takes seconds; one test keeps it.
        let outcome = try runChild(
            trainExecutable, ["--demo-crash", kind, "--trace", path],
            environment: backtracer ? [:] : ["SWIFT_BACKTRACE": "enable=no"])
        return (path, outcome)
    }

    @Test(arguments: [("fatal", SIGILL), ("index", SIGILL), ("segv", SIGSEGV), ("abort", SIGABRT), ("overflow", SIGSEGV)])
    func theReportNamesTheModuleThatWasRunning(kind: String, signal: Int32) throws {
        let (path, train) = try crash(kind, backtracer: kind == "segv")
        #expect(train.reason == .uncaughtSignal, "\(train.stderr)")
        #expect(train.status == signal, "the process dies of the same signal")
        #expect(FileManager.default.fileExists(atPath: path + ".crash"))
        if kind == "segv" { #expect(train.stderr.contains("Program crashed"), "the Swift backtracer still runs") }
        let names = [SIGILL: "SIGILL", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT"]

        let report = try runChild(tracectlExecutable, ["report", path])
        #expect(report.status == 0)
        #expect(report.stderr == "")
        let lines = report.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            lines.first
                == "crashed in `blocks.1.attn` (FaultyAttention), forward, input [8,16,32], step 3 — signal \(names[signal]!)")
        // The importing reader removed the file, and the run says it crashed.
        #expect(!FileManager.default.fileExists(atPath: path + ".crash"))
        #expect(try texts(path, "SELECT status FROM runs") == ["crashed"])
        #expect(lines.contains { $0.hasPrefix("run 1 \"train --demo-crash \(kind)\" (crashed)") })

        // The crashed thread's open stack, outermost first, and the other thread's.
        let crash = try #require(try TraceReader(path: path).crash(runID: 1))
        let main = try #require(crash.crashedThread)
        #expect(main.open.map(\.name) == ["ProfilerStep#3", "Model", "blocks.1", "blocks.1.attn"])
        #expect(main.open.map(\.kind) == ["step", "forward", "forward", "forward"])
        #expect(main.last.count == 32)
        #expect(main.last.last?.name == "blocks.1.attn.qkv", "the last span that ended before the crash")
        let other = try #require(crash.threads.first { !$0.crashed })
        #expect(other.open.map(\.name) == ["prefetch", "Prefetcher"])
        #expect(other.open.last?.inputShapes == "[4,32]")
        #expect(other.last.map(\.name) == ["decode"])
        #expect(lines.contains("thread \(other.index) (tid \(other.osThreadID)): 2 open spans"))
        #expect(lines.contains { $0.hasPrefix("    Prefetcher forward input [4,32], step 0, open for ") })

        // JSON: stable fields.
        let json = try runChild(tracectlExecutable, ["report", path, "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let record = try #require(object["crash"] as? [String: Any])
        #expect(record["module"] as? String == "blocks.1.attn")
        #expect(record["type"] as? String == "FaultyAttention")
        #expect(record["phase"] as? String == "forward")
        #expect(record["input_shapes"] as? String == "[8,16,32]")
        #expect(record["step"] as? Int == 3)
        #expect(record["signal_name"] as? String == names[signal]!)
        #expect((record["threads"] as? [[String: Any]])?.count == 2)

        // The HTML report's findings panel says it in plain words.
        let findings = FindingsBuilder.build(try Report(reader: TraceReader(path: path), run: nil), graphComparison: nil, outliers: [])
        let first = try #require(findings.first)
        #expect(
            first.title
                == "The program crashed in `blocks.1.attn` (FaultyAttention), forward, input [8,16,32], step 3: \(names[signal]!)")
        #expect(first.severity == .problem)
        #expect(first.detail.contains("The module calls open on that thread, outermost first: `Model` → `blocks.1` → `blocks.1.attn`."))
        #expect(first.detail.contains("At that moment thread \(other.index) was in range `prefetch` → `Prefetcher`."))

        // bypass: findings unknown (exit 2), the crash in its JSON.
        let bypass = try runChild(tracectlExecutable, ["bypass", path, "--format", "json"])
        #expect(bypass.status == 2)
        #expect(bypass.stderr.split(separator: "\n").count == 1)
        #expect(bypass.stderr.contains("crashed in `blocks.1.attn`"))
        let bypassObject = try JSONSerialization.jsonObject(with: Data(bypass.stdout.utf8)) as? [String: Any]
        #expect((bypassObject?["crash"] as? [String: Any])?["module"] as? String == "blocks.1.attn")
    }

    @Test func aCrashInBackwardNamesTheModuleAndThePhase() throws {
        let (path, train) = try crash("backward")
        #expect(train.reason == .uncaughtSignal)
        #expect(train.status == SIGSEGV)
        let report = try runChild(tracectlExecutable, ["report", path])
        #expect(report.stdout.hasPrefix("crashed in `blocks.1.attn` (FaultyAttention), backward, step 3 — signal SIGSEGV\n"))
        let crash = try #require(try TraceReader(path: path).crash(runID: 1))
        #expect(crash.crashedThread?.open.map(\.name) == ["ProfilerStep#3", "Model", "blocks", "blocks.1", "blocks.1.attn"])
        #expect(crash.crashedIn?.phase == "backward")
        let json = try runChild(tracectlExecutable, ["report", path, "--format", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((object?["crash"] as? [String: Any])?["phase"] as? String == "backward")
    }

    @Test func aDamagedCrashFileIsOneLineAndTheTraceStillReads() throws {
        let (path, train) = try crash("segv")
        #expect(train.status == SIGSEGV)
        let good = try Data(contentsOf: URL(fileURLWithPath: path + ".crash"))
        let cuts: [(String, Data)] = [
            ("truncated", good.prefix(good.count - 7)), ("header only", good.prefix(96)), ("empty", Data()),
            ("bad magic", Data("XXCRASH\0".utf8) + good.dropFirst(8)),
            ("huge length", good.prefix(96) + Data([1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f]) + good.dropFirst(104)),
        ]
        for (label, bytes) in cuts {
            let copy = temporaryTrace("damaged")
            for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.copyItem(atPath: path + suffix, toPath: copy + suffix)
            }
            try bytes.write(to: URL(fileURLWithPath: copy + ".crash"))
            let report = try runChild(tracectlExecutable, ["report", copy])
            #expect(report.status == 0, "\(label)")
            let errors = report.stderr.split(separator: "\n")
            #expect(errors.count == 1, "\(label): \(report.stderr)")
            #expect(errors.first?.hasPrefix("tracectl: \(copy).crash: ") == true, "\(label)")
            #expect(errors.first?.hasSuffix("the trace is read without it; kept as \(copy).crash.damaged") == true, "\(label)")
            #expect(report.stdout.hasPrefix("run 1 \"train --demo-crash segv\" (incomplete)"), "\(label)")
            #expect(FileManager.default.fileExists(atPath: copy + ".crash.damaged"))
            #expect(try TraceReader(path: copy).db.prepare("PRAGMA integrity_check").text0 == "ok")
            // Set aside once: the next reader says nothing.
            #expect(try runChild(tracectlExecutable, ["runs", copy]).stderr == "")
        }
        // Every prefix and a few hundred byte flips: an error or a record, never a crash.
        let bytes = [UInt8](good)
        for n in stride(from: 0, to: bytes.count, by: 3) {
            #expect(throws: StoreError.self) { try CrashFile.parse(Array(bytes.prefix(n)), name: "x.crash") }
        }
        var seed: UInt64 = 0x5eed
        for _ in 0..<400 {
            var flipped = bytes
            seed = seed &* 6_364_136_223_846_793_005 &+ 1
            flipped[Int(seed >> 33) % bytes.count] ^= UInt8(truncatingIfNeeded: seed >> 20) | 1
            _ = try? CrashFile.parse(flipped, name: "x.crash")
        }
    }

    @Test func aTraceThatCannotBeWrittenReadsTheCrashFileWithoutImportingIt() throws {
        let (path, train) = try crash("fatal")
        #expect(train.status == SIGILL)
        let readOnly = try Database(path: path, mode: .readOnly)
        let outcome = CrashStore.importCrash(tracePath: path, into: readOnly)
        #expect(!outcome.imported)
        #expect(outcome.notice == nil)
        #expect(outcome.record?.crashedIn?.name == "blocks.1.attn")
        #expect(FileManager.default.fileExists(atPath: path + ".crash"), "left for a reader that can import it")
        #expect(try readOnly.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'crashes'") == 0)
    }

    @Test func theNextWriterImportsTheCrashBeforeItAppendsARun() throws {
        let (path, _) = try crash("segv")
        let next = try runChild(trainExecutable, ["--steps", "2", "--trace", path, "--log-format", "jsonl"])
        #expect(next.status == 0)
        #expect(!FileManager.default.fileExists(atPath: path + ".crash"))
        #expect(try texts(path, "SELECT status FROM runs ORDER BY id") == ["crashed", "complete"])
        #expect(
            try texts(path, "SELECT name FROM crash_spans WHERE run_id = 1 AND open = 1 AND crashed = 1 ORDER BY idx").last
                == "blocks.1.attn")
    }
}

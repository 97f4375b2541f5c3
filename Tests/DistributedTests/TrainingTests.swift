import Examples
import Foundation
import Modules
import Tensors
import Testing
import TraceStore
import TraceTools

/// `train` under `mpirun -n 2` against one process on the combined batch.
@Suite("Data-parallel training")
struct TrainingTests {
    @Test(.enabled(if: MPIRun.available, Comment(rawValue: MPIRun.missing)))
    func twoRanksTrainLikeOneProcessOnTheCombinedBatch() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-ddp-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = dir.appendingPathComponent("mlp.safetensors").path
        let result = try MPIRun.run(
            "train",
            [
                "--model", "mlp", "--steps", "4", "--check-every", "1", "--log-format", "jsonl",
                "--save-state", state, "--trace", dir.appendingPathComponent("mlp.sqlite").path,
            ],
            timeout: 90)
        #expect(!result.timedOut && result.status == 0, "\(result.stderr)")
        // Rank 0 alone prints: four steps, then the data-parallel summary.
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("{\"step\":") }.count == 4)
        // Parameters identical on both ranks after every step (checksums each step) and at the end (bytes).
        #expect(lines.contains("consistency: parameters identical on all 2 ranks at 4 checks"))
        #expect(FileManager.default.contents(atPath: state) == FileManager.default.contents(atPath: state + ".rank1"))

        let single = Trainer(TrainingConfig(model: .mlp, steps: 4))
        for _ in 0..<4 { _ = try single.trainStep() }
        let twoRanks = Random.withSeed(99) { MLP() }
        try twoRanks.load(from: URL(fileURLWithPath: state))
        for ((name, a), (_, b)) in zip(single.model.namedParameters(), twoRanks.namedParameters()) {
            let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-5, "\(name) differs by \(worst)")
        }

        for rank in 0..<2 {
            let db = try Database(path: dir.appendingPathComponent("mlp.rank\(rank).sqlite").path, mode: .readOnly)
            #expect(try db.scalar("SELECT rank * 10 + world_size FROM runs") == Int64(rank * 10 + 2))
            #expect(
                try db.scalar(
                    "SELECT count(*) FROM spans WHERE kind = 'collective' AND name = 'all_reduce bucket 1' AND input_shapes = '[200704]'")
                    == 4)
            #expect(
                try db.scalar(
                    "SELECT count(*) FROM spans WHERE kind = 'comm_wait' AND parent_id IN (SELECT id FROM spans WHERE name = 'all_reduce bucket 0')"
                ) == 4)
        }
        try checkRankReport(dir)
        let paths = (0..<2).map { dir.appendingPathComponent("mlp.rank\($0).sqlite").path }
        try RankTraceChecks.clockOffsets(paths, dir)
        try RankTraceChecks.barrierFreeWaits(paths)
        try RankTraceChecks.severalFiles(paths, dir)
        try RankTraceChecks.htmlRanksPanel(paths, dir)
    }

    /// `TRACEWELL_TRACE` under mpirun: each rank writes its own file, `.rankN` before the extension.
    @Test(.enabled(if: MPIRun.available, Comment(rawValue: MPIRun.missing)))
    func theEnvironmentsTraceFileGetsOneFilePerRank() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-ddp-env-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try MPIRun.run(
            "train", ["--model", "mlp", "--steps", "2", "--log-format", "jsonl"],
            environment: ["TRACEWELL_TRACE": dir.appendingPathComponent("env.sqlite").path], timeout: 90)
        #expect(!result.timedOut && result.status == 0, "\(result.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sqlite") }.sorted()
        #expect(files == ["env.rank0.sqlite", "env.rank1.sqlite"])
        for rank in 0..<2 {
            let db = try Database(path: dir.appendingPathComponent("env.rank\(rank).sqlite").path, mode: .readOnly)
            #expect(try db.scalar("SELECT rank * 10 + world_size FROM runs") == Int64(rank * 10 + 2))
            // Started before main, stopped at exit: the end clock estimate (taken by finalize) is in.
            #expect(try db.scalar("SELECT count(*) FROM clock_sync WHERE phase IN ('start', 'end')") == 2)
        }
        let set = try RankSet(paths: files.map { dir.appendingPathComponent($0).path })
        #expect(set.ranks.map(\.run.rank) == [0, 1])
    }

    /// `tracectl ranks` on the two rank traces: parts sum to each step, one last arrival per
    /// step and bucket, POP metrics in range; files of one rank twice, or of another job, are refused.
    func checkRankReport(_ dir: URL) throws {
        let paths = (0..<2).map { dir.appendingPathComponent("mlp.rank\($0).sqlite").path }
        let report = try RankReport(RankSet(paths: paths))
        #expect(report.set.alignment.hasPrefix("clock: shared CLOCK_MONOTONIC"))
        // Four training steps per rank, then the step holding the held-out evaluation (no backward).
        let training = report.steps.filter { $0.step < 4 }
        #expect(report.steps.count == 10 && training.count == 8 && Set(training.map(\.rank)) == [0, 1])
        for s in report.steps where s.step == 4 {
            #expect(s.backward == 0 && s.communication == 0 && s.forward + s.other == s.total)
        }
        for s in training {
            #expect(s.forward > 0 && s.backward > 0 && s.optimizer > 0 && s.allReduceTransfer >= 0 && s.allReduceWait >= 0)
            #expect(s.forward + s.backward + s.allReduceWait + s.allReduceTransfer + s.optimizer + s.other == s.total)
            #expect(s.other >= 0 && s.arrivals.keys.sorted() == ["all_reduce bucket 0", "all_reduce bucket 1"])
        }
        #expect(report.lastArrivals.count == 8)
        #expect(report.loadBalance > 0 && report.loadBalance <= 1)
        #expect(report.communicationEfficiency > 0 && report.communicationEfficiency <= 1)
        #expect(report.render(.table).contains("load balance "))
        // The merged Chrome trace: one process per rank, named `rank N`, both with a communication thread.
        let merged = dir.appendingPathComponent("merged.json")
        _ = try report.set.exportChrome(to: merged.path)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: merged)) as! [String: Any]
        let events = json["traceEvents"] as! [[String: Any]]
        let processes = events.filter { $0["name"] as? String == "process_name" }.compactMap {
            ($0["args"] as? [String: Any])?["name"] as? String
        }
        #expect(processes == ["rank 0", "rank 1"])
        let collectivesPerProcess = Dictionary(grouping: events.filter { $0["cat"] as? String == "collective" }) { $0["pid"] as! Int }
        #expect(collectivesPerProcess.count == 2)
        #expect(throws: RankError.self) { try RankSet(paths: [paths[0], paths[0]]) }
        let other = dir.appendingPathComponent("other.sqlite").path
        try FileManager.default.copyItem(atPath: paths[1], toPath: other)
        try Database(path: other, mode: .readWrite).execute("UPDATE run_clock SET job = 'another'")
        #expect {
            try RankSet(paths: [paths[0], other])
        } throws: { error in
            (error as? RankError)?.description.contains("are not ranks of one mpirun job") == true
        }
    }
}

/// `train --demo-ddp-bypass`: the skipped DDP forward is reported in its step, in the log, the
/// trace and (on two ranks) by the consistency check that follows it.
@Suite("DDP bypass demo")
struct BypassDemoTests {
    static func run(_ program: URL, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = program
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    @Test func oneProcessReportsTheBypassInTheLogAndTheTrace() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tracewell-ddp-demo-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("demo.sqlite").path
        let result = try Self.run(
            MPIRun.binDir.appendingPathComponent("train"),
            ["--model", "mlp", "--steps", "4", "--demo-ddp-bypass", "--trace", trace, "--log-format", "jsonl"])
        #expect(result.status == 0, "\(result.err)")
        let warnings = result.err.split(separator: "\n").filter { $0.hasPrefix("warning: DDP bypass") }
        #expect(
            warnings == [
                "warning: DDP bypass on rank 0, backward 3: the model ran without DistributedDataParallel's forward; "
                    + "1077288 bytes of gradients (6 parameters) were not all-reduced (call ddp(x), not ddp.module(x); use noSync { } to skip synchronisation on purpose)"
            ])
        #expect(result.out.contains("demo-ddp-bypass: 1 step(s) ran without DistributedDataParallel's forward"))
        let db = try Database(path: trace, mode: .readOnly)
        // Steps count from 0 in the trace: the third step is step 2.
        let rows = try db.prepare(
            "SELECT m.type, b.count, b.first_step, b.detail FROM bypasses b JOIN modules m ON m.run_id = b.run_id AND m.id = b.module_id WHERE b.evidence = 'ddp_forward_skipped'"
        )
        #expect(try rows.step())
        #expect(rows.text(0) == "DistributedDataParallel" && rows.int(1) == 1 && rows.int(2) == 2)
        // With the source line of the unsynchronised backward (in the trainer, outside the runtime).
        #expect(
            rows.text(3).hasPrefix(
                "1077288 gradient bytes (6 parameters) not all-reduced, 0 buffer bytes (0 buffers) not broadcast, outside noSync at Sources/Examples/Trainer.swift:"
            ))
        #expect(try !rows.step())
    }

    @Test(.enabled(if: MPIRun.available, Comment(rawValue: MPIRun.missing)))
    func twoRanksDriftApartAndTheCheckNamesTheStepModuleAndCause() throws {
        let result = try MPIRun.run(
            "train", ["--model", "mlp", "--steps", "4", "--demo-ddp-bypass", "--no-trace", "--log-format", "jsonl"],
            timeout: 90)
        #expect(!result.timedOut && result.status == 0, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: DDP bypass on rank") }.count == 2)
        #expect(
            result.stdout.split(separator: "\n").contains(
                "consistency: parameters differ across ranks at step 3 in module fc1 (rank 1 vs rank 0); likely cause: the DDP wrapper was bypassed (backward 3: gradients not all-reduced)"
            ))
    }
}

import Foundation
import Testing
import TraceStore
import TraceTools

/// What the 2-rank traces of `TrainingTests` hold beyond the step split: clock offsets,
/// barrier-free wait measurement, several files in `tracectl`, the HTML ranks panel.
enum RankTraceChecks {
    /// Each rank stored a start and an end clock estimate; rank 1's bound is small (µs on one
    /// host) and nonnegative; merging uses the offsets once the ranks claim different hosts.
    static func clockOffsets(_ paths: [String], _ dir: URL) throws {
        for (rank, path) in paths.enumerated() {
            let db = try Database(path: path, mode: .readOnly)
            let rows = try db.prepare("SELECT phase, offset_ns, bound_ns, min_rtt_ns, exchanges, same_host FROM clock_sync ORDER BY rowid")
            var phases: [String] = []
            while try rows.step() {
                phases.append(rows.text(0))
                let (offset, bound, rtt, exchanges) = (rows.int(1), rows.int(2), rows.int(3), rows.int(4))
                #expect(rows.int(5) == 1)
                if rank == 0 {
                    #expect(offset == 0 && bound == 0 && exchanges == 0)
                } else {
                    // One host: the clocks are one, so the estimate must contain 0. Idle, the bound is a
                    // few µs; with other mpirun jobs polling on the same cores (tests run in
                    // parallel) a round trip can wait for the scheduler, hence the margin.
                    #expect(bound >= 0 && bound < 10_000_000, "bound \(bound) ns")
                    #expect(abs(offset) <= bound, "offset \(offset) ns outside its bound \(bound) ns")
                    #expect(rtt >= 0 && (rtt + 1) / 2 == bound && exchanges >= 16)
                }
            }
            #expect(phases == ["start", "end"])
        }
        let shared = try RankSet(paths: paths)
        #expect(shared.alignment.contains("shared CLOCK_MONOTONIC") && shared.alignment.contains("ping-pong with rank 0"))
        // As if rank 1 ran on another host whose clock is 5 s ahead: merge places it by the offset.
        let moved = dir.appendingPathComponent("moved.rank1.sqlite").path
        try FileManager.default.copyItem(atPath: paths[1], toPath: moved)
        let db = try Database(path: moved, mode: .readWrite)
        try db.execute("UPDATE runs SET host = 'elsewhere'")
        try db.execute("UPDATE run_clock SET origin_monotonic_ns = origin_monotonic_ns + 5000000000")
        try db.execute("UPDATE clock_sync SET offset_ns = offset_ns + 5000000000, same_host = 0")
        let apart = try RankSet(paths: [paths[0], moved])
        let (offset, bound) = try #require(apart.ranks[1].clockOffset)
        #expect(apart.alignment.hasPrefix("clock: rank 0's CLOCK_MONOTONIC on 2 hosts through each rank's offset"))
        #expect(apart.alignmentBound == bound && bound < 10_000_000, "bound \(bound) ns")
        // The same relative placement as on the shared clock, up to the estimate's own error.
        let sharedGap = shared.ranks[1].offset - shared.ranks[0].offset
        let apartGap = apart.ranks[1].offset - apart.ranks[0].offset
        #expect(abs(apartGap - sharedGap) == abs(offset - 5_000_000_000))
        #expect(abs(apartGap - sharedGap) <= bound)
        // A bound read from a file is checked; without offsets, hosts fall back to wall clocks, bound unknown.
        try db.execute("UPDATE clock_sync SET bound_ns = -1 WHERE phase = 'end'")
        #expect {
            try RankSet(paths: [paths[0], moved])
        } throws: { error in
            (error as? RankError)?.description == "\(moved): run 1 has a negative clock bound (-1 ns)"
        }
        try db.execute("DROP TABLE clock_sync")
        let old = try RankSet(paths: [paths[0], moved])
        #expect(old.alignmentBound == nil && old.alignment.contains("error bound unknown"))
    }

    /// The last rank into each bucket's all-reduce waits 0; the other waits exactly the gap
    /// between the two entries (each rank's `comm_wait` starts at its own entry).
    static func barrierFreeWaits(_ paths: [String]) throws {
        var entries: [String: [(start: Int64, wait: Int64)]] = [:]
        let set = try RankSet(paths: paths)
        for rank in set.ranks {
            let rows = try rank.reader.db.prepare(
                """
                SELECT w.step, p.name, w.ts_ns, w.dur_ns, t.ts_ns FROM spans w JOIN spans p ON p.id = w.parent_id
                JOIN spans t ON t.parent_id = p.id AND t.kind = 'comm_transfer'
                WHERE w.kind = 'comm_wait' AND p.name LIKE 'all_reduce bucket %'
                """)
            while try rows.step() {
                // The transfer starts where the wait ends.
                #expect(rows.int(4) == rows.int(2) + rows.int(3))
                entries["\(rows.int(0)) \(rows.text(1))", default: []].append((rows.int(2) + rank.offset, rows.int(3)))
            }
        }
        #expect(entries.count == 8)
        for (bucket, pair) in entries {
            try #require(pair.count == 2, "\(bucket)")
            let (first, last) = pair[0].start <= pair[1].start ? (pair[0], pair[1]) : (pair[1], pair[0])
            #expect(last.wait == 0 || first.wait == 0, "\(bucket): both ranks waited")
            // Entry times come from CLOCK_MONOTONIC, span times from each process's calibrated ticks.
            #expect(abs(first.wait + last.wait - (last.start - first.start)) < 50_000, "\(bucket)")
        }
    }

    /// `report` and `export chrome` take the rank files too.
    static func severalFiles(_ paths: [String], _ dir: URL) throws {
        let report = try run("tracectl", ["report"] + paths)
        #expect(report.status == 0, "\(report.err)")
        #expect(report.out.components(separatedBy: "== rank ").count == 3)
        #expect(
            report.out.contains("== rank 0 of 2: \(paths[0]) (run 1) ==") && report.out.contains("== rank 1 of 2: \(paths[1]) (run 1) =="))
        let json = try run("tracectl", ["report", "--format", "json"] + paths)
        let array = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [Any]
        #expect(array?.count == 2)
        #expect(try run("tracectl", ["report", "--format", "csv"] + paths).status != 0)
        let out = dir.appendingPathComponent("export.json").path
        let export = try run("tracectl", ["export", "chrome"] + paths + ["-o", out])
        #expect(export.status == 0 && export.err.contains("2 ranks"), "\(export.err)")
        let events =
            (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as! [String: Any])["traceEvents"]
            as! [[String: Any]]
        let processes = events.filter { $0["name"] as? String == "process_name" }.compactMap {
            ($0["args"] as? [String: Any])?["name"] as? String
        }
        #expect(processes == ["rank 0", "rank 1"])
    }

    /// The HTML report of both ranks: the all-reduce wait heatmap holds `tracectl ranks`'s
    /// wait for every rank and step, and the POP communication efficiency is the same number.
    static func htmlRanksPanel(_ paths: [String], _ dir: URL) throws {
        guard Chromium.path != nil else { return }
        let report = try RankReport(RankSet(paths: paths))
        let html = try HTMLReport(traces: paths.map { (try TraceReader(path: $0), nil) })
        let file = dir.appendingPathComponent("ranks.html").path
        try html.write(to: file)
        let page = try Chromium.load(file)
        #expect(page.dom.contains("data-state=\"ready\"") && !page.dom.contains("data-errors=") && page.console.isEmpty, "\(page.console)")
        let ranks = try #require(page.dom.element(id: "ranks", close: "</section>"))
        let waits = try #require(ranks.element(id: "tw-heatmap-wait", close: "</svg>"))
        for s in report.steps {
            #expect(
                waits.contains("data-rank=\"\(s.rank)\" data-step=\"\(s.step)\" data-wait-ns=\"\(s.allReduceWait)\""),
                "rank \(s.rank) step \(s.step)")
        }
        #expect(waits.occurrences(of: "<rect") == report.steps.count)
        #expect(
            ranks.contains(String(format: "Communication efficiency (POP: max useful ÷ total time): %.3f", report.communicationEfficiency)))
        #expect(ranks.contains(String(format: "Load balance (POP: mean ÷ max useful time): %.3f", report.loadBalance)))
        #expect(ranks.contains("id=\"tw-heatmap-toggle\""))
    }

    static func run(_ program: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try BypassDemoTests.run(MPIRun.binDir.appendingPathComponent(program), arguments)
    }
}

import Foundation
import TraceStore

/// The traces of one data-parallel job, one file per rank, checked to belong together
/// and placed on one time axis.
package struct RankSet {
    /// One rank's trace.
    package struct Rank {
        /// The trace file.
        package let path: String
        /// Its open reader.
        package let reader: TraceReader
        /// The run analysed.
        package let run: RunInfo
        /// The mpirun job id the run recorded.
        package let job: String?
        /// The run's time zero on the host's clocks.
        package let originWall: Int64
        /// The run's time zero on the monotonic clock.
        package let originMonotonic: Int64
        /// Its clock offset estimates to rank 0 (`clock_sync`: start and end of the run).
        package let clockSamples: [(phase: String, offset: Int64, bound: Int64, sameHost: Bool)]
        /// Added to a span's `ts_ns` to place it on the common axis (ns since the earliest rank's zero).
        package internal(set) var offset: Int64 = 0

        /// This rank's offset to rank 0 and its error bound: the estimate with the smallest
        /// bound, widened so that every other estimate's interval (offset ± bound) lies inside
        /// it, which covers drift between the start and the end of the run.
        package var clockOffset: (offset: Int64, bound: Int64)? {
            guard let best = clockSamples.min(by: { $0.bound < $1.bound }) else { return nil }
            return (best.offset, clockSamples.map { abs($0.offset - best.offset) + $0.bound }.max()!)
        }
    }

    /// The ranks, in rank order.
    package let ranks: [Rank]
    /// How the ranks' clocks were aligned, and how far off they may be.
    package let alignment: String
    /// The alignment's error bound in ns (nil: unknown).
    package let alignmentBound: Int64?

    /// Opens each file's latest run (or `run`), refusing files of different jobs or repeated ranks.
    package init(paths: [String], run: Int64? = nil) throws {
        guard paths.count >= 1 else { throw RankError("give one trace file per rank") }
        var ranks: [Rank] = []
        for path in paths {
            let reader = try TraceReader(path: path)
            let info = try reader.run(run)
            let hasClock = try reader.db.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'run_clock'") ?? 0
            let clock =
                hasClock > 0
                ? try reader.db.prepare("SELECT job, origin_wall_ns, origin_monotonic_ns FROM run_clock WHERE run_id = ?") : nil
            try clock?.bind([.int(info.id)])
            guard let clock, try clock.step() else {
                throw RankError(
                    "\(path): run \(info.id) has no clock origin (traced by an older version); cannot align it with other ranks")
            }
            ranks.append(
                Rank(
                    path: path, reader: reader, run: info, job: clock.optionalText(0),
                    originWall: clock.int(1), originMonotonic: clock.int(2), clockSamples: try RankSet.clockSamples(reader, info.id)))
        }
        ranks.sort { $0.run.rank < $1.run.rank }
        let first = ranks[0]
        for r in ranks.dropFirst() {
            if r.job != first.job || r.job == nil {
                throw RankError(
                    "\(r.path) (job \(r.job ?? "none")) and \(first.path) (job \(first.job ?? "none")) are not ranks of one mpirun job")
            }
            if r.run.worldSize != first.run.worldSize {
                throw RankError("\(r.path) says world size \(r.run.worldSize), \(first.path) says \(first.run.worldSize)")
            }
        }
        for (a, b) in zip(ranks, ranks.dropFirst()) where a.run.rank == b.run.rank {
            throw RankError("\(a.path) and \(b.path) are both rank \(a.run.rank)")
        }
        let hosts = Set(ranks.map(\.run.host)).count
        let measured = ranks.allSatisfy { $0.clockOffset != nil }
        // One host: one CLOCK_MONOTONIC. Several: rank 0's monotonic clock through the
        // ping-pong offsets, or, for traces without them, the hosts' wall clocks.
        let origins = ranks.map { r in
            hosts == 1 ? r.originMonotonic : measured ? r.originMonotonic - r.clockOffset!.offset : r.originWall
        }
        let zero = origins.min()!
        for i in ranks.indices { ranks[i].offset = origins[i] - zero }
        self.ranks = ranks
        let bound = ranks.compactMap { $0.clockOffset?.bound }.max() ?? 0
        let pingPong =
            "ping-pong with rank 0 at start and end, bound ≤ \(Units.duration(Double(bound))) (half the shortest round trip, widened to cover both estimates)"
        if hosts == 1 {
            let check =
                measured
                ? "; \(pingPong), measured offsets within \(Units.duration(Double(ranks.map { abs($0.clockOffset!.offset) }.max() ?? 0)))"
                : ""
            alignment =
                "clock: shared CLOCK_MONOTONIC on host \(first.run.host) (each rank's time zero read from it; error ≤ 1 µs plus each process's tick calibration)\(check)"
        } else if measured {
            alignment = "clock: rank 0's CLOCK_MONOTONIC on \(hosts) hosts through each rank's offset, \(pingPong)"
        } else {
            alignment =
                "clock: wall clocks of \(hosts) hosts (NTP); error bound unknown: these traces hold no clock offsets (traced by an older version)"
        }
        alignmentBound = hosts > 1 && !measured ? nil : hosts == 1 ? 1_000 : bound
    }

    /// A rank's clock samples, if its trace has the table.
    static func clockSamples(_ reader: TraceReader, _ run: Int64) throws -> [(phase: String, offset: Int64, bound: Int64, sameHost: Bool)] {
        guard try reader.db.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'clock_sync'") ?? 0 > 0 else { return [] }
        let rows = try reader.db.prepare(
            "SELECT phase, offset_ns, bound_ns, same_host FROM clock_sync WHERE run_id = ? ORDER BY rowid")
        try rows.bind([.int(run)])
        var result: [(phase: String, offset: Int64, bound: Int64, sameHost: Bool)] = []
        while try rows.step() {
            let bound = rows.int(2)
            guard bound >= 0 else { throw RankError("\(reader.path): run \(run) has a negative clock bound (\(bound) ns)") }
            result.append((rows.text(0), rows.int(1), bound, rows.int(3) != 0))
        }
        return result
    }
}

/// Rank files that cannot be analysed together.
package struct RankError: Error, CustomStringConvertible {
    /// One line for logs and errors.
    package let description: String
    /// An error with this message.
    package init(_ description: String) { self.description = description }
}

extension RankSet {
    /// One Chrome trace holding every rank, one process per rank (`rank N`), on the common axis.
    package func exportChrome(to path: String, steps: ClosedRange<Int64>? = nil) throws -> ChromeExporter.Summary {
        let parts = try ranks.map { (try ChromeExporter(reader: $0.reader, run: $0.run.id, steps: steps), $0.offset) }
        let earliest = ranks.min { $0.offset < $1.offset }!
        return try ChromeExporter.export(
            parts.map { (exporter: $0.0, offsetNs: $0.1) }, to: path,
            baseTimeNanoseconds: earliest.originWall)
    }
}

import Synchronization
import Tracing

/// Writes one run into a trace database: the sink of a trace session.
///
/// Spans arrive in batches from the session's drain thread; each batch is one
/// transaction, so a killed process leaves every committed batch readable and the run
/// marked `incomplete`. `finish` writes what is known only at the end (module tree,
/// steps, bypass findings), builds the indexes and marks the run `complete`.
public final class TraceWriter: TraceSink {
    public let path: String
    public private(set) var runID: Int64 = 0
    public private(set) var spanCount: Int64 = 0

    private let db: Database
    private let insertBatch: Statement
    private let insertOne: Statement
    private let insertSignature: Statement
    private let insertStep: Statement
    /// Rows per INSERT statement: many rows per statement halve SQLite's per-row cost.
    private static let batchRows = 100
    private static let columns = 10

    private var idOffset: Int64 = 0
    private var signatures: [SignatureKey: Int64] = [:]
    private var signatureCache = SignatureCache()
    private let updateRun: Statement
    /// The step of the last span written, its base time and id range (flushed to `steps` when it changes).
    private var current: (step: UInt32, base: Int64, range: StepRange)?
    private var stringIDs: [UInt32: Int64] = [:]
    private var textIDs: [String: Int64] = [:]
    private var shapeIDs: [UInt32: Int64] = [:]
    private var steps: [UInt32: StepRange] = [:]
    private var stepBases: [UInt32: Int64] = [:]
    private var modulesThatRan: [Bool] = []
    /// Statistics per signature of this run (index: signature id − `firstSignature`).
    private var statistics = SignatureStatistics()
    private var firstSignature: Int64?
    private var selfTimes = SelfTimeAccumulator()
    private var signatureOfRecord: [Int64] = []
    private var firstStep: UInt32?
    private let pendingGraphs = Mutex<[StaticGraph]>([])

    struct SignatureKey: Hashable {
        var kind: UInt8, subject: UInt32, thread: UInt16, depth: UInt16
        var inputs: UInt32, outputs: UInt32, flags: UInt8, hooks: UInt8
    }

    struct StepRange {
        var first: Int64, last: Int64
        var span: Int64?, ts: Int64 = 0, dur: Int64 = 0
    }

    /// Opens (creating if needed) the database at `path` and starts a run in it.
    /// `firstSpanID` is the lowest span id the session can produce (`TraceSession.nextSpanID`
    /// read before it starts).
    public init(path: String, run: RunDescription, firstSpanID: UInt64) throws {
        self.path = path
        db = try Database(path: path, mode: .readWrite)
        try TraceWriter.prepareSchema(db)
        let row = (0..<TraceWriter.columns).map { _ in "?" }.joined(separator: ",")
        insertBatch = try db.prepare("INSERT INTO span_data VALUES " +
            (0..<TraceWriter.batchRows).map { _ in "(\(row))" }.joined(separator: ","))
        insertOne = try db.prepare("INSERT INTO span_data VALUES (\(row))")
        insertStep = try db.prepare("INSERT OR IGNORE INTO steps(run_id, step, base_ns) VALUES (?, ?, ?)")
        updateRun = try db.prepare("UPDATE runs SET dropped_events = ?, span_count = ? WHERE id = ?")
        insertSignature = try db.prepare("""
            INSERT INTO signatures(run_id, kind, module_id, name_id, thread, depth, input_shapes, output_shapes, flags, hooks_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try db.transaction {
            let maxID = try db.scalar("SELECT COALESCE(MAX(id), 0) FROM span_data") ?? 0
            idOffset = maxID + 1 - Int64(firstSpanID)
            try db.prepare("""
                INSERT INTO runs(name, start_wall_ns, status, command, host, pid, rank, world_size, options, first_span_id)
                VALUES (?, ?, 'incomplete', ?, ?, ?, ?, ?, ?, ?)
                """).run([.text(run.name), .int(Int64(run.startWallNanoseconds)), .text(run.command), .text(run.host),
                          .int(Int64(run.pid)), .int(Int64(run.rank)), .int(Int64(run.worldSize)), .text(run.options),
                          .int(maxID + 1)])
            runID = db.lastInsertID
        }
    }

    /// Creates the schema in a new file, or checks the version of an existing one.
    static func prepareSchema(_ db: Database) throws {
        // WAL with synchronous=NORMAL: a killed process loses nothing committed. Checkpoints
        // (which fsync and copy pages) cost more than the inserts, so the writer runs them
        // itself, rarely (see `checkpointEvery`), and once when the run ends.
        try db.execute("""
            PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16000;
            PRAGMA wal_autocheckpoint = 0
            """)
        let hasMeta = try db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'") ?? 0
        if hasMeta == 0 {
            let objects = try db.scalar("SELECT count(*) FROM sqlite_master") ?? 0
            guard objects == 0 else { throw StoreError("\(db.path): an existing SQLite database that is not a trace") }
            try db.transaction {
                try db.execute(Schema.tables + Schema.views)
                try db.prepare("INSERT INTO meta VALUES ('schema_version', ?), ('created_by', 'tracewell')")
                    .run([.text(String(Schema.version))])
            }
        } else {
            try TraceReader.checkVersion(db)
        }
    }

    // MARK: TraceSink

    public func write(_ unordered: UnsafeBufferPointer<SpanRecord>, dropped: UInt64) throws {
        // Spans finish children-first but ids are given in start order; inserting in id
        // order keeps the table's pages full.
        // In arrival order (children before parents per thread): signatures and statistics,
        // so that reports of whole runs need not scan the spans.
        signatureOfRecord.removeAll(keepingCapacity: true)
        for r in unordered {
            let cached = signatureCache.lookup(r)
            let sig = cached >= 0 ? cached : try signature(r)
            signatureOfRecord.append(sig)
            let duration = max(Int64(bitPattern: r.end) - Int64(bitPattern: r.start), 0)
            let selfTime = selfTimes.arrive(thread: Int(r.thread), depth: Int(r.depth), duration: duration)
            let first = firstSignature ?? sig
            firstSignature = first
            statistics.add(slot: Int(sig - first), r, duration: duration, selfTime: selfTime)
        }
        // Sorting (id, position) pairs moves 16 bytes per span instead of the whole record.
        var order = (0..<unordered.count).map { (unordered[$0].id, UInt32($0)) }
        order.sort { $0.0 < $1.0 }
        let records = UnsafeBufferPointer(start: unordered.baseAddress, count: unordered.count)
        try db.transaction {
            var index = 0
            while index + TraceWriter.batchRows <= order.count {
                for row in 0..<TraceWriter.batchRows {
                    let i = Int(order[index + row].1)
                    try bindSpan(records[i], signatureOfRecord[i], insertBatch, base: Int32(row * TraceWriter.columns))
                }
                try insertBatch.step()
                insertBatch.resetKeepingBindings()
                index += TraceWriter.batchRows
            }
            while index < order.count {
                let i = Int(order[index].1)
                try bindSpan(records[i], signatureOfRecord[i], insertOne, base: 0)
                try insertOne.step()
                insertOne.resetKeepingBindings()
                index += 1
            }
            try updateRun.run([.int(Int64(dropped)), .int(spanCount + Int64(records.count)), .int(runID)])
            try writePendingGraphs()
        }
        spanCount += Int64(records.count)
        sinceCheckpoint += records.count
        if sinceCheckpoint >= TraceWriter.checkpointEvery {
            sinceCheckpoint = 0
            try db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        }
    }

    /// Spans between checkpoints: bounds the WAL to about 150 MB.
    static let checkpointEvery = 4_000_000
    private var sinceCheckpoint = 0

    @inline(__always)
    private func bindSpan(_ r: SpanRecord, _ sig: Int64, _ s: Statement, base: Int32) throws {
        let id = Int64(r.id) + idOffset
        s.bind(id, at: base + 1)
        s.bind(sig, at: base + 2)
        if r.parent == 0 { s.bindNull(at: base + 3) } else { s.bind(Int64(r.id &- r.parent), at: base + 3) }
        s.bind(Int64(r.step), at: base + 4)
        let ts = Int64(bitPattern: r.start)
        let dur = Int64(bitPattern: r.end) - ts
        // Times are stored relative to a per-step base, which keeps them to 3-4 bytes.
        if current?.step != r.step { try enterStep(r.step, ts, id) }
        s.bind(ts - current!.base, at: base + 5)
        s.bind(max(dur, 0), at: base + 6)
        if r.flags & SpanFlag.memory != 0 {
            s.bind(r.allocated, at: base + 7)
            s.bind(r.freed, at: base + 8)
            // Peak is stored above the live bytes at the end: often 0, which takes no space.
            s.bind(r.peak - r.live, at: base + 9)
            s.bind(r.live, at: base + 10)
        } else {
            for c in Int32(7)...10 { s.bindNull(at: base + c) }
        }
        track(r, id: id, ts: ts, dur: dur)
    }

    /// Makes `step` current. Its base time is recorded (in `steps`) with the first span of it that arrives.
    private func enterStep(_ step: UInt32, _ ts: Int64, _ id: Int64) throws {
        if let previous = current { steps[previous.step] = previous.range }
        let base: Int64
        if let known = stepBases[step] {
            base = known
        } else {
            try insertStep.run([.int(runID), .int(Int64(step)), .int(ts)])
            stepBases[step] = ts
            base = ts
        }
        current = (step, base, steps[step] ?? StepRange(first: id, last: id))
        if firstStep == nil || step < firstStep! { firstStep = step }
    }

    @inline(__always)
    private func track(_ r: SpanRecord, id: Int64, ts: Int64, dur: Int64) {
        current!.range.first = min(current!.range.first, id)
        current!.range.last = max(current!.range.last, id)
        if r.kind == SpanKind.step.rawValue {
            current!.range.span = id
            current!.range.ts = ts
            current!.range.dur = dur
        }
        if r.kind == SpanKind.forward.rawValue {
            let m = Int(r.subject)
            if m >= modulesThatRan.count { modulesThatRan += [Bool](repeating: false, count: m + 64 - modulesThatRan.count) }
            modulesThatRan[m] = true
        }
    }

    private func ran(_ module: UInt32) -> Bool { Int(module) < modulesThatRan.count && modulesThatRan[Int(module)] }

    private func signature(_ r: SpanRecord) throws -> Int64 {
        // A step span's subject is its step number, already in the `step` column.
        let subject = r.kind == SpanKind.step.rawValue ? 0 : r.subject
        let key = SignatureKey(kind: r.kind, subject: subject, thread: r.thread, depth: r.depth,
                               inputs: r.inputShapes, outputs: r.outputShapes,
                               flags: r.flags & (SpanFlag.training | SpanFlag.failed), hooks: r.hooks)
        if let id = signatures[key] {
            signatureCache.insert(r, id)
            return id
        }
        let isModule = r.kind == SpanKind.forward.rawValue || r.kind == SpanKind.backward.rawValue
        let names = HookBit.names(r.hooks)
        try insertSignature.run([
            .int(runID), .int(Int64(r.kind)),
            isModule ? .int(Int64(r.subject)) : .null,
            isModule || r.kind == SpanKind.step.rawValue ? .null : .int(try stringID(r.subject)),
            .int(Int64(r.thread)), .int(Int64(r.depth)),
            r.inputShapes == 0 ? .null : .int(try shapeID(r.inputShapes)),
            r.outputShapes == 0 ? .null : .int(try shapeID(r.outputShapes)),
            .int(Int64(key.flags)),
            names.isEmpty ? .null : .int(try textID(names.joined(separator: ","))),
        ])
        let id = db.lastInsertID
        signatures[key] = id
        signatureCache.insert(r, id)
        return id
    }

    private func stringID(_ processID: UInt32) throws -> Int64 {
        if let id = stringIDs[processID] { return id }
        let id = try textID(Interner.shared.string(processID))
        stringIDs[processID] = id
        return id
    }

    private func textID(_ text: String) throws -> Int64 {
        if let id = textIDs[text] { return id }
        try db.prepare("INSERT OR IGNORE INTO strings(text) VALUES (?)").run([.text(text)])
        let id = try db.scalar("SELECT id FROM strings WHERE text = ?", [.text(text)])!
        textIDs[text] = id
        return id
    }

    private func shapeID(_ processID: UInt32) throws -> Int64 {
        if let id = shapeIDs[processID] { return id }
        let shapes = Interner.shared.shapes(processID)
        try db.prepare("INSERT OR IGNORE INTO shapes(text, dtypes) VALUES (?, ?)").run([.text(shapes.text), .text(shapes.dtypes)])
        let id = try db.scalar("SELECT id FROM shapes WHERE text = ? AND dtypes = ?", [.text(shapes.text), .text(shapes.dtypes)])!
        shapeIDs[processID] = id
        return id
    }

    // MARK: Graphs

    /// Queues a captured graph; it is written with the next batch (from the drain thread).
    public func enqueue(_ graph: StaticGraph) {
        pendingGraphs.withLock { $0.append(graph) }
    }

    private func writePendingGraphs() throws {
        let graphs = pendingGraphs.withLock { all -> [StaticGraph] in
            defer { all.removeAll() }
            return all
        }
        for g in graphs {
            try db.prepare("INSERT INTO graphs(run_id, step, label, inputs, outputs) VALUES (?, ?, ?, ?, ?)")
                .run([.int(runID), .int(Int64(g.step)), .text(g.label),
                      .text(g.inputs.map { "\($0.name) : \($0.type)" }.joined(separator: "\n")),
                      .text(g.outputs.joined(separator: ", "))])
            let id = db.lastInsertID
            let node = try db.prepare("INSERT INTO graph_nodes VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            for (i, n) in g.nodes.enumerated() {
                try node.run([.int(id), .int(Int64(i)), .text(n.op), .text(n.output.name), .text(n.output.type),
                              .text(n.inputs.joined(separator: ", ")), n.scope == 0 ? .null : .int(Int64(n.scope)),
                              n.bypassOf == 0 ? .null : .int(Int64(n.bypassOf))])
            }
            let call = try db.prepare("INSERT INTO graph_calls VALUES (?, ?, ?, ?, ?)")
            for (i, c) in g.calls.enumerated() {
                try call.run([.int(id), .int(Int64(i)), c.caller == 0 ? .null : .int(Int64(c.caller)), .int(Int64(c.callee)),
                              .int(Int64(c.count))])
            }
        }
    }

    // MARK: End of run

    /// Writes the module tree, threads, steps and bypass findings, builds the indexes
    /// and marks the run complete.
    public func finish(modules: [ModuleInfo], bypasses: [BypassFinding], threads: [(index: UInt16, osThreadID: Int32)],
                       endWallNanoseconds: UInt64, dropped: UInt64, pid: Int32) throws {
        if let last = current { steps[last.step] = last.range }
        try db.transaction {
            try writePendingGraphs()
            let module = try db.prepare("INSERT OR REPLACE INTO modules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            for (ordinal, m) in modules.enumerated() {
                try module.run([.int(runID), .int(Int64(m.id)), .text(m.path), .text(m.type),
                                m.parent == 0 ? .null : .int(Int64(m.parent)), .int(Int64(m.directParameters)),
                                .int(Int64(m.totalParameters)), .text(HookBit.names(m.hooks).joined(separator: ",")),
                                .int(m.isBuiltIn ? 1 : 0), .int(Int64(ordinal))])
            }
            let thread = try db.prepare("INSERT OR REPLACE INTO threads VALUES (?, ?, ?, ?)")
            for t in threads {
                try thread.run([.int(runID), .int(Int64(t.index)), .int(Int64(t.osThreadID)),
                                .text(t.osThreadID == pid ? "main" : "thread \(t.index)")])
            }
            let step = try db.prepare("""
                UPDATE steps SET span_id = ?, ts_ns = ?, dur_ns = ?, first_span_id = ?, last_span_id = ?
                WHERE run_id = ? AND step = ?
                """)
            for (n, r) in steps.sorted(by: { $0.key < $1.key }) {
                try step.run([r.span.map { .int($0) } ?? .null, r.span == nil ? .null : .int(r.ts),
                              r.span == nil ? .null : .int(r.dur), .int(r.first), .int(r.last), .int(runID), .int(Int64(n))])
            }
            let bypass = try db.prepare("INSERT OR REPLACE INTO bypasses VALUES (?, ?, ?, ?, ?, ?, ?)")
            for f in bypasses + neverRan(modules) {
                try bypass.run([.int(runID), .int(Int64(f.module)), .int(Int64(f.caller)), .text(f.evidence.name),
                                .int(Int64(f.count)), .int(Int64(f.firstStep)), .text(f.detail)])
            }
            let stat = try db.prepare("INSERT OR REPLACE INTO span_stats VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            for (slot, st) in statistics.all.enumerated() where st.calls > 0 {
                try stat.run([.int(runID), .int(firstSignature! + Int64(slot)), .int(st.calls), .int(st.total), .int(st.selfTime),
                              .int(st.allocated), .int(st.freed), st.peak.map { .int($0) } ?? .null, .blob(st.histogram.serialized)])
            }
            try db.prepare("UPDATE runs SET status = 'complete', end_wall_ns = ?, dropped_events = ?, span_count = ? WHERE id = ?")
                .run([.int(Int64(endWallNanoseconds)), .int(Int64(dropped)), .int(spanCount), .int(runID)])
            try db.execute(Schema.indexes)
        }
        try db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// Bypass signature 3: modules that never entered their wrapper although the module
    /// that registered them did (holders without a wrapper, like ModuleList, are looked through).
    func neverRan(_ modules: [ModuleInfo]) -> [BypassFinding] {
        let byID = Dictionary(modules.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        func caller(_ m: ModuleInfo) -> UInt32? {
            var parent = m.parent
            while let p = byID[parent], p.isContainer { parent = p.parent }
            return parent == 0 ? nil : parent
        }
        return modules.compactMap { m in
            guard !m.isContainer, !ran(m.id), let parent = caller(m), ran(parent) else { return nil }
            return BypassFinding(module: m.id, caller: parent, evidence: .neverRan, count: 1,
                                 firstStep: firstStep ?? 0, detail: "")
        }
    }
}

/// Signature ids by the fields that make a signature, in an open-addressing table with a
/// cheap hash (the writer looks one up per span).
struct SignatureCache {
    private var keys: [(UInt64, UInt64, UInt64)]
    private var ids: [Int64]
    private var used = 0

    init() {
        keys = Array(repeating: (0, 0, 0), count: 1024)
        ids = Array(repeating: -1, count: 1024)
    }

    /// The fields of `r` that a signature is made of, packed exactly.
    @inline(__always)
    static func key(_ r: SpanRecord) -> (UInt64, UInt64, UInt64) {
        let subject = r.kind == SpanKind.step.rawValue ? 0 : r.subject
        let a = UInt64(subject) | UInt64(r.thread) << 32 | UInt64(r.depth) << 48
        let b = UInt64(r.inputShapes) | UInt64(r.outputShapes) << 32
        let c = UInt64(r.kind) | UInt64(r.flags & (SpanFlag.training | SpanFlag.failed)) << 8 | UInt64(r.hooks) << 16
        return (a, b, c)
    }

    @inline(__always)
    static func slot(_ k: (UInt64, UInt64, UInt64), _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (k.0 &* 0x9e37_79b9_7f4a_7c15 ^ k.1 &* 0xc2b2_ae3d_27d4_eb4f ^ k.2 &* 0x1656_67b1_9e37_79f9) >> 20) & mask
    }

    @inline(__always)
    func lookup(_ r: SpanRecord) -> Int64 {
        let k = SignatureCache.key(r)
        let mask = keys.count - 1
        var i = SignatureCache.slot(k, mask)
        while ids[i] >= 0 {
            if keys[i] == k { return ids[i] }
            i = (i + 1) & mask
        }
        return -1
    }

    mutating func insert(_ r: SpanRecord, _ id: Int64) {
        if (used + 1) * 2 > keys.count { grow() }
        let k = SignatureCache.key(r)
        put(k, id)
    }

    private mutating func put(_ k: (UInt64, UInt64, UInt64), _ id: Int64) {
        let mask = keys.count - 1
        var i = SignatureCache.slot(k, mask)
        while ids[i] >= 0 {
            if keys[i] == k { return }
            i = (i + 1) & mask
        }
        keys[i] = k
        ids[i] = id
        used += 1
    }

    private mutating func grow() {
        let old = zip(keys, ids).filter { $0.1 >= 0 }
        keys = Array(repeating: (0, 0, 0), count: keys.count * 2)
        ids = Array(repeating: -1, count: ids.count * 2)
        used = 0
        for (k, id) in old { put(k, id) }
    }
}

/// Per-signature statistics in flat memory: the writer adds every span to them.
struct SignatureStatistics {
    struct Counters {
        var calls: Int64 = 0, total: Int64 = 0, selfTime: Int64 = 0, allocated: Int64 = 0, freed: Int64 = 0
        var peak: Int64 = .min
    }
    private var counters: [Counters] = []
    /// `Histogram` buckets, one block per slot.
    private var buckets: [UInt32] = []
    private static let width = Histogram.bucketCount

    @inline(__always)
    mutating func add(slot: Int, _ r: SpanRecord, duration: Int64, selfTime: Int64) {
        if slot >= counters.count {
            counters += [Counters](repeating: Counters(), count: slot + 8 - counters.count)
            buckets += [UInt32](repeating: 0, count: counters.count * SignatureStatistics.width - buckets.count)
        }
        let memory = r.flags & SpanFlag.memory != 0
        counters.withUnsafeMutableBufferPointer { c in
            c[slot].calls += 1
            c[slot].total += duration
            c[slot].selfTime += selfTime
            if memory {
                c[slot].allocated += r.allocated
                c[slot].freed += r.freed
                c[slot].peak = max(c[slot].peak, r.peak)
            }
        }
        buckets.withUnsafeMutableBufferPointer { b in
            b[slot * SignatureStatistics.width + Histogram.bucket(duration)] &+= 1
        }
    }

    /// The statistics as `SpanStats`, by slot.
    var all: [SpanStats] {
        counters.enumerated().map { slot, c in
            var st = SpanStats()
            st.calls = c.calls
            st.total = c.total
            st.selfTime = c.selfTime
            st.allocated = c.allocated
            st.freed = c.freed
            st.peak = c.peak == .min ? nil : c.peak
            st.histogram = Histogram(buckets: Array(buckets[slot * SignatureStatistics.width..<(slot + 1) * SignatureStatistics.width]))
            return st
        }
    }
}

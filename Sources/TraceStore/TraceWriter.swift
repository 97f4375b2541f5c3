import TraceEvents
import Synchronization
import TraceRuntime

/// Writes one run into a trace database: the sink of a trace session.
///
/// Spans arrive in batches from the session's drain thread; each batch is one
/// transaction, so a killed process leaves every committed batch readable and the run
/// marked `incomplete`. `finish` writes what is known only at the end (module tree,
/// steps, bypass findings), builds the indexes and marks the run `complete`.
public final class TraceWriter: TraceSink {
    public let path: String
    /// The interned names and shapes the spans' ids refer to (the session's).
    package let names: Interner
    public private(set) var runID: Int64 = 0
    /// The process's modules and threads, asked for when a span names one not yet written:
    /// so the trace of a killed run still names them. The profiler points these at the
    /// process registries; `finish` writes the final lists either way.
    public var describeModules: () -> [ModuleInfo] = { [] }
    public var describeThreads: () -> [(index: UInt16, osThreadID: Int32)] = { [] }
    @exclusivity(unchecked) public private(set) var spanCount: Int64 = 0

    private let db: Database
    private let insertBatch: Statement
    private let insertOne: Statement
    private let insertSignature: Statement
    private let insertStep: Statement
    private let updateSpan: Statement
    /// Rows per INSERT statement: many rows per statement halve SQLite's per-row cost.
    private static let batchRows = 100
    private static let columns = 10

    @exclusivity(unchecked) private var signatures: [SignatureKey: Int64] = [:]
    @exclusivity(unchecked) private var signatureCache = SignatureCache()
    private let updateRun: Statement
    /// The step of the last span written, its base time and id range (flushed to `steps` when it changes).
    @exclusivity(unchecked) private var current: (step: UInt32, base: Int64, range: StepRange)?
    private var stringIDs: [UInt32: Int64] = [:]
    private var textIDs: [String: Int64] = [:]
    private var shapeIDs: [UInt32: Int64] = [:]
    @exclusivity(unchecked) private var steps: [UInt32: StepRange] = [:]
    /// Step base times by step number (`Int64.min`: not seen yet), and new ones to insert into `steps`.
    @exclusivity(unchecked) private var stepBases: [Int64] = []
    @exclusivity(unchecked) private var newSteps: [(step: UInt32, base: Int64)] = []
    @exclusivity(unchecked) private var modulesThatRan: [Bool] = []
    /// Statistics per signature of this run (index: signature id − `firstSignature`).
    @exclusivity(unchecked) private var statistics = SignatureStatistics()
    @exclusivity(unchecked) private var firstSignature: Int64?
    @exclusivity(unchecked) private var selfTimes = SelfTimeAccumulator()
    private var firstStep: UInt32?
    /// Modules and threads seen in a signature, and those whose rows are written.
    private var namedModules = Set<UInt32>(), writtenModules = Set<UInt32>()
    private var namedThreads = Set<UInt16>(), writtenThreads = Set<UInt16>()
    private let pid: Int
    private let pendingGraphs = Mutex<[StaticGraph]>([])

    struct SignatureKey: Hashable {
        var kind: UInt8, subject: UInt32, thread: UInt16, depth: UInt16
        var inputs: UInt32, outputs: UInt32, flags: UInt8, hooks: UInt8
    }

    struct StepRange {
        var first: Int64, last: Int64
        var span: Int64?, ts: Int64 = 0, dur: Int64 = 0
    }

    /// Opens (creating if needed) the database at `path` and starts a run in it. With
    /// `maxBytes`, the file may not grow beyond that size: writing more fails as a full disk does.
    package init(path: String, run: RunDescription, maxBytes: Int? = nil, names: Interner = Interner()) throws {
        self.path = path
        self.names = names
        pid = run.pid
        db = try Database(path: path, mode: .readWrite)
        try TraceWriter.prepareSchema(db)
        if let maxBytes {
            let pageSize = try db.scalar("PRAGMA page_size") ?? 4096
            try db.execute("PRAGMA max_page_count = \(max(maxBytes / Int(pageSize), 1))")
        }
        let row = (0..<TraceWriter.columns).map { _ in "?" }.joined(separator: ",")
        insertBatch = try db.prepare("INSERT INTO span_data VALUES " +
            (0..<TraceWriter.batchRows).map { _ in "(\(row))" }.joined(separator: ","))
        insertOne = try db.prepare("INSERT INTO span_data VALUES (\(row))")
        insertStep = try db.prepare("INSERT OR IGNORE INTO steps(run_id, step, base_ns) VALUES (?, ?, ?)")
        updateSpan = try db.prepare("""
            UPDATE span_data SET sig = ?2, up = ?3, step = ?4, ts = ?5, dur = ?6, alloc = ?7, freed = ?8, peak = ?9, live = ?10
            WHERE id = ?11
            """)
        updateRun = try db.prepare("UPDATE runs SET dropped_events = ?, span_count = ? WHERE id = ?")
        insertSignature = try db.prepare("""
            INSERT INTO signatures(run_id, kind, module_id, name_id, thread, depth, input_shapes, output_shapes, flags, hooks_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        try db.transaction {
            let maxID = try db.scalar("SELECT COALESCE(MAX(id), 0) FROM span_data") ?? 0
            nextRow = maxID + 1
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

    package func write(_ records: UnsafeBufferPointer<SpanRecord>, dropped: UInt64) throws {
        try db.transaction {
            plan.removeAll(keepingCapacity: true)
            updates.removeAll(keepingCapacity: true)
            // In arrival order (children before parents on each thread): signatures, statistics
            // (so that whole-run reports need not scan spans), and the order rows are written in.
            for r in records {
                let cached = signatureCache.lookup(r)
                let sig = cached >= 0 ? cached : try signature(r)
                let duration = max(Int64(bitPattern: r.end) - Int64(bitPattern: r.start), 0)
                let selfTime = selfTimes.arrive(thread: Int(r.thread), depth: Int(r.depth), duration: duration)
                let first = firstSignature ?? sig
                firstSignature = first
                statistics.add(slot: Int(sig - first), r, duration: duration, selfTime: selfTime)
                try arrive(r, sig)
            }
            // Spans waiting since the previous batch for a parent that is still open (a long step)
            // are written now, under placeholder rows for the open parents: nothing waits more
            // than two drain intervals to be committed.
            for t in queues.indices where !queues[t].buffer.isEmpty {
                queues[t].waited += 1
                if queues[t].waited >= 2 || queues[t].buffer.count > 1 << 20 { try emitBuffer(thread: t) }
            }
            let written = try executePlan()
            try updateRun.run([.int(Int64(dropped)), .int(spanCount + written), .int(runID)])
            try writePendingGraphs()
            spanCount += written
        }
        sinceCheckpoint += records.count
        if sinceCheckpoint >= TraceWriter.checkpointEvery {
            sinceCheckpoint = 0
            try db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        }
    }

    /// Spans between checkpoints: bounds the WAL to about 150 MB.
    static let checkpointEvery = 4_000_000
    @exclusivity(unchecked) private var sinceCheckpoint = 0

    // MARK: Row order

    /// One thread's spans that wait for their parent's row.
    struct ThreadQueue {
        var buffer: [(record: SpanRecord, sig: Int64)] = []
        /// Rows reserved for spans that had not ended when their children were written.
        var placeholders: [UInt64: Int64] = [:]
        /// Batches the buffer has waited through.
        var waited = 0
    }

    /// A row to insert (its id is implied by its position): span `index` of emitted group
    /// `group`, or a placeholder (`group` −1).
    struct PlannedRow {
        var group: Int32
        var index: Int32
        var up: Int64?
        var step: UInt32
    }

    /// Buffers whose spans are planned in this batch (plan rows point into them).
    @exclusivity(unchecked) private var groups: [[(record: SpanRecord, sig: Int64)]] = []
    @exclusivity(unchecked) private var spare: [[(record: SpanRecord, sig: Int64)]] = []
    @exclusivity(unchecked) private var order: [Int32] = []

    @exclusivity(unchecked) private var queues: [ThreadQueue] = []
    @exclusivity(unchecked) private var plan: [PlannedRow] = []
    @exclusivity(unchecked) private var updates: [(row: Int64, record: SpanRecord, sig: Int64, up: Int64?)] = []
    /// The id the next inserted row gets (SQLite gives max(id) + 1; rows are written in this order).
    @exclusivity(unchecked) private var nextRow: Int64 = 1
    @exclusivity(unchecked) private var opened: [(id: UInt64, row: Int64)] = []

    /// Rows are written in start order (pre-order) with ids SQLite assigns — appending, the
    /// fastest insert there is — and each row stores `id - parent id`. A span's row can be written
    /// once its parent's row exists, so a finished subtree waits for its root: a step's spans
    /// are written together when the step ends.
    private func arrive(_ r: SpanRecord, _ sig: Int64) throws {
        let t = Int(r.thread)
        if t >= queues.count { queues += [ThreadQueue](repeating: ThreadQueue(), count: t + 1 - queues.count) }
        if let row = queues[t].placeholders.removeValue(forKey: r.id) {
            // It ended after its children were written: fill in its reserved row.
            updates.append((row, r, sig, try parentRow(r, thread: t).map { row - $0 }))
            try emitBuffer(thread: t)
            return
        }
        if r.parent == 0 || (!queues[t].placeholders.isEmpty && queues[t].placeholders[r.parent] != nil) {
            queues[t].buffer.append((r, sig))
            try emitBuffer(thread: t)
        } else {
            queues[t].buffer.append((r, sig))
        }
    }

    /// Plans the rows of a thread's buffered spans in start order; parents not among them get
    /// placeholder rows.
    private func emitBuffer(thread t: Int) throws {
        guard !queues[t].buffer.isEmpty else { return }
        // Take the buffer (no copy) and give the queue a recycled one.
        var spans = spare.popLast() ?? []
        swap(&spans, &queues[t].buffer)
        queues[t].waited = 0
        let group = Int32(groups.count)
        // Arrived children first; start order is id order: sort positions, not records.
        order.removeAll(keepingCapacity: true)
        order.append(contentsOf: 0..<Int32(spans.count))
        spans.withUnsafeBufferPointer { b in order.sort { b[Int($0)].record.id < b[Int($1)].record.id } }
        opened.removeAll(keepingCapacity: true)
        for i in order {
            let r = spans[Int(i)].record
            while let top = opened.last, top.id != r.parent { opened.removeLast() }
            let up: Int64?
            if r.parent == 0 {
                up = nil
            } else if let parent = opened.last {
                up = nextRow - parent.row
            } else {
                let parent = placeholder(r.parent, thread: t, step: r.step)
                up = nextRow - parent
            }
            opened.append((r.id, nextRow))
            plan.append(PlannedRow(group: group, index: i, up: up, step: r.step))
            nextRow += 1
        }
        groups.append(spans)
    }

    /// The row of `r`'s parent, reserving one if the parent is still open.
    private func parentRow(_ r: SpanRecord, thread t: Int) throws -> Int64? {
        r.parent == 0 ? nil : placeholder(r.parent, thread: t, step: r.step)
    }

    private func placeholder(_ id: UInt64, thread t: Int, step: UInt32) -> Int64 {
        if let row = queues[t].placeholders[id] { return row }
        let row = nextRow
        nextRow += 1
        plan.append(PlannedRow(group: -1, index: 0, up: nil, step: step))
        queues[t].placeholders[id] = row
        return row
    }

    /// Inserts the planned rows, many per statement, then fills in placeholders whose spans ended.
    /// Returns the number of spans written (placeholders are not spans yet).
    @discardableResult
    private func executePlan() throws -> Int64 {
        let firstRow = nextRow - Int64(plan.count)
        var index = 0
        while index + TraceWriter.batchRows <= plan.count {
            for row in 0..<TraceWriter.batchRows {
                try bind(plan[index + row], id: firstRow + Int64(index + row), insertBatch, base: Int32(row * TraceWriter.columns))
            }
            try insertBatch.step()
            insertBatch.resetKeepingBindings()
            index += TraceWriter.batchRows
        }
        while index < plan.count {
            try bind(plan[index], id: firstRow + Int64(index), insertOne, base: 0)
            try insertOne.step()
            insertOne.resetKeepingBindings()
            index += 1
        }
        if !plan.isEmpty && db.lastInsertID != nextRow - 1 {
            throw StoreError("\(path): span rows got ids \(db.lastInsertID) instead of \(nextRow - 1); is another process writing?")
        }
        // Step base times, in the same transaction as the spans that need them.
        for new in newSteps { try insertStep.run([.int(runID), .int(Int64(new.step)), .int(new.base)]) }
        newSteps.removeAll(keepingCapacity: true)
        for u in updates {
            try bind(u.record, u.sig, up: u.up, id: u.row, updateSpan, base: 0)
            updateSpan.bind(u.row, at: Int32(TraceWriter.columns) + 1)
            try updateSpan.step()
            updateSpan.resetKeepingBindings()
        }
        let written = Int64(plan.lazy.filter { $0.group >= 0 }.count + updates.count)
        for var g in groups {
            g.removeAll(keepingCapacity: true)
            spare.append(g)
        }
        groups.removeAll(keepingCapacity: true)
        return written
    }

    @inline(__always)
    private func bind(_ p: PlannedRow, id: Int64, _ s: Statement, base: Int32) throws {
        guard p.group >= 0 else {
            // A placeholder: a span still open; filled in when it ends.
            s.bindNull(at: base + 1)
            s.bind(0, at: base + 2)
            s.bindNull(at: base + 3)
            s.bind(Int64(p.step), at: base + 4)
            if current?.step != p.step { try enterStep(p.step, 0, id) }
            s.bind(0, at: base + 5)
            s.bind(0, at: base + 6)
            for c in Int32(7)...10 { s.bindNull(at: base + c) }
            return
        }
        let span = groups[Int(p.group)][Int(p.index)]
        try bind(span.record, span.sig, up: p.up, id: id, s, base: base)
    }

    @inline(__always)
    private func bind(_ r: SpanRecord, _ sig: Int64, up: Int64?, id: Int64, _ s: Statement, base: Int32) throws {
        // The id column is left NULL: SQLite appends with max(id) + 1, which is `id`.
        s.bindNull(at: base + 1)
        s.bind(sig, at: base + 2)
        if let up { s.bind(up, at: base + 3) } else { s.bindNull(at: base + 3) }
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

    /// Makes `step` current. Its base time is recorded (in `steps`) with the first span of it written.
    private func enterStep(_ step: UInt32, _ ts: Int64, _ id: Int64) throws {
        if let previous = current { steps[previous.step] = previous.range }
        let base: Int64
        let i = Int(step)
        if i >= stepBases.count { stepBases += [Int64](repeating: .min, count: max(i + 1 - stepBases.count, 1024)) }
        if stepBases[i] != .min {
            base = stepBases[i]
        } else {
            newSteps.append((step, ts))
            stepBases[i] = ts
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
        if isModule && namedModules.insert(r.subject).inserted { try writeModules(describeModules(), onlyNew: true) }
        if namedThreads.insert(r.thread).inserted { try writeThreads(describeThreads(), onlyNew: true) }
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
        let id = try textID(names.string(processID))
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
        let shapes = names.shapes(processID)
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
                       endWallNanoseconds: UInt64, dropped: UInt64) throws {
        try db.transaction {
            // Whatever still waits for a parent that never ended (the session stopped inside it).
            plan.removeAll(keepingCapacity: true)
            updates.removeAll(keepingCapacity: true)
            for t in queues.indices { try emitBuffer(thread: t) }
            spanCount += try executePlan()
            if let last = current { steps[last.step] = last.range }
            try writePendingGraphs()
            try writeModules(modules)
            try writeThreads(threads)
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

    /// Writes `modules` (with `onlyNew`, those not written yet: a model that keeps creating
    /// modules costs one row each, not the whole registry again).
    private func writeModules(_ modules: [ModuleInfo], onlyNew: Bool = false) throws {
        let module = try db.prepare("INSERT OR REPLACE INTO modules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        for (ordinal, m) in modules.enumerated() where !(onlyNew && writtenModules.contains(m.id)) {
            try module.run([.int(runID), .int(Int64(m.id)), .text(m.path), .text(m.type),
                            m.parent == 0 ? .null : .int(Int64(m.parent)), .int(Int64(m.directParameters)),
                            .int(Int64(m.totalParameters)), .text(HookBit.names(m.hooks).joined(separator: ",")),
                            .int(m.isBuiltIn ? 1 : 0), .int(Int64(ordinal))])
            writtenModules.insert(m.id)
        }
    }

    private func writeThreads(_ threads: [(index: UInt16, osThreadID: Int32)], onlyNew: Bool = false) throws {
        let thread = try db.prepare("INSERT OR REPLACE INTO threads VALUES (?, ?, ?, ?)")
        for t in threads where !(onlyNew && writtenThreads.contains(t.index)) {
            try thread.run([.int(runID), .int(Int64(t.index)), .int(Int64(t.osThreadID)),
                            .text(Int(t.osThreadID) == pid ? "main" : "thread \(t.index)")])
            writtenThreads.insert(t.index)
        }
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
        // A module under which something ran was iterated (a container) or had its wrapper
        // skipped (reported as such): it did not "never run".
        var descendantRan = Set<UInt32>()
        for m in modules where ran(m.id) {
            var p = m.parent
            while p != 0, descendantRan.insert(p).inserted { p = byID[p]?.parent ?? 0 }
        }
        return modules.compactMap { m in
            guard !m.isContainer, !ran(m.id), !descendantRan.contains(m.id), let parent = caller(m), ran(parent) else { return nil }
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
    private var histograms: [Histogram] = []

    @inline(__always)
    mutating func add(slot: Int, _ r: SpanRecord, duration: Int64, selfTime: Int64) {
        if slot >= counters.count {
            counters += [Counters](repeating: Counters(), count: slot + 8 - counters.count)
            histograms += [Histogram](repeating: Histogram(), count: counters.count - histograms.count)
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
        histograms[slot].add(duration)
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
            st.histogram = histograms[slot]
            return st
        }
    }
}

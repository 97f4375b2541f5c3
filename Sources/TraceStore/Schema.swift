import TraceEvents

/// The trace database schema. `Traces/README.md` documents it for users.
package enum Schema {
    /// Bumped whenever a reader of the previous version could misread a file.
    package static let version = 1

    static let tables = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS runs(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            start_wall_ns INTEGER NOT NULL,
            end_wall_ns INTEGER,
            status TEXT NOT NULL,
            command TEXT NOT NULL,
            host TEXT NOT NULL,
            pid INTEGER NOT NULL,
            rank INTEGER NOT NULL DEFAULT 0,
            world_size INTEGER NOT NULL DEFAULT 1,
            options TEXT NOT NULL,
            dropped_events INTEGER NOT NULL DEFAULT 0,
            span_count INTEGER NOT NULL DEFAULT 0,
            first_span_id INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS span_kinds(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS strings(id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
        CREATE TABLE IF NOT EXISTS shapes(id INTEGER PRIMARY KEY, text TEXT NOT NULL, dtypes TEXT NOT NULL,
            UNIQUE(text, dtypes));
        CREATE TABLE IF NOT EXISTS modules(
            run_id INTEGER NOT NULL,
            id INTEGER NOT NULL,
            path TEXT NOT NULL,
            type TEXT NOT NULL,
            parent_id INTEGER,
            parameters INTEGER NOT NULL,
            total_parameters INTEGER NOT NULL,
            hooks TEXT NOT NULL,
            built_in INTEGER NOT NULL,
            ordinal INTEGER NOT NULL,
            PRIMARY KEY(run_id, id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS threads(
            run_id INTEGER NOT NULL,
            id INTEGER NOT NULL,
            os_tid INTEGER NOT NULL,
            name TEXT NOT NULL,
            PRIMARY KEY(run_id, id)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS signatures(
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL,
            kind INTEGER NOT NULL,
            module_id INTEGER,
            name_id INTEGER,
            thread INTEGER NOT NULL,
            depth INTEGER NOT NULL,
            input_shapes INTEGER,
            output_shapes INTEGER,
            flags INTEGER NOT NULL,
            hooks_id INTEGER);
        CREATE TABLE IF NOT EXISTS span_data(
            id INTEGER PRIMARY KEY,
            sig INTEGER NOT NULL,
            up INTEGER,
            step INTEGER NOT NULL,
            ts INTEGER NOT NULL,
            dur INTEGER NOT NULL,
            alloc INTEGER,
            freed INTEGER,
            peak INTEGER,
            live INTEGER);
        CREATE TABLE IF NOT EXISTS steps(
            run_id INTEGER NOT NULL,
            step INTEGER NOT NULL,
            base_ns INTEGER NOT NULL,
            span_id INTEGER,
            ts_ns INTEGER,
            dur_ns INTEGER,
            first_span_id INTEGER,
            last_span_id INTEGER,
            PRIMARY KEY(run_id, step)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS span_stats(
            run_id INTEGER NOT NULL,
            sig INTEGER NOT NULL,
            calls INTEGER NOT NULL,
            total_ns INTEGER NOT NULL,
            self_ns INTEGER NOT NULL,
            alloc_bytes INTEGER NOT NULL,
            freed_bytes INTEGER NOT NULL,
            peak_bytes INTEGER,
            histogram BLOB NOT NULL,
            PRIMARY KEY(run_id, sig)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS bypasses(
            run_id INTEGER NOT NULL,
            module_id INTEGER NOT NULL,
            caller_id INTEGER NOT NULL,
            evidence TEXT NOT NULL,
            count INTEGER NOT NULL,
            first_step INTEGER NOT NULL,
            detail TEXT NOT NULL,
            PRIMARY KEY(run_id, module_id, caller_id, evidence)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS graphs(
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL,
            step INTEGER NOT NULL,
            label TEXT NOT NULL,
            inputs TEXT NOT NULL,
            outputs TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS graph_nodes(
            graph_id INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            op TEXT NOT NULL,
            output TEXT NOT NULL,
            output_type TEXT NOT NULL,
            inputs TEXT NOT NULL,
            module_id INTEGER,
            bypass_of INTEGER,
            PRIMARY KEY(graph_id, idx)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS graph_calls(
            graph_id INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            caller_id INTEGER,
            callee_id INTEGER NOT NULL,
            calls INTEGER NOT NULL,
            PRIMARY KEY(graph_id, idx)) WITHOUT ROWID;
        """

    static let views = """
        CREATE VIEW IF NOT EXISTS spans AS
        SELECT s.id AS id,
               g.run_id AS run_id,
               s.id - s.up AS parent_id,
               g.depth AS depth,
               COALESCE(k.name, 'kind ' || g.kind) AS kind,
               CASE WHEN g.kind IN (0, 1) THEN (CASE m.path WHEN '' THEN m.type ELSE m.path END)
                    WHEN g.kind = 4 THEN 'ProfilerStep#' || s.step
                    ELSE n.text END AS name,
               m.path AS module_path,
               m.type AS module_type,
               g.thread AS thread,
               s.step AS step,
               st.base_ns + s.ts AS ts_ns,
               s.dur AS dur_ns,
               si.text AS input_shapes,
               so.text AS output_shapes,
               s.alloc AS alloc_bytes,
               s.freed AS freed_bytes,
               s.live + s.peak AS peak_bytes,
               s.live AS live_bytes,
               CASE WHEN g.kind = 0 THEN g.flags & 1 END AS training,
               h.text AS hooks,
               (g.flags >> 1) & 1 AS failed
        FROM span_data s
        JOIN signatures g ON g.id = s.sig
        JOIN steps st ON st.run_id = g.run_id AND st.step = s.step
        LEFT JOIN span_kinds k ON k.id = g.kind
        LEFT JOIN modules m ON m.run_id = g.run_id AND m.id = g.module_id
        LEFT JOIN strings n ON n.id = g.name_id
        LEFT JOIN strings h ON h.id = g.hooks_id
        LEFT JOIN shapes si ON si.id = g.input_shapes
        LEFT JOIN shapes so ON so.id = g.output_shapes;
        """

    /// Built when a run ends (cheaper than maintaining them during the run).
    static let indexes = """
        CREATE INDEX IF NOT EXISTS signatures_by_module ON signatures(run_id, kind, module_id);
        """

    static let kindNames = ["forward", "backward", "optimizer", "range", "step", "op"]

    /// Span kinds are data: every writer records the names of the kinds it knows (collectives
    /// and their wait/transfer parts included), so readers never need the runtime's enum.
    static func recordSpanKinds(_ db: Database) throws {
        try db.execute("CREATE TABLE IF NOT EXISTS span_kinds(id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
        // Where a run's time zero is on the host's clocks, and the launcher's job: what merging
        // ranks needs (created here too, so that older files gain it).
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS run_clock(run_id INTEGER PRIMARY KEY, job TEXT,
                origin_wall_ns INTEGER NOT NULL, origin_monotonic_ns INTEGER NOT NULL)
            """)
        // Each rank's clock offset to rank 0 (ping-pong at the start and end of a data-parallel run).
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS clock_sync(run_id INTEGER NOT NULL, phase TEXT NOT NULL, method TEXT NOT NULL,
                offset_ns INTEGER NOT NULL, bound_ns INTEGER NOT NULL, min_rtt_ns INTEGER NOT NULL,
                exchanges INTEGER NOT NULL, same_host INTEGER NOT NULL)
            """)
        let insert = try db.prepare("INSERT OR REPLACE INTO span_kinds VALUES (?, ?)")
        for kind in SpanKind.allCases { try insert.run([.int(Int64(kind.rawValue)), .text(kind.name)]) }
    }
}

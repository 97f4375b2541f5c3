import TraceEvents
import TraceStore

/// The small tables of one run, loaded into memory; span rows stay in SQLite and are streamed.
package struct TraceModel {
    package struct Signature {
        package var kind: SpanKind
        package var moduleID: Int64?
        package var name: String
        package var thread: Int64
        package var depth: Int
        package var inputShapes: String?
        package var outputShapes: String?
        package var training: Bool
        package var failed: Bool
        package var hooks: String
    }

    package struct ModuleRow {
        package var id: Int64
        package var path: String
        package var type: String
        package var parentID: Int64?
        package var parameters: Int64
        package var totalParameters: Int64
        package var hooks: String
        package var builtIn: Bool
        /// Position in a pre-order walk of the tree, in registration order.
        package var ordinal: Int64
        /// The path, or the type for a root.
        package var displayName: String { path.isEmpty ? type : path }
    }

    package struct Step {
        package var step: Int64
        package var baseNanoseconds: Int64
        package var spanID: Int64?
        package var ts: Int64?
        package var dur: Int64?
        package var firstSpanID: Int64?
        package var lastSpanID: Int64?
    }

    package let run: RunInfo
    package let signatures: [Int64: Signature]
    package let modules: [Int64: ModuleRow]
    /// Modules in tree order (pre-order by path).
    package let moduleOrder: [Int64]
    package let steps: [Int64: Step]
    package let threads: [Int64: (osThreadID: Int64, name: String)]

    package init(reader: TraceReader, run: RunInfo) throws {
        self.run = run
        let db = reader.db
        var strings: [Int64: String] = [:]
        let s = try db.prepare("SELECT id, text FROM strings")
        while try s.step() { strings[s.int(0)] = s.text(1) }
        var shapes: [Int64: String] = [:]
        let sh = try db.prepare("SELECT id, text FROM shapes")
        while try sh.step() { shapes[sh.int(0)] = sh.text(1) }

        var modules: [Int64: ModuleRow] = [:]
        let m = try db.prepare(
            """
            SELECT id, path, type, parent_id, parameters, total_parameters, hooks, built_in, ordinal FROM modules WHERE run_id = ?
            """)
        try m.bind([.int(run.id)])
        while try m.step() {
            modules[m.int(0)] = ModuleRow(
                id: m.int(0), path: m.text(1), type: m.text(2), parentID: m.optionalInt(3),
                parameters: m.int(4), totalParameters: m.int(5), hooks: m.text(6), builtIn: m.int(7) != 0,
                ordinal: m.int(8))
        }
        self.modules = modules
        moduleOrder = TraceModel.treeOrder(modules)

        var signatures: [Int64: Signature] = [:]
        let g = try db.prepare(
            """
            SELECT id, kind, module_id, name_id, thread, depth, input_shapes, output_shapes, flags, hooks_id
            FROM signatures WHERE run_id = ?
            """)
        try g.bind([.int(run.id)])
        while try g.step() {
            guard let kind = UInt8(exactly: g.int(1)).flatMap(SpanKind.init(rawValue:)) else {
                throw StoreError("signature \(g.int(0)) of run \(run.id) has an unknown span kind \(g.int(1)) (a newer or damaged trace)")
            }
            let moduleID = g.optionalInt(2)
            let name: String
            if let moduleID, kind.isModuleSpan {
                name = modules[moduleID]?.displayName ?? "module \(moduleID)"
            } else {
                name = g.optionalInt(3).flatMap { strings[$0] } ?? (kind == .step ? "ProfilerStep" : "?")
            }
            signatures[g.int(0)] = Signature(
                kind: kind, moduleID: moduleID, name: name, thread: g.int(4), depth: Int(g.int(5)),
                inputShapes: g.optionalInt(6).flatMap { shapes[$0] }, outputShapes: g.optionalInt(7).flatMap { shapes[$0] },
                training: g.int(8) & 1 != 0, failed: g.int(8) & 2 != 0, hooks: g.optionalInt(9).flatMap { strings[$0] } ?? "")
        }
        self.signatures = signatures
        // Signature ids index arrays: they must be dense (a crafted id of 4e12 is not an allocation).
        let lowest = signatures.keys.min() ?? 1
        let highest = signatures.keys.max() ?? 0
        guard lowest >= 1, highest < Checked.limit, signatures.isEmpty || highest - lowest < Int64(signatures.count) * 4 + 65_536 else {
            throw StoreError("run \(run.id): signature ids \(lowest)..\(highest) are out of range (a damaged or crafted trace)")
        }
        signatureIDs = lowest...max(lowest, highest)

        var steps: [Int64: Step] = [:]
        let st = try db.prepare(
            """
            SELECT step, base_ns, span_id, ts_ns, dur_ns, first_span_id, last_span_id FROM steps WHERE run_id = ?
            """)
        try st.bind([.int(run.id)])
        while try st.step() {
            steps[st.int(0)] = Step(
                step: st.int(0), baseNanoseconds: st.int(1), spanID: st.optionalInt(2), ts: st.optionalInt(3),
                dur: st.optionalInt(4), firstSpanID: st.optionalInt(5), lastSpanID: st.optionalInt(6))
        }
        self.steps = steps

        var threads: [Int64: (Int64, String)] = [:]
        let t = try db.prepare("SELECT id, os_tid, name FROM threads WHERE run_id = ?")
        try t.bind([.int(run.id)])
        while try t.step() { threads[t.int(0)] = (t.int(1), t.text(2)) }
        self.threads = threads

        let first = try Checked.bounded(run.firstSpanID, "run \(run.id): first span id")
        guard first >= 1 else { throw Checked.damaged("run \(run.id): first span id", first) }
        let next = try db.scalar("SELECT min(first_span_id) FROM runs WHERE id > ?", [.int(run.id)])
            .map { try Checked.bounded($0, "run after \(run.id): first span id") }
        let last = try next.map { $0 - 1 } ?? (db.scalar("SELECT COALESCE(max(id), 0) FROM span_data") ?? 0)
        idRange = first...max(first, last)
    }

    /// The ids of the run's signatures, dense: arrays over them have `signatureIDs.count` slots.
    package let signatureIDs: ClosedRange<Int64>

    /// The array slot of signature `id`, nil when it is not one of the run's.
    @inline(__always)
    package func signatureSlot(_ id: Int64) -> Int? {
        signatureIDs.contains(id) ? Int(id - signatureIDs.lowerBound) : nil
    }

    /// Throws when `range` selects none of the run's steps (one line, naming the steps there are).
    package func checkSteps(_ range: ClosedRange<Int64>?) throws {
        guard let range, !steps.keys.contains(where: range.contains) else { return }
        guard let first = steps.keys.min(), let last = steps.keys.max() else {
            throw StoreError("run \(run.id) has no profiler steps; leave out --steps")
        }
        let selected = range.lowerBound == range.upperBound ? "step \(range.lowerBound)" : "steps \(range.lowerBound)..\(range.upperBound)"
        throw StoreError("run \(run.id) has no \(selected) (it has steps \(first)..\(last))")
    }

    /// Module ids ordered as a tree walk: each root, then its children by registration path.
    static func treeOrder(_ modules: [Int64: ModuleRow]) -> [Int64] {
        var children: [Int64: [ModuleRow]] = [:]
        var roots: [ModuleRow] = []
        for m in modules.values {
            if let p = m.parentID, modules[p] != nil { children[p, default: []].append(m) } else { roots.append(m) }
        }
        // An explicit stack, not recursion: a crafted 200,000-deep chain must not overflow the stack.
        var order: [Int64] = []
        var pending = roots.sorted(by: { $0.ordinal > $1.ordinal })
        var visited = Set<Int64>()
        while let m = pending.popLast() {
            guard visited.insert(m.id).inserted else { continue }
            order.append(m.id)
            pending += (children[m.id] ?? []).sorted(by: { $0.ordinal > $1.ordinal })
        }
        return order
    }

    /// The outermost module of `id`'s tree (itself for a root), nil for an unknown id.
    package func root(of id: Int64) -> ModuleRow? {
        guard var current = modules[id] else { return nil }
        var depth = 0
        while let p = current.parentID, let parent = modules[p], depth < 100_000 {
            current = parent
            depth += 1
        }
        return current
    }

    /// Nesting depth of a module in its tree (roots are 0).
    package func treeDepth(_ id: Int64) -> Int {
        var depth = 0
        var current = modules[id]?.parentID
        while let p = current, let parent = modules[p], depth < 256 {
            depth += 1
            current = parent.parentID
        }
        return depth
    }

    /// Span ids of this run: from its first id to the next run's first id.
    package let idRange: ClosedRange<Int64>

    /// The span ids to scan for steps `range` (the whole run when nil). Narrowed with the
    /// `steps` table when the run completed; callers still filter rows by step.
    package func spanIDs(steps range: ClosedRange<Int64>?) -> ClosedRange<Int64> {
        guard let range, run.runStatus?.isFinished == true else { return idRange }
        let selected = steps.values.filter { range.contains($0.step) }
        guard let lo = selected.compactMap(\.firstSpanID).min(), let hi = selected.compactMap(\.lastSpanID).max() else {
            return idRange.lowerBound...idRange.lowerBound
        }
        return max(lo, idRange.lowerBound)...min(hi, idRange.upperBound)
    }
}

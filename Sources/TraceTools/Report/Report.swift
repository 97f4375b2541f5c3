import TraceEvents
import TraceStore

/// Per-module and per-name statistics of one run (or some of its steps).
package struct Report {
    /// Time statistics of one kind of span.
    package struct Timing {
        package var calls: Int64 = 0
        package var total: Int64 = 0
        package var selfTime: Int64 = 0
        /// Tensor bytes allocated during these spans (children included).
        package var allocated: Int64 = 0
        package var histogram = Histogram()
        package var mean: Double { calls == 0 ? 0 : Double(total) / Double(calls) }
        package var p50: Double { histogram.percentile(0.5) }
        package var p95: Double { histogram.percentile(0.95) }

        mutating func add(_ stats: SpanStats) {
            calls += stats.calls
            total += stats.total
            selfTime += stats.selfTime
            allocated += stats.allocated
            histogram.merge(stats.histogram)
        }
    }

    package struct ModuleStats {
        package var module: TraceModel.ModuleRow
        package var depth: Int
        package var forward = Timing()
        package var backward = Timing()
        package var allocated: Int64 = 0
        package var peak: Int64?
        package var inputShapes: [String] = []
        /// Forward calls per distinct input shapes, in first-seen order (shape polymorphism).
        package var inputShapeCalls: [(shapes: String, calls: Int64)] = []
        package var outputShapes: [String] = []
        package var training = false
        package var eval = false

        package var mode: String { training && eval ? "train+eval" : training ? "train" : eval ? "eval" : "" }
        package var ran: Bool { forward.calls > 0 }
    }

    package struct NamedStats {
        package var kind: String
        package var name: String
        package var timing = Timing()
    }

    /// One finding: a skipped wrapper or a state problem (see `BypassEvidence`).
    package struct Bypass {
        /// The module's path in its tree (its type for a root).
        package var module: String
        package var type: String
        /// The type of the outermost module of its tree: two models may both have an `fc`.
        package var root: String
        /// The module whose wrapper was innermost when it was seen, or `<top level>`.
        package var caller: String
        package var evidence: String
        package var count: Int64
        package var firstStep: Int64
        package var detail: String
        package var hooksNotFired: String

        /// `bypass` or `state`.
        package var category: String { BypassEvidence(name: evidence)?.isStateFinding == true ? "state" : "bypass" }

        /// What the finding means and how to fix it, in plain words.
        package var explanation: String {
            let calls = count == 1 ? "1 call" : "\(count) calls"
            let hooks = hooksNotFired == "none registered" ? "" : "; its \(hooksNotFired) hooks did not fire"
            let last = module.split(separator: ".").last.map(String.init) ?? module
            switch BypassEvidence(name: evidence) {
            case .foreignForward:
                return "`\(module).forward(x)` was called directly from `\(caller)` (\(calls)): its wrapper did not run, "
                    + "so the profiler did not measure it\(hooks); write `\(last)(x)`"
            case .parameterRead:
                return "`\(detail.isEmpty ? module : detail)` was read inside `\(caller)` while `\(module)`'s wrapper was not "
                    + "active (\(calls)): its forward was called directly\(hooks); call `\(last)(x)`, or wrap an intended "
                    + "read in `intendedParameterReads { }`"
            case .wrapperSkipped:
                return "`\(module)`'s children ran outside its wrapper (\(calls), from `\(caller)`): its forward was called "
                    + "directly, for example `\(last).forward(x)` or a helper calling `forward`\(hooks); call `\(last)(x)`"
            case .neverRan:
                return "`\(module)` never ran although `\(caller)` did: it is unused, or its forward was called in a way "
                    + "the tracer cannot see\(hooks)"
            case .unregistered:
                return "`\(module)` (\(type)) ran inside `\(caller)` but is not part of its module tree (kept in a dictionary, "
                    + "a struct or a local): its parameters are not in parameters(), no optimizer updates them, and hooks "
                    + "on the model do not reach it; keep it in a stored property, a ModuleList or a ModuleDict"
            case .trainingModeWithoutGrad:
                return "`\(module)` (\(type)) ran in training mode with gradients disabled (\(calls)): an evaluation pass "
                    + "without eval(), so it \(type.contains("Dropout") ? "still dropped values" : "still updated its running statistics"); "
                    + "call model.eval() before evaluating and model.train() after"
            case .evalModeInTraining:
                return "`\(module)` (\(type)) ran in eval mode in a step that updated the parameters (\(calls)): training "
                    + "with eval() left on; call model.train() before the training steps"
            case .batchNormSingleValue:
                return "`\(module)` (\(type)) ran in training mode with one value per channel (\(calls)): its batch "
                    + "statistics are meaningless (PyTorch refuses this); use a batch larger than 1 or eval()"
            case .ddpForwardSkipped:
                return "the model wrapped by `\(module)` ran without its forward (\(calls), via `\(caller)`), outside noSync: "
                    + "\(detail); ranks drift apart; call ddp(x), not ddp.module(x), or use noSync { } on purpose"
            case .nonFinite:
                let later = count - 1
                return "`\(module)` (\(type), in \(root)) was the first module whose output held a non-finite value, in step "
                    + "\(firstStep): \(detail)"
                    + (later > 0 ? "; \(later) module output\(later == 1 ? "" : "s") after it held some too" : "")
                    + "; look at what its forward computes (a log or division of zero, an overflowing exp, a large learning rate)"
            case nil:
                return "`\(module)`: \(evidence) (\(calls))"
            }
        }
    }

    package let model: TraceModel
    package let steps: ClosedRange<Int64>?
    package private(set) var modules: [ModuleStats] = []
    package private(set) var others: [NamedStats] = []
    package private(set) var bypasses: [Bypass] = []
    /// Step spans in range: count and total time.
    package private(set) var stepCount: Int64 = 0
    package private(set) var stepTime: Int64 = 0
    package private(set) var spanCount: Int64 = 0
    /// What was running when the run's process died, if it crashed.
    package private(set) var crash: CrashRecord?

    /// Statistics of run `run` (the latest when nil), or of steps `steps` of it. Whole runs that
    /// completed read the statistics the writer kept (`span_stats`); anything else scans the spans.
    package init(reader: TraceReader, run: Int64?, steps: ClosedRange<Int64>? = nil) throws {
        let model = try TraceModel(reader: reader, run: reader.run(run))
        try model.checkSteps(steps)
        self.model = model
        self.steps = steps
        let perSignature =
            try steps == nil && model.run.runStatus?.isFinished == true
            ? Report.storedStatistics(reader, model) : nil
        let (stats, spans) = try perSignature.map { ($0, model.run.spanCount) } ?? Report.scan(reader, model, steps: steps)
        spanCount = spans

        var byModule: [Int64: ModuleStats] = [:]
        for id in model.moduleOrder {
            byModule[id] = ModuleStats(module: model.modules[id]!, depth: model.treeDepth(id))
        }
        var byName: [String: NamedStats] = [:]
        for (sigID, st) in stats.sorted(by: { $0.key < $1.key }) where st.calls > 0 {
            guard let sig = model.signatures[sigID] else { continue }
            if sig.kind.isModuleSpan, let id = sig.moduleID {
                if byModule[id] == nil {
                    byModule[id] = ModuleStats(
                        module: .init(
                            id: id, path: "", type: "module \(id)", parentID: nil, parameters: 0,
                            totalParameters: 0, hooks: "", builtIn: false, ordinal: 0), depth: 0)
                }
                if sig.kind == .forward {
                    byModule[id]!.forward.add(st)
                    if sig.training { byModule[id]!.training = true } else { byModule[id]!.eval = true }
                    if let shapes = sig.inputShapes {
                        if !byModule[id]!.inputShapes.contains(shapes) { byModule[id]!.inputShapes.append(shapes) }
                        if let i = byModule[id]!.inputShapeCalls.firstIndex(where: { $0.shapes == shapes }) {
                            byModule[id]!.inputShapeCalls[i].calls += st.calls
                        } else {
                            byModule[id]!.inputShapeCalls.append((shapes, st.calls))
                        }
                    }
                    if let shapes = sig.outputShapes, !byModule[id]!.outputShapes.contains(shapes) {
                        byModule[id]!.outputShapes.append(shapes)
                    }
                } else {
                    byModule[id]!.backward.add(st)
                }
                byModule[id]!.allocated += st.allocated
                if let peak = st.peak { byModule[id]!.peak = max(byModule[id]!.peak ?? 0, peak) }
            } else {
                let kind = sig.kind.name
                let name = sig.kind == .step ? "ProfilerStep" : sig.name
                byName[kind + "\u{0}" + name, default: NamedStats(kind: kind, name: name)].timing.add(st)
                if sig.kind == .step {
                    stepCount += st.calls
                    stepTime += st.total
                }
            }
        }
        modules =
            model.moduleOrder.compactMap { byModule[$0] }
            + byModule.values.filter { model.modules[$0.module.id] == nil }
        others = byName.values.sorted { ($0.timing.total, $0.name) > ($1.timing.total, $1.name) }
        bypasses = try Report.loadBypasses(reader, model)
        crash = try reader.crash(runID: model.run.id)
    }

    /// Per-signature statistics the writer stored when the run ended, if it did.
    static func storedStatistics(_ reader: TraceReader, _ model: TraceModel) throws -> [Int64: SpanStats]? {
        let s = try reader.db.prepare(
            """
            SELECT sig, calls, total_ns, self_ns, alloc_bytes, freed_bytes, peak_bytes, histogram FROM span_stats WHERE run_id = ?
            """)
        try s.bind([.int(model.run.id)])
        var result: [Int64: SpanStats] = [:]
        while try s.step() {
            var st = SpanStats()
            st.calls = s.int(1)
            st.total = s.int(2)
            st.selfTime = s.int(3)
            st.allocated = s.int(4)
            st.freed = s.int(5)
            st.peak = s.optionalInt(6)
            if case .blob(let bytes) = s.value(7) { st.histogram = Histogram(serialized: bytes) }
            result[s.int(0)] = st
        }
        return result.isEmpty && model.run.spanCount > 0 ? nil : result
    }

    /// Statistics from the spans themselves, one pass in start order.
    static func scan(_ reader: TraceReader, _ model: TraceModel, steps: ClosedRange<Int64>?) throws -> ([Int64: SpanStats], Int64) {
        let slots = model.signatures.isEmpty ? 0 : model.signatureIDs.count
        var stats = [SpanStats](repeating: SpanStats(), count: slots)
        var threads = [Int64](repeating: 0, count: slots)
        for (id, sig) in model.signatures { threads[model.signatureSlot(id)!] = sig.thread }
        var tracker = SelfTimeTracker()
        var spans: Int64 = 0
        func finished(_ row: SpanRow, _ selfTime: Int64) {
            guard let slot = model.signatureSlot(row.sig) else { return }
            stats[slot].add(duration: row.dur, selfTime: selfTime, allocated: row.alloc, freed: row.freed, peak: row.peak)
        }
        try SpanScan.forEach(reader, model, steps: steps, label: "report") { row in
            spans += 1
            guard let slot = model.signatureSlot(row.sig), slot < slots else { return }
            tracker.add(row, thread: threads[slot], finished)
        }
        tracker.finish(finished)
        var result: [Int64: SpanStats] = [:]
        for (i, st) in stats.enumerated() where st.calls > 0 { result[model.signatureIDs.lowerBound + Int64(i)] = st }
        return (result, spans)
    }

    /// Bypass findings as stored: module and caller ids.
    static func loadBypassRows(_ reader: TraceReader, _ model: TraceModel) throws -> [(module: Int64, caller: Int64, evidence: String)] {
        let s = try reader.db.prepare("SELECT module_id, caller_id, evidence FROM bypasses WHERE run_id = ? ORDER BY module_id, evidence")
        try s.bind([.int(model.run.id)])
        var rows: [(Int64, Int64, String)] = []
        while try s.step() { rows.append((s.int(0), s.int(1), s.text(2))) }
        return rows
    }

    package static func loadBypasses(_ reader: TraceReader, _ model: TraceModel) throws -> [Bypass] {
        let s = try reader.db.prepare(
            """
            SELECT module_id, caller_id, evidence, count, first_step, detail FROM bypasses WHERE run_id = ?
            ORDER BY module_id, evidence, caller_id
            """)
        try s.bind([.int(model.run.id)])
        var result: [Bypass] = []
        while try s.step() {
            let module = model.modules[s.int(0)]
            let caller = s.int(1) == 0 ? nil : model.modules[s.int(1)]
            result.append(
                Bypass(
                    module: module?.displayName ?? "module \(s.int(0))", type: module?.type ?? "?",
                    root: module.flatMap { model.root(of: $0.id)?.type } ?? "?",
                    caller: caller?.displayName ?? (s.int(1) == 0 ? "<top level>" : "module \(s.int(1))"),
                    evidence: s.text(2), count: s.int(3), firstStep: s.int(4), detail: s.text(5),
                    hooksNotFired: module.map { $0.hooks.isEmpty ? "none registered" : $0.hooks } ?? "?"))
        }
        return result
    }

    /// Time all steps in range took (or, with no step spans, the top-level spans).
    package var referenceTime: Int64 {
        if stepTime > 0 { return stepTime }
        return modules.filter { $0.depth == 0 }.reduce(0) { $0 + $1.forward.total + $1.backward.total }
    }

    /// Registered modules with no forward call in range.
    package var neverRan: [ModuleStats] { modules.filter { !$0.ran && model.modules[$0.module.id] != nil } }
}

import Foundation
import TraceStore

/// A finding in plain words: what happened, what it means, how to fix it.
package struct Finding: Equatable, Sendable {
    package enum Severity: String, Sendable { case problem, warning, info, ok }
    package var severity: Severity
    /// One sentence; code in backticks.
    package var title: String
    package var detail: String
    package var fix: String
}

/// Turns a run's report (bypasses, modules that never ran, status, dropped events, graphs,
/// slow steps) into findings people can act on.
enum FindingsBuilder {
    static func build(_ report: Report, graphComparison: (differ: Bool, text: String)?, outliers: [(step: Int64, ratio: Double)])
        -> [Finding]
    {
        var findings: [Finding] = []
        let run = report.model.run
        if let crash = report.crash {
            findings.append(FindingsBuilder.crashed(crash, run: run.id))
        } else if run.status != "complete" {
            findings.append(
                Finding(
                    severity: .warning, title: "Run \(run.id) is \(run.status): its process was killed or is still running.",
                    detail: "Everything committed before that is in the file. Bypass findings are written when a run ends, "
                        + "so for this run they are unknown, not clean.",
                    fix: "Let the run end (or call `profiler.stop()`) to get bypass findings."))
        }
        // Direct calls of a layer's forward (two kinds of evidence for the same site).
        let directKinds: Set<String> = ["parameter_read", "forward_without_wrapper"]
        let direct = Dictionary(grouping: report.bypasses.filter { directKinds.contains($0.evidence) }, by: \.module)
        for module in direct.keys.sorted() {
            let rows = direct[module]!
            let first = rows[0]
            let count = rows.map(\.count).max() ?? 0
            let attribute = module.split(separator: ".").last.map(String.init) ?? module
            let hooks =
                first.hooksNotFired == "none registered" || first.hooksNotFired == "?"
                ? "no hook of its ran (none was registered)"
                : "its \(first.hooksNotFired.split(separator: ",").joined(separator: ", ")) hook\(first.hooksNotFired.contains(",") ? "s" : "") never fired"
            let evidence = Set(rows.map(\.evidence)).sorted().joined(separator: ", ")
            findings.append(
                Finding(
                    severity: .problem,
                    title:
                        "`\(attribute).forward(x)` was called directly from `\(first.caller)`: \(hooks) on \(count) call\(count == 1 ? "" : "s").",
                    detail: "`\(module)` (\(first.type)) ran without its call wrapper, so the profiler measured nothing for it: "
                        + "its time and memory are counted in `\(first.caller)`'s self time (evidence: \(evidence)).",
                    fix: "Write `\(attribute)(x)` instead of `\(attribute).forward(x)`."))
        }
        for b in report.bypasses where !directKinds.contains(b.evidence) && b.evidence != "never_ran" {
            findings.append(
                FindingsBuilder.other(b, root: report.model.modules.values.first { $0.displayName == b.module }?.parentID == nil))
        }
        let explained = Set(report.bypasses.filter { $0.evidence != "never_ran" }.map(\.module))
        let never = report.neverRan.filter { !explained.contains($0.module.displayName) }
        let neverIDs = Set(never.map(\.module.id))
        for m in never where !(m.module.parentID.map(neverIDs.contains) ?? false) {
            let below = never.filter { isDescendant($0.module, of: m.module.id, report.model) }.count
            let parent = m.module.parentID.flatMap { report.model.modules[$0]?.displayName }
            findings.append(
                Finding(
                    severity: .warning,
                    title: "`\(m.module.displayName)` (\(m.module.type)) is registered but never ran"
                        + (below > 0 ? ", nor did the \(below) module\(below == 1 ? "" : "s") inside it." : "."),
                    detail: (parent.map { "Its parent `\($0)` ran but never called it through its wrapper" }
                        ?? "It was never called through its wrapper")
                        + (m.module.totalParameters > 0 ? "; its \(m.module.totalParameters) parameters are unused." : ".")
                        + " It is either dead code or its forward is called in a way the profiler cannot see.",
                    fix:
                        "If it should run, call it as `\(m.module.path.split(separator: ".").last.map(String.init) ?? m.module.type)(x)`; otherwise remove it from the model."
                ))
        }
        for m in report.modules where report.model.modules[m.module.id] == nil {
            findings.append(
                Finding(
                    severity: .warning, title: "Spans name a module the run never described (id \(m.module.id)).",
                    detail: "The module table has no row for it, which happens when a run is cut off before it writes its modules.",
                    fix: "Re-run to the end; the module's calls are still counted here."))
        }
        let failed = Set(report.model.signatures.values.filter { $0.failed && $0.kind.isModuleSpan }.map(\.name)).sorted()
        for name in failed {
            findings.append(
                Finding(
                    severity: .problem, title: "`\(name)` threw during a call (its forward or one of its hooks).",
                    detail: "The failed calls are recorded with `failed = 1`; their timings are kept.",
                    fix: "See the error your program printed for the module path and shapes."))
        }
        if let graphComparison, graphComparison.differ {
            findings.append(
                Finding(
                    severity: .warning, title: "The static graph changed between traced steps.",
                    detail: graphComparison.text + " A static graph (TorchScript, ONNX export) of this model would be wrong.",
                    fix: "Make control flow independent of the data, or script the model instead of tracing it."))
        }
        if !outliers.isEmpty {
            let worst = outliers.max { $0.ratio < $1.ratio }!
            let list = outliers.prefix(8).map { String($0.step) }.joined(separator: ", ") + (outliers.count > 8 ? ", …" : "")
            findings.append(
                Finding(
                    severity: .info,
                    title:
                        "\(outliers.count) slow step\(outliers.count == 1 ? "" : "s") (\(list)); step \(worst.step) took \(String(format: "%.1f", worst.ratio))× the median.",
                    detail: "First steps are often slow (allocation, caches warming up); later ones point at the host or the data.",
                    fix: "Click the step in the step timeline to see its spans."))
        }
        if run.droppedEvents > 0 {
            findings.append(
                Finding(
                    severity: .problem, title: "\(run.droppedEvents) events were dropped: the trace writer fell behind.",
                    detail: "Totals and counts undercount by up to \(run.droppedEvents) spans; nothing was dropped silently.",
                    fix: "Trace fewer steps (a schedule with a smaller `active`) or leave op-level spans off."))
        } else {
            findings.append(
                Finding(
                    severity: .ok, title: "No events were dropped.",
                    detail: "Every span the profiler saw is in the file.", fix: ""))
        }
        if report.bypasses.allSatisfy({ $0.evidence == "never_ran" }) && run.status == "complete" {
            findings.append(
                Finding(
                    severity: .ok, title: "No bypasses: every module call went through its wrapper.",
                    detail: "Hooks fired and every call was measured.", fix: ""))
        }
        return findings
    }

    /// A finding of any other kind stored in `bypasses`: a skipped parent wrapper, an
    /// unregistered module, or a state finding (modes, batch sizes).
    static func other(_ b: Report.Bypass, root: Bool) -> Finding {
        let times = "\(b.count) time\(b.count == 1 ? "" : "s")"
        let attribute = b.module.split(separator: ".").last.map(String.init) ?? b.module
        switch b.evidence {
        case "wrapper_skipped":
            let call = root ? "model.forward(x)" : "\(attribute).forward(x)"
            return Finding(
                severity: .problem,
                title:
                    "The forward of `\(b.module)` (\(b.type)) was called directly (`\(call)`): its modules ran outside its wrapper \(times).",
                detail: "Its hooks did not fire and the profiler has no span for it; its children's calls were measured.",
                fix: root ? "Call the model itself: `model(x)`." : "Write `\(attribute)(x)` instead of `\(attribute).forward(x)`.")
        case "unregistered":
            return Finding(
                severity: .problem,
                title: "`\(b.module)` (\(b.type)) ran inside `\(b.caller)` but belongs to no module tree (\(times)).",
                detail: "It is kept somewhere the model does not look (a dictionary or a local), so its parameters are not in "
                    + "`parameters()`: the optimizer does not train them and the state dict does not save them.",
                fix: "Make it a property of its parent (or put it in a ModuleList).")
        case "train_mode_without_grad":
            return Finding(
                severity: .warning,
                title: "`\(b.module)` (\(b.type)) ran in training mode while gradients were off (\(times), from step \(b.firstStep)).",
                detail: "That is an evaluation pass without `eval()`: dropout stays on and batch norm uses and updates batch statistics.",
                fix: "Call `model.eval()` before evaluating and `model.train()` after.")
        case "eval_mode_in_training":
            return Finding(
                severity: .warning,
                title:
                    "`\(b.module)` (\(b.type)) ran in eval mode in steps that updated the parameters (\(times), from step \(b.firstStep)).",
                detail: "Training with `eval()` left on: dropout is off and batch norm's running statistics are frozen.",
                fix: "Call `model.train()` before training steps.")
        case "batch_norm_single_value":
            return Finding(
                severity: .warning,
                title: "`\(b.module)` (\(b.type)) saw one value per channel in training mode (\(times)).",
                detail: "Its batch statistics are meaningless with a single value (the variance is zero).",
                fix: "Use batches with more than one value per channel, or `eval()` for single examples.")
        case "non_finite":
            let later = b.count - 1
            return Finding(
                severity: .problem,
                title: "`\(b.module)` (\(b.type)) produced the run's first NaN or infinity, in step \(b.firstStep).",
                detail: "Its \(b.detail) (root `\(b.root)`)."
                    + (later > 0
                        ? " \(later) module output\(later == 1 ? "" : "s") after it held non-finite values too: they inherit it." : ""),
                fix: "Look at what its forward computes: a log or division of zero, an exp that overflows, or a learning rate too large.")
        default:
            return Finding(
                severity: .warning, title: "`\(b.module)` (\(b.type)): \(b.evidence), \(times).",
                detail: "A finding of a kind this version of the report does not describe" + (b.detail.isEmpty ? "." : ": \(b.detail)."),
                fix: "See `tracectl bypass`.")
        }
    }

    /// The crash record in plain words: where it died, and what the other threads were doing.
    static func crashed(_ crash: CrashRecord, run: Int64) -> Finding {
        let place =
            crash.crashedIn.map { s in
                "inside `\(s.name)` (\(s.moduleType ?? "?")) during its \(s.kind) pass in step \(s.step)"
                    + (s.inputShapes.map { ", with input \($0)" } ?? "")
            } ?? "outside any traced module"
        let stack = crash.crashedThread?.open.filter(\.isModule).map { "`\($0.name)`" }.joined(separator: " → ") ?? ""
        let others = crash.threads.filter { !$0.crashed && !$0.open.isEmpty }.map { t in
            "thread \(t.index) was in " + t.open.map { $0.isModule ? "`\($0.name)`" : "\($0.kind) `\($0.name)`" }.joined(separator: " → ")
        }
        var detail = "Run \(run)'s process died of \(crash.signalName) \(place)."
        if !stack.isEmpty { detail += " The module calls open on that thread, outermost first: \(stack)." }
        if !others.isEmpty { detail += " At that moment " + others.joined(separator: "; ") + "." }
        detail += " Everything committed before is in the file; bypass findings are written when a run ends, so they are unknown."
        return Finding(
            severity: .problem, title: "The program " + crash.summary.replacingOccurrences(of: " — signal ", with: ": "),
            detail: detail,
            fix: crash.signal == 4 || crash.signal == 5
                ? "A Swift runtime trap (fatalError, a failed precondition, an index out of range): the message the program printed says which; `tracectl report` lists every thread's stack and last spans."
                : "`tracectl report` lists every thread's stack and last spans; the signal's own backtrace (printed by the program) shows the line."
        )
    }

    static func isDescendant(_ m: TraceModel.ModuleRow, of ancestor: Int64, _ model: TraceModel) -> Bool {
        var current = m.parentID
        var hops = 0
        while let p = current, hops < 256 {
            if p == ancestor { return true }
            current = model.modules[p]?.parentID
            hops += 1
        }
        return false
    }
}

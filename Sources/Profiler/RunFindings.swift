import TraceEvents
import TraceRuntime

/// The findings of a run: what the session's detectors counted while it ran, and the
/// judgements that need the whole run.
enum RunFindings {
    /// Everything to store for the run `session` recorded.
    static func collect(_ session: TraceSession) -> [BypassFinding] {
        session.findings.all() + skippedWrappers(session.findings.skippedWrappers(), session.modules.all())
    }

    /// A module whose children ran outside its wrapper had its `forward` called directly, unless
    /// only one of several children did: calling one submodule from outside (`model.encoder(x)`)
    /// is ordinary use. A built-in layer's own check already names it (`forward_without_wrapper`).
    /// The count is the most calls of any one child: how often `forward` ran.
    static func skippedWrappers(_ entries: [BypassLog.SkippedWrapper], _ modules: [ModuleInfo]) -> [BypassFinding] {
        var callableChildren: [UInt32: Int] = [:]
        for m in modules where m.wrapperParent != 0 && m.wrapperParent != UInt32.max {
            callableChildren[m.wrapperParent, default: 0] += 1
        }
        let builtIn = Set(modules.filter(\.isBuiltIn).map(\.id))
        return entries.compactMap { entry in
            guard !builtIn.contains(entry.module),
                entry.childCalls.count >= 2 || (callableChildren[entry.module] ?? 0) <= 1
            else { return nil }
            return BypassFinding(
                module: entry.module, caller: entry.caller, evidence: .wrapperSkipped,
                count: entry.childCalls.values.max() ?? 0, firstStep: entry.firstStep, detail: "")
        }
    }
}

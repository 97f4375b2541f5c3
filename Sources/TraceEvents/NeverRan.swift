/// Bypass evidence 3, `never_ran`: registered modules that never entered their wrapper
/// although the module that registered them did. Pure analysis of what a run recorded: the
/// profiler calls it when a run ends and the writer stores the findings.
public enum NeverRan {
    /// Findings for the modules in `modules` that are not in `ran` while their caller is.
    /// Holders without a wrapper of their own (`isContainer`, like ModuleList) are looked
    /// through to the module above them, and are never findings themselves; nor is a module under
    /// which something ran (its wrapper was skipped, which other evidence reports).
    public static func findings(modules: [ModuleInfo], ran: Set<UInt32>, firstStep: UInt32) -> [BypassFinding] {
        let byID = Dictionary(modules.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        func caller(_ m: ModuleInfo) -> UInt32? {
            var parent = m.parent
            var seen = 0
            while let p = byID[parent], p.isContainer, seen < modules.count {
                parent = p.parent
                seen += 1
            }
            return parent == 0 ? nil : parent
        }
        // A module under which something ran was iterated (a container) or had its wrapper
        // skipped (reported as such): it did not "never run".
        var descendantRan = Set<UInt32>()
        for m in modules where ran.contains(m.id) {
            var p = m.parent
            while p != 0, descendantRan.insert(p).inserted { p = byID[p]?.parent ?? 0 }
        }
        return modules.compactMap { m in
            guard !m.isContainer, !ran.contains(m.id), !descendantRan.contains(m.id),
                let parent = caller(m), ran.contains(parent)
            else { return nil }
            return BypassFinding(module: m.id, caller: parent, evidence: .neverRan, count: 1, firstStep: firstStep, detail: "")
        }
    }
}

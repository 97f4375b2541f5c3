import Testing
import TraceEvents

func module(_ id: UInt32, _ path: String, parent: UInt32, container: Bool = false) -> ModuleInfo {
    ModuleInfo(
        id: id, path: path, type: container ? "ModuleList" : "Linear", parent: parent, directParameters: 0,
        totalParameters: 0, hooks: 0, isBuiltIn: true, isContainer: container)
}

@Suite("never_ran detection")
struct NeverRanTests {
    // root 1 > fc 2, unused 3, blocks 4 (a ModuleList) > 5, 6
    let modules = [
        module(1, "", parent: 0), module(2, "fc", parent: 1), module(3, "unused", parent: 1),
        module(4, "blocks", parent: 1, container: true), module(5, "blocks.0", parent: 4), module(6, "blocks.1", parent: 4),
    ]

    @Test func aModuleWhoseCallerRanButItDidNotIsAFinding() {
        let findings = NeverRan.findings(modules: modules, ran: [1, 2, 5], firstStep: 7)
        #expect(
            findings == [
                BypassFinding(module: 3, caller: 1, evidence: .neverRan, count: 1, firstStep: 7, detail: ""),
                BypassFinding(module: 6, caller: 1, evidence: .neverRan, count: 1, firstStep: 7, detail: ""),
            ], "a container is looked through to the module above it, and is never a finding itself")
    }

    @Test func lookAlikesStaySilent() {
        // Everything ran.
        #expect(NeverRan.findings(modules: modules, ran: [1, 2, 3, 5, 6], firstStep: 0).isEmpty)
        // The caller did not run either: nothing to judge (eval of another model, a phase that skipped it).
        #expect(NeverRan.findings(modules: modules, ran: [], firstStep: 0).isEmpty)
        // A root never has a caller.
        #expect(NeverRan.findings(modules: [module(9, "", parent: 0)], ran: [], firstStep: 0).isEmpty)
        // A parent cycle among containers (a damaged registry) ends.
        let cycle = [module(1, "a", parent: 2, container: true), module(2, "b", parent: 1, container: true), module(3, "c", parent: 1)]
        #expect(NeverRan.findings(modules: cycle, ran: [], firstStep: 0).isEmpty)
    }
}

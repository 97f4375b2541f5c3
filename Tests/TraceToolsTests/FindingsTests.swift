import Foundation
import Testing
import TraceEvents
import TraceStore

@testable import TraceTools

/// The report's findings in words: each kind of stored finding says what it is, and none is
/// mistaken for another (a state finding is not a direct forward call).
@Suite("HTML report findings")
struct FindingsTests {
    func findings(_ bypasses: [BypassFinding]) throws -> [Finding] {
        let path = temporaryPath("findings.sqlite")
        try writeKnownTrace(path, bypasses: bypasses)
        let report = try Report(reader: TraceReader(path: path), run: nil)
        return FindingsBuilder.build(report, graphComparison: nil, outliers: [])
    }

    @Test("a direct forward call: the call site, the hooks, the fix")
    func directCall() throws {
        let f = try findings([
            BypassFinding(module: 6, caller: 1, evidence: .parameterRead, count: 54, firstStep: 0, detail: "fc3.weight"),
            BypassFinding(module: 6, caller: 1, evidence: .foreignForward, count: 54, firstStep: 0, detail: ""),
        ])
        let problems = f.filter { $0.severity == .problem }
        #expect(
            problems.map(\.title) == [
                "`fc3.forward(x)` was called directly from `MLP`: no hook of its ran (none was registered) on 54 calls."
            ])
        #expect(problems.first?.fix == "Write `fc3(x)` instead of `fc3.forward(x)`.")
        #expect(problems.first?.detail.hasSuffix("(evidence: forward_without_wrapper, parameter_read).") == true)
        #expect(!f.contains { $0.title.hasPrefix("No bypasses") })
    }

    @Test("state findings and skipped parent wrappers are not called direct forward calls")
    func otherKinds() throws {
        let f = try findings([
            BypassFinding(module: 1, caller: 0, evidence: .wrapperSkipped, count: 12, firstStep: 0, detail: ""),
            BypassFinding(module: 3, caller: 1, evidence: .evalModeInTraining, count: 12, firstStep: 2, detail: ""),
            BypassFinding(module: 5, caller: 1, evidence: .trainingModeWithoutGrad, count: 4, firstStep: 0, detail: ""),
        ])
        #expect(!f.contains { $0.title.contains("was called directly from") })
        #expect(
            f.contains {
                $0.title
                    == "The forward of `MLP` (MLP) was called directly (`model.forward(x)`): its modules ran outside its wrapper 12 times."
            })
        #expect(f.contains { $0.title == "`act1` (ReLU) ran in eval mode in steps that updated the parameters (12 times, from step 2)." })
        #expect(
            f.contains {
                $0.title == "`act2` (ReLU) ran in training mode while gradients were off (4 times, from step 0)." && $0.severity == .warning
            })
        #expect(!f.contains { $0.title.hasPrefix("`MLP`") && $0.title.contains("never ran") })
    }

    @Test("a changed static graph and slow steps are findings; an unchanged graph is not")
    func graphAndSteps() throws {
        let path = temporaryPath("graph.sqlite")
        try writeKnownTrace(path, bypasses: [])
        let report = try Report(reader: TraceReader(path: path), run: nil)
        let changed = FindingsBuilder.build(
            report, graphComparison: (true, "The graphs of steps 0 and 10 differ (data-dependent control flow?): node 3"),
            outliers: [(step: 0, ratio: 3.25), (step: 7, ratio: 1.6)])
        #expect(
            changed.contains {
                $0.title == "The static graph changed between traced steps." && $0.detail.hasPrefix("The graphs of steps 0 and 10 differ")
            })
        #expect(changed.contains { $0.title == "2 slow steps (0, 7); step 0 took 3.2× the median." && $0.severity == .info })
        let same = FindingsBuilder.build(report, graphComparison: (false, "The graphs of steps 0 and 10 are the same."), outliers: [])
        #expect(!same.contains { $0.title.contains("static graph") || $0.title.contains("slow step") })
    }

    @Test("clean look-alike: no stored findings, only the module that really never ran")
    func clean() throws {
        let f = try findings([])
        #expect(
            f.map(\.title) == [
                "`unused` (Dropout) is registered but never ran.", "No events were dropped.",
                "No bypasses: every module call went through its wrapper.",
            ])
        #expect(f.map(\.severity) == [.warning, .ok, .ok])
    }
}

@Suite("HTML report findings: runs that did not end")
struct IncompleteRunFindingsTests {
    @Test("a run whose process died: incomplete, bypasses unknown rather than clean")
    func incomplete() throws {
        let path = temporaryPath("killed.sqlite")
        let synthetic = SyntheticTrace(steps: 3)
        do {
            let writer = try synthetic.open(path)
            try synthetic.generate { batch in try batch.withUnsafeBufferPointer { try writer.write($0, dropped: 0) } }
        }
        let report = try Report(reader: TraceReader(path: path), run: nil)
        let f = FindingsBuilder.build(report, graphComparison: nil, outliers: [])
        #expect(f.first?.title == "Run 1 is incomplete: its process was killed or is still running.")
        #expect(f.first?.detail.contains("unknown, not clean") == true)
        #expect(!f.contains { $0.title.hasPrefix("No bypasses") })
    }
}

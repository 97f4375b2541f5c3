import Foundation
import Testing
import TraceStore

@testable import TraceTools

@Suite("speedscope export")
struct SpeedscopeTests {
    @Test("time and bytes profiles per rank: the module tree, nested, as wide as the report's totals")
    func profiles() throws {
        let a = temporaryPath("rank0.sqlite")
        let b = URL(fileURLWithPath: a).deletingLastPathComponent().appendingPathComponent("rank1.sqlite").path
        try writeKnownTrace(a, rank: 0, worldSize: 2, seed: 1)
        try writeKnownTrace(b, rank: 1, worldSize: 2, seed: 3)
        let out = URL(fileURLWithPath: a).deletingLastPathComponent().appendingPathComponent("out.json").path
        let outcome = try run(["export", "speedscope", a, b, "-o", out])
        #expect(outcome.status == 0 && outcome.stderr == "wrote \(out): 4 profiles (time and bytes per run)\n")
        let doc = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
        #expect(doc["$schema"] as? String == "https://www.speedscope.app/file-format-schema.json")
        let frames = try #require((doc["shared"] as? [String: Any])?["frames"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        #expect(
            frames == [
                "forward", "MLP", "fc1 (Linear)", "act1 (ReLU)", "fc2 (Linear)", "act2 (ReLU)", "fc3 (Linear)",
                "CrossEntropyLoss", "backward",
            ])
        let profiles = try #require(doc["profiles"] as? [[String: Any]])
        #expect(
            profiles.map { $0["name"] as? String } == [
                "known rank 0: time", "known rank 0: allocated bytes",
                "known rank 1: time", "known rank 1: allocated bytes",
            ])
        let report = try Report(reader: TraceReader(path: a), run: nil)
        let roots = report.modules.filter { $0.depth == 0 }
        let time = roots.reduce(Int64(0)) { $0 + $1.forward.total + $1.backward.total }
        // The model's backward span allocates nothing itself in this trace: it is as wide as its children.
        let layers = report.modules.filter { $0.depth == 1 }
        let bytes =
            roots.reduce(Int64(0)) { $0 + $1.forward.allocated } + roots[1].backward.allocated
            + max(roots[0].backward.allocated, layers.reduce(0) { $0 + $1.backward.allocated })
        #expect(roots[0].backward.allocated == 0 && roots.count == 2)
        #expect(profiles[0]["endValue"] as? Int64 == time && profiles[0]["unit"] as? String == "nanoseconds")
        #expect(profiles[1]["endValue"] as? Int64 == bytes && profiles[1]["unit"] as? String == "bytes")
        for profile in profiles {
            // Every frame opened is closed, innermost first, and time never goes back.
            var stack: [Int] = []
            var last = 0
            var opened = 0
            for event in try #require(profile["events"] as? [[String: Any]]) {
                let at = try #require(event["at"] as? Int)
                let frame = try #require(event["frame"] as? Int)
                #expect(at >= last)
                last = at
                if event["type"] as? String == "O" {
                    stack.append(frame)
                    opened += 1
                } else {
                    #expect(stack.popLast() == frame)
                }
            }
            #expect(stack.isEmpty && last == profile["endValue"] as? Int)
            #expect(opened == 2 + 7 * 2)
        }
    }
}

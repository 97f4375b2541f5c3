import Foundation
import Modules
import Tensors
import Testing
import TraceStore

@testable import Profiler
@testable import TraceTools

/// A layer that computes `log(relu(x) + 1)`, or, once poisoned, the log of a negative number (NaN)
/// or minus the log of zero (positive infinity).
final class PoisonedLog: Module<Tensor, Tensor> {
    enum Poison { case none, nan, infinity }
    var poison = Poison.none
    override func forward(_ x: Tensor) throws -> Tensor {
        switch poison {
        case .none: return (x.relu() + 1).log()
        case .nan: return (x * 0 - 1).log()
        case .infinity: return (x * 0).log() * -1
        }
    }
}

final class PoisonBlock: Module<Tensor, Tensor> {
    let act = ReLU()
    let log = PoisonedLog()
    override func forward(_ x: Tensor) throws -> Tensor { try log(act(x)) }
}

/// `fc1` → `mid` (`mid.act`, `mid.log`) → `fc2`.
final class PoisonNet: Module<Tensor, Tensor> {
    let fc1 = Linear(4, 4)
    let mid = PoisonBlock()
    let fc2 = Linear(4, 3)
    override func forward(_ x: Tensor) throws -> Tensor { try fc2(mid(fc1(x))) }
}

/// Values near the largest float, and subnormal ones: large but finite.
final class HugeButFinite: Module<Tensor, Tensor> {
    override func forward(_ x: Tensor) throws -> Tensor {
        let values = (0..<x.count).map { i -> Float in
            [Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude, Float.leastNonzeroMagnitude, 1e38][i % 4]
        }
        return try x * 0 + Tensor(values, shape: x.shape)
    }
}

final class HugeNet: Module<Tensor, Tensor> {
    let fc = Linear(4, 4)
    let huge = HugeButFinite()
    let scale = Linear(4, 4)
    override func forward(_ x: Tensor) throws -> Tensor {
        let h = try huge(fc(x))
        _ = try scale(h * 1e-38)
        return h
    }
}

/// Builds the additive causal mask (`-inf` above the diagonal), as attention code often does in
/// a module of its own.
final class CausalMaskBuilder: Module<Tensor, Tensor> {
    override func forward(_ x: Tensor) throws -> Tensor { Tensor.causalMask(x.shape[0], x.shape[0]) }
}

/// Masked attention scores before the softmax: `-inf` where a position may not attend, by design.
final class MaskedScores: Module<Tensor, Tensor> {
    let mask = CausalMaskBuilder()
    override func forward(_ x: Tensor) throws -> Tensor { try x.matmul(x.transposed()) + mask(x) }
}

/// `fc` → `scores` (`scores.mask`) → softmax: a hand-written causal attention.
final class HandWrittenAttention: Module<Tensor, Tensor> {
    let fc = Linear(4, 4)
    let scores = MaskedScores()
    override func forward(_ x: Tensor) throws -> Tensor { try scores(fc(x)).softmax() }
}

extension Tracing {
    @Suite("Non-finite outputs (detectNonFinite)")
    struct NonFiniteTests {
        func nonFiniteOptions() -> ProfilerOptions {
            var options = ProfilerOptions()
            options.detectNonFinite = true
            return options
        }

        /// Runs three steps of `PoisonNet` with `mid.log` poisoned from step 2 on.
        func poisonedRun(_ poison: PoisonedLog.Poison, options: ProfilerOptions) throws -> (String, [Report.Bypass]) {
            let net = PoisonNet()
            let x = Tensor(repeating: 0.5, shape: [8, 4])
            let path = try profile(options) { profiler in
                for step in 0..<3 {
                    net.mid.log.poison = step == 2 ? poison : .none
                    _ = try net(x)
                    profiler.step()
                }
            }
            let reader = try TraceReader(path: path)
            return (path, try Report(reader: reader, run: nil).bypasses.filter { $0.evidence == "non_finite" })
        }

        @Test func theFirstModuleWithANaNIsNamedAndLaterOnesCounted() throws {
            let (path, findings) = try poisonedRun(.nan, options: nonFiniteOptions())
            #expect(findings.count == 1)
            let f = try #require(findings.first)
            #expect(f.module == "mid.log")
            #expect(f.type == "PoisonedLog")
            #expect(f.root == "PoisonNet")
            #expect(f.firstStep == 2)
            #expect(f.detail == "forward output [8,4] holds NaN (32 of 32 values)")
            // mid.log, then mid, fc2 and the root inherit it: counted, not listed.
            #expect(f.count == 4)
            #expect(f.category == "state")
            #expect(
                f.explanation
                    == "`mid.log` (PoisonedLog, in PoisonNet) was the first module whose output held a non-finite value, in step 2: "
                    + "forward output [8,4] holds NaN (32 of 32 values); 3 module outputs after it held some too; look at what its "
                    + "forward computes (a log or division of zero, an overflowing exp, a large learning rate)")
            let json = ReportRenderer().render(try Report(reader: TraceReader(path: path), run: nil), format: .json)
            #expect(json.contains("\"evidence\":\"non_finite\""))
            let html = try FindingsTestSupport.findingTitles(path)
            #expect(html.contains("`mid.log` (PoisonedLog) produced the run's first NaN or infinity, in step 2."))
        }

        @Test func infinityIsNamedAsInfinity() throws {
            let (_, findings) = try poisonedRun(.infinity, options: nonFiniteOptions())
            #expect(findings.map(\.module) == ["mid.log"])
            #expect(findings.first?.detail == "forward output [8,4] holds infinity (32 of 32 values)")
        }

        @Test func offByDefault() throws {
            let (_, findings) = try poisonedRun(.nan, options: ProfilerOptions())
            #expect(findings.isEmpty)
        }

        @Test func silentOnACleanModel() throws {
            let (_, findings) = try poisonedRun(.none, options: nonFiniteOptions())
            #expect(findings.isEmpty)
        }

        @Test func silentOnAttentionMasks() throws {
            try expectSilent(HandWrittenAttention(), Tensor((0..<24).map { Float($0) / 24 }, shape: [6, 4]))
        }

        @Test func silentOnLargeButFiniteValues() throws {
            try expectSilent(HugeNet(), Tensor(repeating: 1, shape: [2, 4]))
        }

        /// Two traced steps of `net` on `x` whose output is finite: no `non_finite` finding.
        func expectSilent(_ net: Module<Tensor, Tensor>, _ x: Tensor) throws {
            let path = try profile(nonFiniteOptions()) { profiler in
                for _ in 0..<2 {
                    let y = try net(x)
                    #expect(y.scalars.allSatisfy { $0.isFinite })
                    profiler.step()
                }
            }
            let findings = try Report(reader: TraceReader(path: path), run: nil).bypasses
            #expect(findings.filter { $0.evidence == "non_finite" }.isEmpty)
        }
    }
}

/// The HTML report's findings, through the same builder the page uses.
enum FindingsTestSupport {
    static func findingTitles(_ path: String) throws -> [String] {
        let report = try Report(reader: TraceReader(path: path), run: nil)
        return FindingsBuilder.build(report, graphComparison: nil, outliers: []).map(\.title)
    }
}

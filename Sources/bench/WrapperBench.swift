import Modules
import Tensors
import TraceRuntime

/// A module that does nothing, so that only the call mechanics are measured. `forward` is
/// not optimized: otherwise the compiler returns the input borrowed (no retain) on the
/// direct path only, which no real layer does (a layer returns a new tensor it owns).
class Empty: Module<Tensor, Tensor> {
    @_optimize(none) @inline(never) override func forward(_ x: Tensor) throws -> Tensor { x }
}

/// Counts what a session drains, without storing it (the hot path alone is measured).
final class NullSink: TraceSink {
    var records = 0
    func write(_ records: UnsafeBufferPointer<SpanRecord>, dropped: UInt64) throws { self.records += records.count }
}

/// The call wrapper's cost, per call, above calling `forward` directly.
enum WrapperBench {
    static let calls = 50_000

    /// Per-call ns of `body` run `calls` times.
    @inline(__always)
    static func perCall(_ body: () throws -> Void) rethrows -> Double {
        try Measure.nanoseconds { for _ in 0..<calls { try body() } } / Double(calls)
    }

    /// Medians over `rounds` of (wrapped − direct), alternating the two in every round.
    static func overhead(_ module: Empty, rounds: Int, between: () -> Void = {}) throws -> (delta: Double, direct: Double) {
        let x = Tensor.zeros([1])
        var deltas: [Double] = []
        var directs: [Double] = []
        for round in 0..<rounds {
            var direct = 0.0
            var wrapped = 0.0
            // Alternate which goes first so drift does not favour one.
            for order in (round % 2 == 0 ? [0, 1] : [1, 0]) {
                between()
                if order == 0 {
                    direct = try perCall { blackHole(try module.forward(x)) }
                } else {
                    wrapped = try perCall { blackHole(try module(x)) }
                }
            }
            deltas.append(wrapped - direct)
            directs.append(direct)
        }
        return (Measure.median(deltas), Measure.median(directs))
    }

    static func run(rounds: Int) throws -> [Result] {
        let samples = "median of \(rounds) rounds × \(calls) calls"
        let plain = Empty()
        let (wrapper, direct) = try overhead(plain, rounds: rounds)
        let hooked = Empty()
        hooked.registerForwardHook { _, _, _ in nil }
        let (hook, _) = try overhead(hooked, rounds: rounds)
        let paired = Empty()
        paired.registerForwardPreHook { _, _ in nil }
        paired.registerForwardHook { _, _, _ in nil }
        let (pair, _) = try overhead(paired, rounds: rounds)

        func traced(_ flags: TraceFlags) throws -> Double {
            let session = try TraceSession(sink: NullSink(), flags: flags, drainInterval: .seconds(3600))
            defer { session.stop() }
            let module = Empty()
            _ = try module(Tensor.zeros([1]))
            // Drain between measurements so the ring never fills (a full ring drops, which is cheaper).
            return try overhead(module, rounds: rounds, between: { session.flush() }).delta
        }
        let timing = try traced([.spans])
        let full = try traced([.spans, .shapes, .memory, .bypass])
        return [
            .atMost(
                "wrapper_ns", "wrapper, no hooks, no tracer (ns/call above forward; forward itself \(Result.format(direct)) ns)",
                wrapper, "ns", 2, samples: samples),
            Result("hook_ns", "wrapper with one no-op forward hook (ns/call above forward)", hook, "ns", samples: samples),
            Result(
                "hook_pair_ns", "wrapper with a no-op pre-hook and forward hook (ns/call above forward)", pair, "ns",
                samples: samples),
            .atMost("span_timing_ns", "profiler on, timing only (ns added per module call)", timing, "ns", 20, samples: samples),
            .atMost("span_full_ns", "timing + shapes + memory (+ bypass checks) (ns added per call)", full, "ns", 50, samples: samples),
        ]
    }
}

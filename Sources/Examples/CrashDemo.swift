import Foundation
import Modules
import Profiler
import Tensors

/// `train --demo-crash KIND`: a small transformer-shaped model whose `blocks.1.attn` dies inside
/// its forward at a chosen step, while a second thread waits inside a module of its own, so that
/// the trace's crash record has two threads' stacks to show. What the tests of the flight
/// recorder run; not a training job.
package enum CrashDemo {
    /// How the program dies.
    package enum Kind: String, CaseIterable, Sendable {
        /// `fatalError` (a Swift runtime trap: SIGILL on x86-64, SIGTRAP on arm64).
        case fatal
        /// An array index out of range (the same kind of trap).
        case index
        /// A write through a null pointer (SIGSEGV).
        case segv
        /// `abort()` (SIGABRT).
        case abort
        /// Unbounded recursion: a stack overflow (SIGSEGV, handled on the alternate signal stack).
        case overflow
        /// A null-pointer write in backward, from a gradient hook inside `blocks.1.attn` (SIGSEGV).
        case backward
    }

    /// A block with an attention layer that dies on its `dieOnCall`-th call.
    final class FaultyAttention: Module<Tensor, Tensor> {
        let qkv: Linear
        let proj: Linear
        let kind: Kind?
        let dieOnCall: Int
        var calls = 0

        init(dimension: Int, kind: Kind?, dieOnCall: Int) {
            qkv = Linear(dimension, dimension)
            proj = Linear(dimension, dimension)
            self.kind = kind
            self.dieOnCall = dieOnCall
            super.init()
        }

        override func forward(_ x: Tensor) throws -> Tensor {
            let h = try qkv(x)
            calls += 1
            if calls == dieOnCall, let kind {
                if kind == .backward {
                    let call = calls
                    h.registerGradientHook { _ in
                        CrashDemo.die(.segv, call)
                        return nil
                    }
                } else {
                    CrashDemo.die(kind, calls)
                }
            }
            return try proj(h.relu())
        }
    }

    final class Block: Module<Tensor, Tensor> {
        let attn: FaultyAttention
        let norm: LayerNorm

        init(dimension: Int, kind: Kind?, dieOnCall: Int) {
            attn = FaultyAttention(dimension: dimension, kind: kind, dieOnCall: dieOnCall)
            norm = LayerNorm(dimension)
            super.init()
        }

        override func forward(_ x: Tensor) throws -> Tensor { try x + attn(norm(x)) }
    }

    final class Model: Module<Tensor, Tensor> {
        let blocks: ModuleList<Block>

        init(dimension: Int, kind: Kind, dieAtStep step: Int) {
            // Only the second block dies: the record must name exactly `blocks.1.attn`.
            blocks = ModuleList([
                Block(dimension: dimension, kind: nil, dieOnCall: 0),
                Block(dimension: dimension, kind: kind, dieOnCall: step + 1),
            ])
            super.init()
        }

        override func forward(_ x: Tensor) throws -> Tensor {
            var h = x
            for block in blocks { h = try block(h) }
            return h
        }
    }

    /// A module on another thread that waits inside its forward until the process dies.
    final class Prefetcher: Module<Tensor, Tensor> {
        let decode = Linear(32, 32)
        let entered: DispatchSemaphore

        init(entered: DispatchSemaphore) {
            self.entered = entered
            super.init()
        }

        override func forward(_ x: Tensor) throws -> Tensor {
            let y = try decode(x)
            entered.signal()
            while x.shape[0] > 0 { usleep(10_000) }
            return y
        }
    }

    /// Traces to `trace` and dies as `kind` inside `blocks.1.attn`'s forward in step `step`
    /// (input [8,16,32]). Never returns.
    package static func run(_ kind: Kind, step: Int, trace: String) throws -> Never {
        let model = Model(dimension: 32, kind: kind, dieAtStep: step)
        var options = ProfilerOptions()
        options.sourceLocations = false
        let profiler = Profiler(output: trace, options: options, runName: "train --demo-crash \(kind.rawValue)")
        try profiler.start()
        let entered = DispatchSemaphore(value: 0)
        let worker = Thread {
            let prefetcher = Prefetcher(entered: entered)
            _ = try? Profiler.range("prefetch") { try prefetcher(Tensor.zeros([4, 32])) }
        }
        worker.start()
        entered.wait()
        let x = Tensor.ones([8, 16, 32])
        for _ in 0...step {
            try model(x).sum().backward()
            profiler.step()
        }
        fatalError("demo-crash: blocks.1.attn did not die")
    }

    @inline(never)
    static func die(_ kind: Kind, _ call: Int) {
        switch kind {
        case .fatal:
            fatalError("demo-crash: blocks.1.attn gave up on call \(call)")
        case .index:
            let heads = [0, 1, 2, 3]
            print(heads[call + heads.count])
        case .segv:
            let null = UnsafeMutablePointer<Int>(bitPattern: Int(call < 0 ? 1 : 0) | 8)!
            null.pointee = call
        case .abort:
            abort()
        case .overflow:
            print(recurse(call))
        case .backward:
            break
        }
    }

    @inline(never)
    static func recurse(_ n: Int) -> Int {
        var frame = (n, n, n, n, n, n, n, n)
        return withUnsafeMutableBytes(of: &frame) { recurse(n &+ Int($0[0])) &+ 1 }
    }
}

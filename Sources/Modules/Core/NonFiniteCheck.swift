import Tensors
import TraceEvents
import TraceRuntime

/// `ProfilerOptions.detectNonFinite`: reads a module's forward output for NaN and +infinity when
/// its span ends. Off the wrapper's path unless the flag is on. Negative infinity is not counted:
/// additive attention masks and masked scores hold it by design.
@usableFromInline enum NonFiniteCheck {
    /// Reports the module of open span `token` if `output` holds a NaN or a positive infinity.
    @usableFromInline static func check<Output: ModuleIO>(_ output: borrowing Output, token: Int32) {
        var bad = 0
        var nan = false
        output.forEachTensor { t in
            guard t.dtype == .float32 else { return }
            let n = NonFiniteCheck.count(t)
            if n > 0 && !nan { nan = NonFiniteCheck.holdsNaN(t) }
            bad += n
        }
        guard bad > 0, let session = Tracer.current else { return }
        let module = SpanTracer.openSubject(token)
        var shapes: [String] = []
        var total = 0
        output.forEachTensor { t in
            shapes.append(Tensor.format(t.shape))
            total += t.count
        }
        session.findings.reportNonFinite(module: module, step: TraceSession.step) {
            "forward output \(shapes.joined(separator: ";")) holds \(nan ? "NaN" : "infinity") (\(bad) of \(total) values)"
        }
    }

    /// NaNs and positive infinities in a float tensor: one pass the compiler vectorizes (exponent
    /// bits all set, and not -inf). (A strided view is read element by element: no op is recorded.)
    static func count(_ t: Tensor) -> Int {
        guard t.isContiguous else { return t.scalars.reduce(0) { $0 + ($1.isNaN || $1 == .infinity ? 1 : 0) } }
        return t.floats.withMemoryRebound(to: UInt32.self, capacity: t.count) { bits in
            var n = 0
            for i in 0..<t.count { n &+= bits[i] & 0x7f80_0000 == 0x7f80_0000 && bits[i] != 0xff80_0000 ? 1 : 0 }
            return n
        }
    }

    static func holdsNaN(_ t: Tensor) -> Bool {
        guard t.isContiguous else { return t.scalars.contains { $0.isNaN } }
        return UnsafeBufferPointer(start: t.floats, count: t.count).contains { $0.isNaN }
    }
}

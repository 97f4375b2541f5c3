import Synchronization
import TraceRuntime

/// Receives every op while a static graph is being captured.
public protocol OpGraphRecorder: AnyObject {
    func record(op: String, inputs: [Tensor], output: Tensor, scope: UInt32)
    func recordCall(caller: UInt32, callee: UInt32)
}

/// What the tracer attaches to ops: op-name interning, the graph recorder, and the
/// parameter-read check of the bypass detector.
public enum OpObservers {
    nonisolated(unsafe) public static var graph: OpGraphRecorder?

    private static let names = Mutex<[String: UInt32]>([:])

    /// The interned id of an op name.
    @usableFromInline static func nameID(_ name: String) -> UInt32 {
        names.withLock { cache in
            if let id = cache[name] { return id }
            let id = Interner.shared.intern(name)
            cache[name] = id
            return id
        }
    }

    /// Bypass signature 1: a parameter read while none of its owners' wrappers is active.
    /// Reported once per op and module, however many of its parameters the op reads.
    @usableFromInline static func checkParameterReads(_ inputs: [Tensor], innermost: UInt32) {
        var reported: UInt32 = 0
        for t in inputs {
            guard let info = t.parameter, let owner = info.owners.first, owner != reported else { continue }
            // The common case first: the op runs in the wrapper of the parameter's module.
            if owner == innermost || info.owners.contains(where: SpanTracer.isActive(module:)) { continue }
            reported = owner
            BypassLog.shared.report(module: owner, caller: innermost, evidence: .parameterRead,
                                    step: TraceSession.step, detail: info.path)
        }
    }
}

import CTracing
import TraceRuntime

/// What the tracer attaches to ops, all of it the active session's: op-name interning, the
/// graph recorder, and the parameter-read check of the bypass detector.
@usableFromInline package enum OpObservers {
    /// The session's graph recorder, while a graph is being captured.
    @usableFromInline package static var graph: GraphRecorder? {
        Tracer.current?.graphRecorder.map { unsafeDowncast($0, to: GraphRecorder.self) }
    }

    /// The interned id of an op name in the active session.
    @usableFromInline package static func nameID(_ name: String) -> UInt32 { Tracer.current?.names.intern(name) ?? 0 }

    /// Bypass signature 1: a user module's parameter read inside another module's wrapper while
    /// none of its owners' wrappers is active: the owner's `forward` ran without its wrapper.
    /// Reads outside every module (logging, a penalty, clipping, an EMA, initialisation), reads
    /// of built-in layers' parameters (they check their own wrapper) and reads the user marked
    /// as intended (`intendedParameterReads`) are not evidence.
    /// Reported once per op and module, however many of its parameters the op reads.
    /// Per op, the common cases cost one load per input: a tensor that is no parameter, or a
    /// built-in layer's, has no `judgedOwner`; a user module's read in its own wrapper has it equal
    /// to `innermost`.
    @inlinable package static func checkParameterReads(_ inputs: [Tensor], innermost: UInt32) {
        guard innermost != 0 else { return }
        for t in inputs {
            let owner = t.judgedOwner
            if owner != 0 && owner != innermost {
                checkForeignReads(inputs, innermost: innermost)
                return
            }
        }
    }

    /// The reads of an op that may be evidence: some input is a user module's parameter read
    /// outside that module's innermost wrapper.
    @usableFromInline package static func checkForeignReads(_ inputs: [Tensor], innermost: UInt32) {
        guard ct_state().pointee.intendedReads == 0, SpanTracer.canJudgeThread else { return }
        var reported: UInt32 = 0
        for t in inputs {
            guard let info = t.parameter, !info.ownersCheckThemselves, let owner = info.owners.first,
                owner != reported
            else { continue }
            // The common case first: the op runs in the wrapper of the parameter's module.
            if owner == innermost || info.owners.contains(where: SpanTracer.isActive(module:)) { continue }
            reported = owner
            Tracer.current?.findings.report(
                module: owner, caller: innermost, evidence: .parameterRead,
                step: TraceSession.step, detail: info.path)
        }
    }
}

/// Runs `body` with the bypass detector's parameter-read check off on this thread: for the rare
/// read of another module's parameter inside a module's `forward` that is intended (a user module
/// that reuses a sibling's weight functionally) and that the rules cannot tell from a bypass.
public func intendedParameterReads<R>(_ body: () throws -> R) rethrows -> R {
    ct_state().pointee.intendedReads += 1
    defer { ct_state().pointee.intendedReads -= 1 }
    return try body()
}

import Synchronization
import TraceEvents

/// The bypass findings of one trace session. Each site is counted, not listed per occurrence.
/// Thread-safe: every method takes the log's lock.
package final class BypassLog: Sendable {
    package init() {}

    private struct Key: Hashable {
        var module: UInt32
        var caller: UInt32
        var evidence: UInt8
    }
    private let findings = Mutex<[Key: BypassFinding]>([:])

    /// Where user code made the call a new finding is about (`file:line`), or nil; asked once
    /// per finding (it symbolicates a backtrace: milliseconds), never per call. Set by the profiler.
    package var locateCaller: (@Sendable () -> String?)? {
        get { locator.withLock { $0 } }
        set { locator.withLock { $0 = newValue } }
    }
    private let locator = Mutex<(@Sendable () -> String?)?>(nil)

    /// A module whose children ran outside its wrapper, seen from one caller.
    package struct SkippedWrapper: Sendable, Equatable {
        package var module: UInt32
        package var caller: UInt32
        package var firstStep: UInt32
        /// Calls of each child that ran outside the module's wrapper.
        package var childCalls: [UInt32: Int]
    }
    private let skipped = Mutex<[UInt64: SkippedWrapper]>([:])

    /// Counts a call of `child` while the wrapper of `module`, which calls it, was not active
    /// (`caller`'s was innermost). Judged at the end of the run (`skippedWrappers`).
    package func reportSkippedWrapper(module: UInt32, caller: UInt32, child: UInt32, step: UInt32) {
        let key = UInt64(module) << 32 | UInt64(caller)
        skipped.withLock { all in
            all[key, default: SkippedWrapper(module: module, caller: caller, firstStep: step, childCalls: [:])]
                .childCalls[child, default: 0] += 1
        }
    }

    /// Mode-dependent layers that ran since the last optimizer step, by mode.
    private let modeCalls = Mutex<(eval: Set<UInt32>, training: Set<UInt32>)>(([], []))
    /// Bumped by every `takeEvalOnlyModules`: a layer notes each mode once per interval, so its
    /// traced calls take the lock twice per optimizer step at most, not once per call.
    package let modeInterval = Atomic<UInt32>(1)

    /// Notes a call of a mode-dependent layer (Dropout, BatchNorm) in `training` or eval mode.
    package func noteModeDependentCall(module: UInt32, training: Bool) {
        modeCalls.withLock { calls in
            if training { calls.training.insert(module) } else { calls.eval.insert(module) }
        }
    }

    /// The mode-dependent layers that ran only in eval mode since the last call, and starts over.
    package func takeEvalOnlyModules() -> Set<UInt32> {
        modeCalls.withLock { calls in
            defer {
                calls = ([], [])
                modeInterval.wrappingAdd(1, ordering: .relaxed)
            }
            return calls.eval.subtracting(calls.training)
        }
    }

    private let unregistered = Mutex<[String: UInt32]>([:])

    /// The first unregistered module of `type` seen inside `caller` (`module` when it is the first):
    /// modules created anew on every call are one finding, counted, not one row per call.
    package func firstUnregistered(type: String, caller: UInt32, module: UInt32) -> UInt32 {
        unregistered.withLock { firsts in
            let key = "\(caller) \(type)"
            if let first = firsts[key] { return first }
            firsts[key] = module
            return module
        }
    }

    /// Every module whose children ran outside its wrapper, in a stable order.
    package func skippedWrappers() -> [SkippedWrapper] {
        skipped.withLock { Array($0.values) }.sorted { ($0.module, $0.caller) < ($1.module, $1.caller) }
    }

    /// Counts one occurrence of a bypass of `module` seen while `caller`'s wrapper was innermost.
    /// The first report of a finding also records where user code made the call (`locateCaller`):
    /// `detail` then ends in `at FILE:LINE`.
    package func report(module: UInt32, caller: UInt32, evidence: BypassEvidence, step: UInt32, detail: String = "") {
        let key = Key(module: module, caller: caller, evidence: evidence.rawValue)
        let isNew = findings.withLock { all in
            if all[key] != nil {
                all[key]!.count += 1
                return false
            }
            all[key] = BypassFinding(module: module, caller: caller, evidence: evidence, count: 1, firstStep: step, detail: detail)
            return true
        }
        // Symbolicated outside the lock, on this thread, once per finding.
        if isNew, let locate = locateCaller, let location = locate() {
            findings.withLock { all in
                all[key]?.detail = detail.isEmpty ? "at \(location)" : "\(detail) at \(location)"
            }
        }
    }

    private let firstNonFinite = Mutex<UInt32?>(nil)

    /// A module output holding NaN or infinity: the first names the finding (`detail` is asked
    /// for once), every later one is counted in it.
    package func reportNonFinite(module: UInt32, step: UInt32, detail: () -> String) {
        let (first, isFirst) = firstNonFinite.withLock { first -> (UInt32, Bool) in
            if let first { return (first, false) }
            first = module
            return (module, true)
        }
        report(module: first, caller: 0, evidence: .nonFinite, step: step, detail: isFirst ? detail() : "")
    }

    /// Everything seen so far, in a stable order.
    package func all() -> [BypassFinding] {
        findings.withLock { Array($0.values) }.sorted {
            ($0.module, $0.evidence.rawValue, $0.caller) < ($1.module, $1.evidence.rawValue, $1.caller)
        }
    }
}

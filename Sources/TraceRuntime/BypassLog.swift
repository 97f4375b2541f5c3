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

    /// Counts one occurrence of a bypass of `module` seen while `caller`'s wrapper was innermost.
    package func report(module: UInt32, caller: UInt32, evidence: BypassEvidence, step: UInt32, detail: String = "") {
        let key = Key(module: module, caller: caller, evidence: evidence.rawValue)
        findings.withLock { all in
            if all[key] != nil {
                all[key]!.count += 1
            } else {
                all[key] = BypassFinding(module: module, caller: caller, evidence: evidence, count: 1,
                                         firstStep: step, detail: detail)
            }
        }
    }

    /// Everything seen so far, in a stable order.
    package func all() -> [BypassFinding] {
        findings.withLock { Array($0.values) }.sorted {
            ($0.module, $0.evidence.rawValue, $0.caller) < ($1.module, $1.evidence.rawValue, $1.caller)
        }
    }
}

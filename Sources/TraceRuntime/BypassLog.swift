import Synchronization

/// Evidence that a module's `forward` ran without its wrapper.
public enum BypassEvidence: UInt8, Sendable, CaseIterable {
    /// One of its parameters was read by an op while its wrapper was not active.
    case parameterRead = 1
    /// A built-in layer's `forward` ran while the innermost wrapper was another module's.
    case foreignForward = 2
    /// It never entered its wrapper in a window in which its parent ran.
    case neverRan = 3

    public var name: String {
        switch self {
        case .parameterRead: "parameter_read"
        case .foreignForward: "forward_without_wrapper"
        case .neverRan: "never_ran"
        }
    }
}

/// A bypass site: which module, called from where, how it was seen, how often.
public struct BypassFinding: Sendable, Equatable {
    public var module: UInt32
    /// The module whose wrapper was innermost (0: outside any module).
    public var caller: UInt32
    public var evidence: BypassEvidence
    public var count: Int
    public var firstStep: UInt32
    /// For `parameterRead`: the parameter's dotted name.
    public var detail: String

    public init(module: UInt32, caller: UInt32, evidence: BypassEvidence, count: Int, firstStep: UInt32, detail: String) {
        self.module = module
        self.caller = caller
        self.evidence = evidence
        self.count = count
        self.firstStep = firstStep
        self.detail = detail
    }
}

/// Collects bypass findings during a session. Each site is counted, not listed per occurrence.
public final class BypassLog: Sendable {
    public static let shared = BypassLog()

    private struct Key: Hashable {
        var module: UInt32
        var caller: UInt32
        var evidence: UInt8
    }
    private let findings = Mutex<[Key: BypassFinding]>([:])

    public func report(module: UInt32, caller: UInt32, evidence: BypassEvidence, step: UInt32, detail: String = "") {
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
    public func all() -> [BypassFinding] {
        findings.withLock { Array($0.values) }.sorted {
            ($0.module, $0.evidence.rawValue, $0.caller) < ($1.module, $1.evidence.rawValue, $1.caller)
        }
    }

    public func reset() { findings.withLock { $0 = [:] } }
}

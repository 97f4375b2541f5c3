/// Evidence that a module's `forward` ran without its wrapper.
public enum BypassEvidence: UInt8, Sendable, CaseIterable {
    /// One of its parameters was read by an op while its wrapper was not active.
    case parameterRead = 1
    /// A built-in layer's `forward` ran while the innermost wrapper was another module's.
    case foreignForward = 2
    /// It never entered its wrapper in a window in which its parent ran.
    case neverRan = 3

    /// The name stored in the `bypasses` table and shown in reports.
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
    /// The module whose wrapper was skipped.
    public var module: UInt32
    /// The module whose wrapper was innermost (0: outside any module).
    public var caller: UInt32
    /// How the bypass was seen.
    public var evidence: BypassEvidence
    /// How many times it was seen.
    public var count: Int
    /// The profiler step in which it was first seen.
    public var firstStep: UInt32
    /// For `parameterRead`: the parameter's dotted name.
    public var detail: String

    /// A finding as the detector reports it.
    public init(module: UInt32, caller: UInt32, evidence: BypassEvidence, count: Int, firstStep: UInt32, detail: String) {
        self.module = module
        self.caller = caller
        self.evidence = evidence
        self.count = count
        self.firstStep = firstStep
        self.detail = detail
    }
}

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

/// The state of a run as the `runs.status` column stores it.
public enum RunStatus: String, Sendable, CaseIterable {
    /// Still being written, or its process died before the run ended.
    case incomplete
    /// Ended normally: every span, statistic, finding and index is written.
    case complete
    /// Ended by SIGINT or SIGTERM: finished like a complete run (spans, statistics, findings,
    /// indexes) up to the moment the signal arrived.
    case interrupted
    /// Its process died of a signal (SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT; Swift's
    /// runtime traps among them) and left a crash record: like `incomplete`, plus what was running.
    case crashed

    /// True when the run's findings and statistics were written (the run ended).
    public var isFinished: Bool { self != .incomplete && self != .crashed }
}

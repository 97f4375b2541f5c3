/// The state of a run as the `runs.status` column stores it.
public enum RunStatus: String, Sendable, CaseIterable {
    /// Still being written, or its process died before the run ended.
    case incomplete
    /// Ended normally: every span, statistic, finding and index is written.
    case complete

    /// True when the run's findings and statistics were written (the run ended).
    public var isFinished: Bool { self != .incomplete }
}

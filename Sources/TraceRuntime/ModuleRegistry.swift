import Synchronization
import TraceEvents

/// Module definitions of one trace session, written by the runtime when a module tree is
/// first seen in the session and read by the writer and the bypass detector.
/// Thread-safe: every method takes the registry's lock.
package final class ModuleRegistry: Sendable {
    /// With `feedsCrashRecorder`, its module paths and types are also copied for the flight recorder
    /// (only the profiled run's table does: the recorder holds one session's names).
    package init(feedsCrashRecorder: Bool = false) { self.feedsCrashRecorder = feedsCrashRecorder }

    private let feedsCrashRecorder: Bool

    private struct State {
        var modules: [UInt32: ModuleInfo] = [:]
        var order: [UInt32] = []
        /// Parent ids by module id, for lookups that must not take the lock per module.
        var parents: [UInt32] = []
    }
    private let state = Mutex(State())

    /// Adds or replaces definitions.
    package func define(_ infos: [ModuleInfo]) {
        state.withLock { s in
            for info in infos {
                if s.modules.updateValue(info, forKey: info.id) == nil { s.order.append(info.id) }
                let i = Int(info.id)
                if i >= s.parents.count { s.parents += [UInt32](repeating: 0, count: i + 1 - s.parents.count) }
                s.parents[i] = info.parent
            }
        }
        if feedsCrashRecorder { for info in infos { CrashRecorder.named(module: info) } }
    }

    /// Adds hook kinds registered on module `id` after its tree was described (they are listed
    /// among the hooks that did not fire when its wrapper is skipped).
    package func addHooks(_ kinds: UInt8, to id: UInt32) {
        state.withLock { s in s.modules[id]?.hooks |= kinds }
    }

    package func info(_ id: UInt32) -> ModuleInfo? { state.withLock { $0.modules[id] } }

    /// Parent ids indexed by module id (0: a root, or unknown), as of now.
    package var parents: [UInt32] { state.withLock { $0.parents } }

    /// Every module defined in this session, in definition order.
    package func all() -> [ModuleInfo] { state.withLock { s in s.order.compactMap { s.modules[$0] } } }
}

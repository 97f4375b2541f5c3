import Synchronization
import TraceEvents

/// Interning of strings and shape lists to small integers, one table per trace session.
/// The hot path reaches it only on a per-thread cache miss; the writer looks ids up lazily.
/// Thread-safe: every method takes the table's lock.
package final class Interner: Sendable {
    /// With `feedsCrashRecorder`, its strings and shape lists are also copied for the flight recorder
    /// (only the profiled run's table does: the recorder holds one session's names).
    package init(feedsCrashRecorder: Bool = false) { self.feedsCrashRecorder = feedsCrashRecorder }

    private let feedsCrashRecorder: Bool

    private struct State {
        var stringIDs: [String: UInt32] = [:]
        var strings: [String] = [""]
        var shapeIDs: [[Int32]: UInt32] = [:]
        var shapes: [[Int32]] = [[]]
    }
    private let state = Mutex(State())

    /// The id of `string` (ids start at 1).
    package func intern(_ string: String) -> UInt32 {
        let (id, isNew) = state.withLock { s -> (UInt32, Bool) in
            if let id = s.stringIDs[string] { return (id, false) }
            let id = UInt32(s.strings.count)
            s.strings.append(string)
            s.stringIDs[string] = id
            return (id, true)
        }
        if isNew && feedsCrashRecorder { CrashRecorder.named(string: id, string) }
        return id
    }

    /// The id of a shape list in token form (ids start at 1).
    package func intern(shapeTokens tokens: [Int32]) -> UInt32 {
        let (id, isNew) = state.withLock { s -> (UInt32, Bool) in
            if let id = s.shapeIDs[tokens] { return (id, false) }
            let id = UInt32(s.shapes.count)
            s.shapes.append(tokens)
            s.shapeIDs[tokens] = id
            return (id, true)
        }
        // Rendered for the crash recorder once per shape list, outside the lock.
        if isNew && feedsCrashRecorder { CrashRecorder.named(shapes: id, tokens) }
        return id
    }

    /// The string with `id`, or `?` for an id this table never handed out.
    package func string(_ id: UInt32) -> String {
        state.withLock { s in Int(id) < s.strings.count ? s.strings[Int(id)] : "?" }
    }

    /// The shape list with `id` (empty for an unknown id).
    package func shapes(_ id: UInt32) -> ShapeList {
        let tokens = state.withLock { s in Int(id) < s.shapes.count ? s.shapes[Int(id)] : [] }
        return ShapeList(tokens: tokens)
    }
}

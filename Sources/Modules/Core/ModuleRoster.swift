import Synchronization

/// Every live module, held weakly: lets the tracer find the tree a module belongs to when
/// nobody called `Profiler.watch(model)`, so paths and parents are right from the first call.
/// Thread-safe: a lock guards the list; modules register in `init` (a few tens of ns).
enum ModuleRoster {
    private struct Entry {
        weak var module: AnyModule?
    }
    /// Sendable by hand: the list is only touched under the lock, and a weak reference is
    /// only turned into a strong one there.
    private struct Entries: @unchecked Sendable {
        var list: [Entry] = []
        var pruneAt = 1024
    }
    private static let entries = Mutex(Entries())

    static func register(_ module: AnyModule) {
        entries.withLock { e in
            e.list.append(Entry(module: module))
            if e.list.count >= e.pruneAt {
                e.list.removeAll { $0.module == nil }
                e.pruneAt = max(1024, e.list.count * 2)
            }
        }
    }

    /// Every module still alive.
    static func live() -> [AnyModule] { entries.withLock { $0.list.compactMap(\.module) } }

    /// The outermost module whose tree holds `module` (itself when no live module holds it).
    /// Reflects every live module's children once; called once per tree per trace session.
    static func root(of module: AnyModule) -> AnyModule {
        var parent: [ObjectIdentifier: AnyModule] = [:]
        for m in live() {
            for (_, child) in m.children where child !== m { parent[ObjectIdentifier(child), default: m] = m }
        }
        var current = module
        var seen: Set<ObjectIdentifier> = [ObjectIdentifier(module)]
        while let p = parent[ObjectIdentifier(current)], seen.insert(ObjectIdentifier(p)).inserted { current = p }
        return current
    }
}

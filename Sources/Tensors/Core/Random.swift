import Synchronization

/// The seeded generator layers draw their initial weights from (PyTorch's `torch.manual_seed`):
/// process-wide, or scoped to a block with `withSeed` so that concurrent model builds stay
/// deterministic.
public enum Random {
    private static let generator = Mutex(RandomGenerator(seed: 0))

    /// Sendable by hand: only used by the thread or task that bound it (`withSeed`).
    final class Scoped: @unchecked Sendable {
        var generator: RandomGenerator
        init(_ generator: RandomGenerator) { self.generator = generator }
    }
    @TaskLocal static var scoped: Scoped?

    /// Restarts the process-wide generator from `seed`.
    public static func seed(_ seed: UInt64) { generator.withLock { $0 = RandomGenerator(seed: seed) } }

    /// Runs `body` with its own generator seeded from `seed` (on this thread or task only).
    public static func withSeed<R>(_ seed: UInt64, _ body: () throws -> R) rethrows -> R {
        try $scoped.withValue(Scoped(RandomGenerator(seed: seed)), operation: body)
    }

    /// Runs `body` with the generator in scope (or the process-wide one).
    public static func withGenerator<R>(_ body: (inout RandomGenerator) -> R) -> R {
        if let scoped { return body(&scoped.generator) }
        return generator.withLock { body(&$0) }
    }

    /// A new generator seeded from the current one (for a layer that needs its own stream).
    public static func split() -> RandomGenerator { withGenerator { RandomGenerator(seed: $0.next()) } }
}

import Synchronization

/// The process-wide seeded generator that layers draw their initial weights from
/// (PyTorch's `torch.manual_seed`).
public enum Random {
    private static let generator = Mutex(RandomGenerator(seed: 0))

    /// Restarts the default generator from `seed`.
    public static func seed(_ seed: UInt64) { generator.withLock { $0 = RandomGenerator(seed: seed) } }

    /// Runs `body` with the default generator.
    public static func withGenerator<R>(_ body: (inout RandomGenerator) -> R) -> R {
        generator.withLock { body(&$0) }
    }

    /// A new generator seeded from the default one (for a layer that needs its own stream).
    public static func split() -> RandomGenerator { withGenerator { RandomGenerator(seed: $0.next()) } }
}

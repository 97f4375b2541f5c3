import Tensors

/// Seeded shuffling and batching: index batches over `count` examples, reshuffled each epoch.
package struct Batches: IteratorProtocol, Sequence {
    private var order: [Int]
    private var position = 0
    private var generator: RandomGenerator
    package let batchSize: Int

    package init(count: Int, batchSize: Int, seed: UInt64) {
        precondition(count >= batchSize && batchSize > 0, "Batches: need at least one full batch of \(batchSize) from \(count) examples")
        order = Array(0..<count)
        generator = RandomGenerator(seed: seed)
        self.batchSize = batchSize
        generator.shuffle(&order)
    }

    /// The next batch of indices; batches never run out (a new epoch starts, reshuffled).
    package mutating func next() -> ArraySlice<Int>? {
        if position + batchSize > order.count {
            generator.shuffle(&order)
            position = 0
        }
        defer { position += batchSize }
        return order[position..<position + batchSize]
    }
}

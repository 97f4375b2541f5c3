import Tensors

/// Splits a data set between ranks like PyTorch's `DistributedSampler`: each epoch the
/// indices are shuffled with `seed + epoch` (the same permutation on every rank), padded
/// by repeating from the start so that every rank gets the same count, and rank `r` takes
/// every `size`-th index from `r`. Shards of one epoch are disjoint unless padding was needed.
public struct DistributedSampler: Sendable {
    /// Indices in the data set (0..<count).
    public let count: Int
    /// This sampler's rank.
    public let rank: Int
    /// The world size.
    public let size: Int
    /// Shuffling seed; epoch `e` shuffles with `seed + e`.
    public let seed: UInt64
    /// Whether each epoch is shuffled.
    public let shuffle: Bool

    /// Indices 0..<count split over `size` ranks; this is rank `rank`'s sampler.
    public init(count: Int, rank: Int, size: Int, seed: UInt64 = 0, shuffle: Bool = true) {
        precondition(size >= 1 && (0..<size).contains(rank), "DistributedSampler: rank \(rank) is not in 0..<\(size)")
        precondition(count >= 1, "DistributedSampler: an empty data set cannot be split")
        (self.count, self.rank, self.size, self.seed, self.shuffle) = (count, rank, size, seed, shuffle)
    }

    /// How many indices each rank gets per epoch.
    public var samplesPerRank: Int { (count + size - 1) / size }

    /// This rank's indices for `epoch`.
    public func indices(epoch: Int) -> [Int] {
        var order = Array(0..<count)
        if shuffle {
            var generator = RandomGenerator(seed: seed &+ UInt64(epoch))
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, Int(generator.next() % UInt64(i + 1)))
            }
        }
        let total = samplesPerRank * size
        var index = 0
        while order.count < total {
            order.append(order[index])
            index += 1
        }
        return stride(from: rank, to: total, by: size).map { order[$0] }
    }

    /// This rank's contiguous share of a global batch of `batch.count` examples (which
    /// must divide by `size`): together the ranks cover the global batch exactly once.
    public func shard<C: RandomAccessCollection>(of batch: C) -> [C.Element] where C.Index == Int {
        let per = batch.count / size
        let start = batch.startIndex + rank * per
        return Array(batch[start..<(start + per)])
    }
}

import Tensors

/// Parameters grouped into flat buffers for all-reduce, in reverse `parameters()` order
/// (roughly the order backward produces their gradients), each bucket up to a byte cap.
/// As in PyTorch, the first bucket is smaller (1 MiB at most) so that communication starts early.
struct GradientBuckets {
    struct Bucket {
        /// Indexes into the parameter list, in the order they are packed.
        let parameters: [Int]
        /// Element offset of each of them in the bucket.
        let offsets: [Int]
        let count: Int
        var bytes: Int { count * 4 }
    }

    let buckets: [Bucket]
    /// For each parameter: its bucket and its place in that bucket.
    let location: [(bucket: Int, slot: Int)]

    init(parameters: [Tensor], capBytes: Int, firstCapBytes: Int) {
        var buckets: [Bucket] = []
        var location = [(bucket: Int, slot: Int)](repeating: (0, 0), count: parameters.count)
        var current: [Int] = []
        var offsets: [Int] = []
        var count = 0
        func close() {
            guard !current.isEmpty else { return }
            buckets.append(Bucket(parameters: current, offsets: offsets, count: count))
            (current, offsets, count) = ([], [], 0)
        }
        for index in parameters.indices.reversed() {
            let cap = buckets.isEmpty ? firstCapBytes : capBytes
            let elements = parameters[index].count
            if !current.isEmpty && (count + elements) * 4 > cap { close() }
            location[index] = (buckets.count, current.count)
            current.append(index)
            offsets.append(count)
            count += elements
        }
        close()
        self.buckets = buckets
        self.location = location
    }
}

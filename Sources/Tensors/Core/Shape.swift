/// Shape arithmetic.
public enum Shape {
    /// The number of elements in `shape` (1 for a scalar `[]`).
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Row-major strides of `shape`, in elements (the last axis has stride 1).
    public static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= shape[i]
        }
        return strides
    }

    /// NumPy broadcasting of two shapes, or nil when they are incompatible.
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)]
            let db = i < n - b.count ? 1 : b[i - (n - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    /// Strides to read a tensor of `shape`/`strides` broadcast to `target` (0 on repeated axes).
    static func broadcastStrides(_ shape: [Int], _ strides: [Int], to target: [Int]) -> [Int] {
        let lead = target.count - shape.count
        return (0..<target.count).map { i in
            i < lead || shape[i - lead] == 1 ? 0 : strides[i - lead]
        }
    }

    /// Resolves one `-1` in a reshape target.
    static func resolve(_ target: [Int], count: Int) -> [Int]? {
        var shape = target
        let known = target.filter { $0 != -1 }.reduce(1, *)
        let unknown = target.indices.filter { target[$0] == -1 }
        if unknown.count > 1 { return nil }
        if let u = unknown.first {
            guard known > 0, count % known == 0 else { return nil }
            shape[u] = count / known
        }
        return Shape.count(shape) == count ? shape : nil
    }

    /// Normalizes a possibly negative axis.
    static func axis(_ axis: Int, rank: Int) -> Int? {
        let a = axis < 0 ? axis + rank : axis
        return (0..<rank).contains(a) ? a : nil
    }
}

/// Sum, mean and max over axes.
extension Tensor {
    /// The sum of all elements, as a scalar tensor.
    public func sum() -> Tensor {
        let shape = self.shape
        return Autograd.op(
            "sum", [self],
            {
                let c = contiguousStorageTensor
                var total: Double = 0
                let p = c.floats
                for i in 0..<count { total += Double(p[i]) }
                return Tensor.scalar(Float(total))
            }, backward: { g, _ in [Tensor(repeating: g.item, shape: shape)] })
    }

    /// The mean of all elements.
    public func mean() -> Tensor { sum() * (1 / Float(max(count, 1))) }

    /// Sums over `axes`, keeping them as size 1 when `keepDims`.
    public func sum(axes: [Int], keepDims: Bool = false) throws -> Tensor {
        var normalized: [Int] = []
        for axis in axes {
            guard let a = Shape.axis(axis, rank: rank) else {
                throw TensorError("sum", [shape], "axis \(axis) out of range")
            }
            normalized.append(a)
        }
        let kept = shape.enumerated().map { normalized.contains($0.offset) ? 1 : $0.element }
        let final = keepDims ? kept : shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
        let input = shape
        return Autograd.op(
            "sum", [self],
            {
                var current = contiguousStorageTensor
                for a in normalized.sorted() where current.shape[a] != 1 {
                    let outer = current.shape[..<a].reduce(1, *)
                    let inner = current.shape[(a + 1)...].reduce(1, *)
                    var reduced = current.shape
                    reduced[a] = 1
                    let out = Tensor(uninitialized: reduced)
                    Kernels.sumMiddle(current.floats, outer: outer, n: current.shape[a], inner: inner, into: out.floats)
                    current = out
                }
                if current === self { current = self.contiguous().detach().copy() }
                return Tensor(storage: current.storage, shape: final, strides: Shape.contiguousStrides(final), offset: 0)
            },
            backward: { g, _ in
                let expanded = try g.reshaped(kept)
                let out = Tensor(uninitialized: input)
                Kernels.binary(expanded, Tensor.scalar(0), shape: input, into: out.floats, +)
                return [out]
            })
    }

    /// The mean over `axes`.
    public func mean(axes: [Int], keepDims: Bool = false) throws -> Tensor {
        let n = try axes.map { a -> Int in
            guard let i = Shape.axis(a, rank: rank) else { throw TensorError("mean", [shape], "axis \(a) out of range") }
            return shape[i]
        }.reduce(1, *)
        return try sum(axes: axes, keepDims: keepDims) * (1 / Float(n))
    }

    /// The maximum along `axis`; the gradient goes to the first maximal element.
    public func amax(axis: Int, keepDims: Bool = false) throws -> Tensor {
        guard let a = Shape.axis(axis, rank: rank) else {
            throw TensorError("amax", [shape], "axis \(axis) out of range")
        }
        let outer = shape[..<a].reduce(1, *)
        let n = shape[a]
        let inner = shape[(a + 1)...].reduce(1, *)
        var kept = shape
        kept[a] = 1
        let final = keepDims ? kept : shape.enumerated().filter { $0.offset != a }.map(\.element)
        let input = shape
        var argmax = [Int](repeating: 0, count: outer * inner)
        return Autograd.op(
            "amax", [self],
            {
                let c = contiguousStorageTensor
                let out = Tensor(uninitialized: final)
                let p = c.floats
                let o = out.floats
                for i in 0..<outer {
                    for k in 0..<inner {
                        var best = p[i * n * inner + k]
                        var at = 0
                        for j in 1..<max(n, 1) where p[(i * n + j) * inner + k] > best {
                            best = p[(i * n + j) * inner + k]
                            at = j
                        }
                        o[i * inner + k] = best
                        argmax[i * inner + k] = at
                    }
                }
                return out
            },
            backward: { g, _ in
                let gc = g.contiguousStorageTensor
                let out = Tensor.zeros(input)
                for i in 0..<outer {
                    for k in 0..<inner {
                        out.floats[(i * n + argmax[i * inner + k]) * inner + k] = gc.floats[i * inner + k]
                    }
                }
                return [out]
            })
    }

    /// The maximum over several axes (one after another, so the gradient goes to the first maximum).
    public func amax(axes: [Int], keepDims: Bool = false) throws -> Tensor {
        var normalized: [Int] = []
        for axis in axes {
            guard let a = Shape.axis(axis, rank: rank), !normalized.contains(a) else {
                throw TensorError("amax", [shape], "axes \(axes) out of range or repeated")
            }
            normalized.append(a)
        }
        var result = self
        for a in normalized.sorted(by: >) { result = try result.amax(axis: a, keepDims: keepDims) }
        return result
    }

    /// Index of the largest element along the last axis, per row (for accuracy).
    public func argmaxLastAxis() -> [Int] {
        let c = contiguousStorageTensor
        let n = shape.last ?? 1
        let rows = count / max(n, 1)
        return (0..<rows).map { r in
            let p = c.floats + r * n
            var best = 0
            for j in 1..<n where p[j] > p[best] { best = j }
            return best
        }
    }

    /// A contiguous copy with its own storage.
    public func copy() -> Tensor {
        let out = Tensor(uninitialized: shape, dtype: dtype)
        Kernels.copyStrided(from: self, to: out.floats)
        return out
    }
}

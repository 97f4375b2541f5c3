/// Views (reshape, transpose, permute, slice) and their inverses: concat and split.
extension Tensor {
    /// The same elements with a new shape (one dim may be -1). A view when contiguous.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard let target = Shape.resolve(newShape, count: count) else {
            throw TensorError("reshape", [shape, newShape], "element count \(count) does not fit the new shape")
        }
        let source = contiguous()
        let oldShape = shape
        return Autograd.op(
            "reshape", [source],
            {
                Tensor(
                    storage: source.storage, shape: target, strides: Shape.contiguousStrides(target),
                    offset: source.offset, dtype: dtype)
            }, backward: { g, _ in [try g.reshaped(oldShape)] })
    }

    /// Flattens axes `from...` into one.
    public func flattened(from axis: Int = 1) throws -> Tensor {
        guard let a = Shape.axis(axis, rank: rank) else {
            throw TensorError("flatten", [shape], "axis \(axis) out of range")
        }
        return try reshaped(Array(shape[..<a]) + [shape[a...].reduce(1, *)])
    }

    /// Swaps two axes (a view).
    public func transposed(_ a0: Int = -2, _ a1: Int = -1) throws -> Tensor {
        guard let i = Shape.axis(a0, rank: rank), let j = Shape.axis(a1, rank: rank) else {
            throw TensorError("transpose", [shape], "axes \(a0), \(a1) out of range")
        }
        var order = Array(0..<rank)
        order.swapAt(i, j)
        return try permuted(order)
    }

    /// Reorders axes (a view).
    public func permuted(_ order: [Int]) throws -> Tensor {
        guard order.sorted() == Array(0..<rank) else {
            throw TensorError("permute", [shape, order], "order is not a permutation of the axes")
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return Autograd.op(
            "permute", [self],
            {
                Tensor(
                    storage: storage, shape: order.map { shape[$0] }, strides: order.map { strides[$0] },
                    offset: offset, dtype: dtype)
            }, backward: { g, _ in [try g.permuted(inverse)] })
    }

    /// Elements `range` along `axis` (a view).
    public func slice(axis: Int, _ range: Range<Int>) throws -> Tensor {
        guard let a = Shape.axis(axis, rank: rank), range.lowerBound >= 0, range.upperBound <= shape[a] else {
            throw TensorError("slice", [shape], "range \(range) out of bounds on axis \(axis)")
        }
        var newShape = shape
        newShape[a] = range.count
        let full = shape
        return Autograd.op(
            "slice", [self],
            {
                Tensor(
                    storage: storage, shape: newShape, strides: strides,
                    offset: offset + range.lowerBound * strides[a], dtype: dtype)
            },
            backward: { g, _ in
                // Scatter the gradient back into a zero tensor of the input's shape.
                let out = Tensor.zeros(full)
                let view = Tensor(
                    storage: out.storage, shape: newShape, strides: out.strides,
                    offset: range.lowerBound * out.strides[a])
                Kernels.copy(g, into: view)
                return [out]
            })
    }

    /// Joins tensors along `axis`; all other dims must agree.
    public static func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
        guard let first = tensors.first, let a = Shape.axis(axis, rank: first.rank) else {
            throw TensorError("concat", tensors.map(\.shape), "needs at least one tensor and a valid axis")
        }
        for t in tensors where t.rank != first.rank || (0..<t.rank).contains(where: { $0 != a && t.shape[$0] != first.shape[$0] }) {
            throw TensorError("concat", tensors.map(\.shape), "dims other than axis \(axis) differ")
        }
        var shape = first.shape
        shape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let sizes = tensors.map { $0.shape[a] }
        return Autograd.op(
            "concat", tensors,
            {
                let out = Tensor(uninitialized: shape, dtype: first.dtype)
                var start = 0
                for t in tensors {
                    let view = Tensor(
                        storage: out.storage, shape: t.shape, strides: out.strides,
                        offset: start * out.strides[a])
                    Kernels.copy(t, into: view)
                    start += t.shape[a]
                }
                return out
            },
            backward: { g, _ in
                var start = 0
                return try sizes.map { n in
                    defer { start += n }
                    return try g.slice(axis: a, start..<start + n).contiguous()
                }
            })
    }

    /// Splits along `axis` into pieces of `sizes` (views).
    public func split(_ sizes: [Int], axis: Int) throws -> [Tensor] {
        guard let a = Shape.axis(axis, rank: rank), sizes.reduce(0, +) == shape[a] else {
            throw TensorError("split", [shape, sizes], "sizes do not add up to the length of axis \(axis)")
        }
        var start = 0
        return try sizes.map { n in
            defer { start += n }
            return try slice(axis: a, start..<start + n)
        }
    }
}

extension Kernels {
    /// Copies `src` into the (possibly strided) destination view `dst` of the same shape.
    static func copy(_ src: Tensor, into dst: Tensor) {
        let s = src.storage.base.assumingMemoryBound(to: Float.self) + src.offset
        let d = dst.storage.base.assumingMemoryBound(to: Float.self) + dst.offset
        forEachIndex(shape: dst.shape, strides: [src.strides, dst.strides]) { _, offsets, inner, inc in
            let p = s + offsets[0]
            let q = d + offsets[1]
            if inc[0] == 1 && inc[1] == 1 {
                q.update(from: p, count: inner)
            } else {
                for k in 0..<inner { q[k * inc[1]] = p[k * inc[0]] }
            }
        }
    }
}

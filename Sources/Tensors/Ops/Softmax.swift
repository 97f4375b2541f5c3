#if canImport(Glibc)
    import Glibc
#endif

/// Numerically stable softmax and log-softmax along an axis.
extension Tensor {
    /// Views a contiguous tensor as `[outer, n, inner]` around `axis`.
    func around(_ axis: Int, _ op: String) throws -> (axis: Int, outer: Int, n: Int, inner: Int) {
        guard let a = Shape.axis(axis, rank: rank) else { throw TensorError(op, [shape], "axis \(axis) out of range") }
        return (a, shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
    }

    /// Softmax along `axis` (negative counts from the end), as `torch.softmax`; throws when `axis` is out of range.
    public func softmax(axis: Int = -1) throws -> Tensor {
        let (_, outer, n, inner) = try around(axis, "softmax")
        return Autograd.op(
            "softmax", [self],
            {
                let out = contiguousStorageTensor.copy()
                Kernels.softmax(out.floats, outer: outer, n: n, inner: inner, log: false)
                return out
            },
            backward: { g, y in
                // dx = y * (g - sum(g * y))
                let gc = g.contiguousStorageTensor
                let yc = y.contiguousStorageTensor
                let dx = Tensor(uninitialized: y.shape)
                for o in 0..<outer {
                    for k in 0..<inner {
                        var dot: Float = 0
                        for j in 0..<n {
                            let i = (o * n + j) * inner + k
                            dot += gc.floats[i] * yc.floats[i]
                        }
                        for j in 0..<n {
                            let i = (o * n + j) * inner + k
                            dx.floats[i] = yc.floats[i] * (gc.floats[i] - dot)
                        }
                    }
                }
                return [dx]
            })
    }

    /// Log-softmax along `axis` (negative counts from the end), as `torch.log_softmax`; throws when `axis` is out of range.
    public func logSoftmax(axis: Int = -1) throws -> Tensor {
        let (_, outer, n, inner) = try around(axis, "log_softmax")
        return Autograd.op(
            "log_softmax", [self],
            {
                let out = contiguousStorageTensor.copy()
                Kernels.softmax(out.floats, outer: outer, n: n, inner: inner, log: true)
                return out
            },
            backward: { g, y in
                // dx = g - exp(y) * sum(g)
                let gc = g.contiguousStorageTensor
                let yc = y.contiguousStorageTensor
                let dx = Tensor(uninitialized: y.shape)
                for o in 0..<outer {
                    for k in 0..<inner {
                        var total: Float = 0
                        for j in 0..<n { total += gc.floats[(o * n + j) * inner + k] }
                        for j in 0..<n {
                            let i = (o * n + j) * inner + k
                            dx.floats[i] = gc.floats[i] - expf(yc.floats[i]) * total
                        }
                    }
                }
                return [dx]
            })
    }
}

extension Kernels {
    /// In-place softmax (or log-softmax) of a contiguous `[outer, n, inner]` block over `n`.
    static func softmax(_ p: UnsafeMutablePointer<Float>, outer: Int, n: Int, inner: Int, log: Bool) {
        for o in 0..<outer {
            for k in 0..<inner {
                let base = p + o * n * inner + k
                var m = -Float.infinity
                for j in 0..<n { m = max(m, base[j * inner]) }
                var total: Float = 0
                for j in 0..<n { total += expf(base[j * inner] - m) }
                if log {
                    let lse = m + logf(total)
                    for j in 0..<n { base[j * inner] -= lse }
                } else {
                    for j in 0..<n { base[j * inner] = expf(base[j * inner] - m) / total }
                }
            }
        }
    }
}

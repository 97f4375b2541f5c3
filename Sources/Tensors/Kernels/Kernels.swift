/// Loops over raw memory. Inputs are assumed valid; ops check shapes first.
public enum Kernels {
    /// Copies a strided tensor into contiguous memory (bitwise, so it serves int32 too).
    static func copyStrided(from t: Tensor, to out: UnsafeMutablePointer<Float>) {
        let src = t.storage.base.assumingMemoryBound(to: Float.self) + t.offset
        forEachIndex(shape: t.shape, strides: [t.strides]) { i, offsets, inner, innerStrides in
            let s = innerStrides[0]
            let o = out + i
            let p = src + offsets[0]
            if s == 1 {
                o.update(from: p, count: inner)
            } else {
                for k in 0..<inner { o[k] = p[k * s] }
            }
        }
    }

    /// Walks `shape` in row-major order, calling `body` once per run of the innermost
    /// axis with the output offset, each operand's offset, the run length and the
    /// operands' innermost strides.
    @inline(__always)
    static func forEachIndex(
        shape: [Int], strides: [[Int]],
        _ body: (Int, [Int], Int, [Int]) -> Void
    ) {
        let rank = shape.count
        if rank == 0 {
            body(0, [Int](repeating: 0, count: strides.count), 1, [Int](repeating: 0, count: strides.count))
            return
        }
        let inner = shape[rank - 1]
        let innerStrides = strides.map { $0[rank - 1] }
        let outer = shape.dropLast().reduce(1, *)
        if inner == 0 || outer == 0 { return }
        var index = [Int](repeating: 0, count: rank - 1)
        var offsets = [Int](repeating: 0, count: strides.count)
        for o in 0..<outer {
            body(o * inner, offsets, inner, innerStrides)
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                for k in 0..<strides.count { offsets[k] += strides[k][axis] }
                if index[axis] < shape[axis] { break }
                for k in 0..<strides.count { offsets[k] -= strides[k][axis] * shape[axis] }
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// `out[i] = f(a[i], b[i])` with NumPy broadcasting; `out` is contiguous in `shape`.
    @inline(__always)
    static func binary(
        _ a: Tensor, _ b: Tensor, shape: [Int], into out: UnsafeMutablePointer<Float>,
        _ f: (Float, Float) -> Float
    ) {
        let pa = a.floats
        let pb = b.floats
        if a.shape == shape && b.shape == shape && a.isContiguous && b.isContiguous {
            for i in 0..<Shape.count(shape) { out[i] = f(pa[i], pb[i]) }
            return
        }
        if a.count == 1 && b.shape == shape && b.isContiguous {
            let x = pa[0]
            for i in 0..<Shape.count(shape) { out[i] = f(x, pb[i]) }
            return
        }
        if b.count == 1 && a.shape == shape && a.isContiguous {
            let y = pb[0]
            for i in 0..<Shape.count(shape) { out[i] = f(pa[i], y) }
            return
        }
        let sa = Shape.broadcastStrides(a.shape, a.strides, to: shape)
        let sb = Shape.broadcastStrides(b.shape, b.strides, to: shape)
        forEachIndex(shape: shape, strides: [sa, sb]) { o, offsets, inner, inc in
            let x = pa + offsets[0]
            let y = pb + offsets[1]
            let z = out + o
            switch (inc[0], inc[1]) {
            case (1, 1): for k in 0..<inner { z[k] = f(x[k], y[k]) }
            case (1, 0):
                let v = y[0]
                for k in 0..<inner { z[k] = f(x[k], v) }
            case (0, 1):
                let u = x[0]
                for k in 0..<inner { z[k] = f(u, y[k]) }
            default: for k in 0..<inner { z[k] = f(x[k * inc[0]], y[k * inc[1]]) }
            }
        }
    }

    /// `out[i] = f(a[i])` for a contiguous `a`.
    @inline(__always)
    static func unary(
        _ a: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ n: Int,
        _ f: (Float) -> Float
    ) {
        for i in 0..<n { out[i] = f(a[i]) }
    }

    /// Sums a contiguous `[outer, n, inner]` block over its middle axis into `[outer, inner]`.
    static func sumMiddle(
        _ src: UnsafePointer<Float>, outer: Int, n: Int, inner: Int,
        into dst: UnsafeMutablePointer<Float>
    ) {
        for o in 0..<outer {
            let d = dst + o * inner
            d.update(repeating: 0, count: inner)
            for j in 0..<n {
                let s = src + (o * n + j) * inner
                for k in 0..<inner { d[k] += s[k] }
            }
        }
    }
}

/// Layer norm, batch norm, embedding lookup and dropout.
extension Tensor {
    /// Normalizes over the last axis, then scales by `gamma` and shifts by `beta` (both `[D]`).
    public static func layerNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, eps: Float = 1e-5) throws -> Tensor {
        let d = x.shape.last ?? 0
        guard x.rank >= 1, gamma.shape == [d], beta.shape == [d] else {
            throw TensorError("layer_norm", [x.shape, gamma.shape, beta.shape], "expected x [..., D], gamma [D], beta [D]")
        }
        let rows = x.count / max(d, 1)
        var normalized: Tensor?, rstd = [Float](repeating: 0, count: rows)
        return Autograd.op("layer_norm", [x, gamma, beta], {
            let xc = x.contiguousStorageTensor
            let xhat = Tensor(uninitialized: x.shape), out = Tensor(uninitialized: x.shape)
            let gm = gamma.contiguousStorageTensor.floats, bt = beta.contiguousStorageTensor.floats
            for r in 0..<rows {
                let p = xc.floats + r * d, h = xhat.floats + r * d, o = out.floats + r * d
                var mean: Float = 0
                for i in 0..<d { mean += p[i] }
                mean /= Float(d)
                var variance: Float = 0
                for i in 0..<d { variance += (p[i] - mean) * (p[i] - mean) }
                let s = 1 / (variance / Float(d) + eps).squareRoot()
                rstd[r] = s
                for i in 0..<d {
                    h[i] = (p[i] - mean) * s
                    o[i] = h[i] * gm[i] + bt[i]
                }
            }
            normalized = xhat
            return out
        }, backward: { g, _ in
            let gc = g.contiguousStorageTensor, xhat = normalized!
            let gm = gamma.contiguousStorageTensor.floats
            let dx = Tensor(uninitialized: x.shape), dg = Tensor.zeros([d]), db = Tensor.zeros([d])
            for r in 0..<rows {
                let gy = gc.floats + r * d, h = xhat.floats + r * d, o = dx.floats + r * d
                var meanD: Float = 0, meanDH: Float = 0
                for i in 0..<d {
                    let dh = gy[i] * gm[i]
                    meanD += dh
                    meanDH += dh * h[i]
                    dg.floats[i] += gy[i] * h[i]
                    db.floats[i] += gy[i]
                }
                meanD /= Float(d)
                meanDH /= Float(d)
                for i in 0..<d { o[i] = rstd[r] * (gy[i] * gm[i] - meanD - h[i] * meanDH) }
            }
            return [dx, dg, db]
        })
    }

    /// Batch norm over axis 1 of `[N, C]` or `[N, C, H, W]`. In training it normalizes with the
    /// batch statistics and updates the running ones in place; in eval it uses the running ones.
    public static func batchNorm(_ x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor,
                                 training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) throws -> Tensor {
        guard x.rank == 2 || x.rank == 4, gamma.shape == [x.shape[1]], beta.shape == gamma.shape,
              runningMean.shape == gamma.shape, runningVar.shape == gamma.shape else {
            throw TensorError("batch_norm", [x.shape, gamma.shape], "expected x [N, C] or [N, C, H, W] and gamma [C]")
        }
        let (n, c) = (x.shape[0], x.shape[1])
        let spatial = x.rank == 4 ? x.shape[2] * x.shape[3] : 1
        let m = n * spatial
        var normalized: Tensor?, rstd = [Float](repeating: 0, count: c)
        return Autograd.op("batch_norm", [x, gamma, beta], {
            let xc = x.contiguousStorageTensor
            let xhat = Tensor(uninitialized: x.shape), out = Tensor(uninitialized: x.shape)
            let gm = gamma.contiguousStorageTensor.floats, bt = beta.contiguousStorageTensor.floats
            let rm = runningMean.floats, rv = runningVar.floats
            for ch in 0..<c {
                var mean: Float, variance: Float
                if training {
                    var s: Double = 0, ss: Double = 0
                    for b in 0..<n {
                        let p = xc.floats + (b * c + ch) * spatial
                        for i in 0..<spatial { s += Double(p[i]); ss += Double(p[i]) * Double(p[i]) }
                    }
                    mean = Float(s / Double(m))
                    variance = Float(max(ss / Double(m) - Double(mean) * Double(mean), 0))
                    rm[ch] = (1 - momentum) * rm[ch] + momentum * mean
                    rv[ch] = (1 - momentum) * rv[ch] + momentum * variance * Float(m) / Float(max(m - 1, 1))
                } else {
                    mean = rm[ch]
                    variance = rv[ch]
                }
                let s = 1 / (variance + eps).squareRoot()
                rstd[ch] = s
                for b in 0..<n {
                    let offset = (b * c + ch) * spatial
                    let p = xc.floats + offset, h = xhat.floats + offset, o = out.floats + offset
                    for i in 0..<spatial {
                        h[i] = (p[i] - mean) * s
                        o[i] = h[i] * gm[ch] + bt[ch]
                    }
                }
            }
            normalized = xhat
            return out
        }, backward: { g, _ in
            let gc = g.contiguousStorageTensor, xhat = normalized!
            let gm = gamma.contiguousStorageTensor.floats
            let dx = Tensor(uninitialized: x.shape), dg = Tensor.zeros([c]), db = Tensor.zeros([c])
            for ch in 0..<c {
                var sumD: Float = 0, sumDH: Float = 0
                for b in 0..<n {
                    let offset = (b * c + ch) * spatial
                    for i in 0..<spatial {
                        let gy = gc.floats[offset + i], h = xhat.floats[offset + i]
                        sumD += gy
                        sumDH += gy * h
                    }
                }
                dg.floats[ch] = sumDH
                db.floats[ch] = sumD
                let k = gm[ch] * rstd[ch]
                for b in 0..<n {
                    let offset = (b * c + ch) * spatial
                    for i in 0..<spatial {
                        let gy = gc.floats[offset + i], h = xhat.floats[offset + i]
                        dx.floats[offset + i] = training
                            ? k * (gy - sumD / Float(m) - h * sumDH / Float(m))
                            : k * gy
                    }
                }
            }
            return [dx, dg, db]
        })
    }

    /// Rows of `weight [V, D]` picked by int32 `indices [...]`: `[..., D]`.
    public static func embedding(_ indices: Tensor, weight: Tensor) throws -> Tensor {
        guard indices.dtype == .int32, weight.rank == 2 else {
            throw TensorError("embedding", [indices.shape, weight.shape], "expected int32 indices and weight [V, D]")
        }
        let (vocabulary, d) = (weight.shape[0], weight.shape[1])
        let ids = indices.indexScalars
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw TensorError("embedding", [indices.shape, weight.shape], "index \(bad) outside 0..<\(vocabulary)")
        }
        return Autograd.op("embedding", [indices, weight], {
            let w = weight.contiguousStorageTensor
            let out = Tensor(uninitialized: indices.shape + [d])
            for (r, id) in ids.enumerated() { (out.floats + r * d).update(from: w.floats + Int(id) * d, count: d) }
            return out
        }, backward: { g, _ in
            let gc = g.contiguousStorageTensor
            let dw = Tensor.zeros(weight.shape)
            for (r, id) in ids.enumerated() {
                let src = gc.floats + r * d, dst = dw.floats + Int(id) * d
                for i in 0..<d { dst[i] += src[i] }
            }
            return [nil, dw]
        })
    }

    /// Zeroes each element with probability `p` and scales the rest by `1/(1-p)`.
    public func dropout(_ p: Float, using generator: inout RandomGenerator) -> Tensor {
        guard p > 0 else { return self }
        let keep = 1 - p
        let mask = Tensor(uninitialized: shape)
        for i in 0..<count { mask.floats[i] = generator.unit() < keep ? 1 / keep : 0 }
        return Autograd.op("dropout", [self], {
            let xc = contiguousStorageTensor
            let out = Tensor(uninitialized: shape)
            for i in 0..<count { out.floats[i] = xc.floats[i] * mask.floats[i] }
            return out
        }, backward: { g, _ in [try g * mask] })
    }
}

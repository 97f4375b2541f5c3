/// Layer norm, batch norm, embedding lookup and dropout.
extension Tensor {
    /// Normalizes over the last axis, then scales by `gamma` and shifts by `beta` (both `[D]`,
    /// both optional: PyTorch's `elementwise_affine=False` / `bias=False`).
    public static func layerNorm(_ x: Tensor, gamma: Tensor?, beta: Tensor?, eps: Float = 1e-5) throws -> Tensor {
        let d = x.shape.last ?? 0
        guard x.rank >= 1, gamma == nil || gamma!.shape == [d], beta == nil || beta!.shape == [d] else {
            throw TensorError("layer_norm", [x.shape] + [gamma, beta].compactMap { $0?.shape }, "expected x [..., D], gamma [D], beta [D]")
        }
        let rows = x.count / max(d, 1)
        var normalized: Tensor?
        var rstd = [Float](repeating: 0, count: rows)
        return Autograd.op(
            "layer_norm", [x] + [gamma, beta].compactMap { $0 },
            {
                let xc = x.contiguousStorageTensor
                let xhat = Tensor(uninitialized: x.shape)
                let out = Tensor(uninitialized: x.shape)
                let ones = gamma == nil ? Tensor.ones([d]) : nil
                let zeros = beta == nil ? Tensor.zeros([d]) : nil
                let gm = (gamma ?? ones!).contiguousStorageTensor.floats
                let bt = (beta ?? zeros!).contiguousStorageTensor.floats
                for r in 0..<rows {
                    let p = xc.floats + r * d
                    let h = xhat.floats + r * d
                    let o = out.floats + r * d
                    // Mean and deviations in double: exact for tiny variances around large means.
                    var total: Double = 0
                    for i in 0..<d { total += Double(p[i]) }
                    let mean = total / Double(d)
                    var variance: Double = 0
                    for i in 0..<d {
                        let e = Double(p[i]) - mean
                        variance += e * e
                    }
                    let s = 1 / (variance / Double(d) + Double(eps)).squareRoot()
                    rstd[r] = Float(s)
                    for i in 0..<d {
                        h[i] = Float((Double(p[i]) - mean) * s)
                        o[i] = h[i] * gm[i] + bt[i]
                    }
                }
                normalized = xhat
                return out
            },
            backward: { g, _ in
                let gc = g.contiguousStorageTensor
                let xhat = normalized!
                let ones = gamma == nil ? Tensor.ones([d]) : nil
                let gm = (gamma ?? ones!).contiguousStorageTensor.floats
                let dx = Tensor(uninitialized: x.shape)
                let dg = Tensor.zeros([d])
                let db = Tensor.zeros([d])
                for r in 0..<rows {
                    let gy = gc.floats + r * d
                    let h = xhat.floats + r * d
                    let o = dx.floats + r * d
                    var meanD: Float = 0
                    var meanDH: Float = 0
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
                return [dx] + (gamma == nil ? [] : [dg]) + (beta == nil ? [] : [db])
            })
    }

    /// Batch norm over axis 1 of `[N, C]`, `[N, C, L]` or `[N, C, H, W]`. In training it normalizes
    /// with the batch statistics and, when running statistics are given, updates them in place
    /// (`running = (1 - momentum)·running + momentum·batch`, the variance unbiased); in eval it
    /// uses the running ones, or the batch's when there are none (`track_running_stats=False`).
    /// `gamma` and `beta` are optional (`affine=False`). One value per channel in training, which
    /// PyTorch rejects, normalizes to zero (the profiler reports it as `batch_norm_single_value`).
    public static func batchNorm(
        _ x: Tensor, gamma: Tensor?, beta: Tensor?, runningMean: Tensor?, runningVar: Tensor?,
        training: Bool, momentum: Float = 0.1, eps: Float = 1e-5
    ) throws -> Tensor {
        let c = x.rank >= 2 ? x.shape[1] : -1
        let shapes = [x.shape] + [gamma, beta, runningMean, runningVar].compactMap { $0?.shape }
        guard (2...4).contains(x.rank), [gamma, beta, runningMean, runningVar].allSatisfy({ $0 == nil || $0!.shape == [c] }),
            (runningMean == nil) == (runningVar == nil)
        else {
            throw TensorError("batch_norm", shapes, "expected x [N, C], [N, C, L] or [N, C, H, W] and gamma, beta, running statistics [C]")
        }
        let n = x.shape[0]
        let spatial = x.shape.dropFirst(2).reduce(1, *)
        let m = n * spatial
        let useBatch = training || runningMean == nil
        var normalized: Tensor?
        var rstd = [Float](repeating: 0, count: c)
        let inputs = [x] + [gamma, beta].compactMap { $0 }
        return Autograd.op(
            "batch_norm", inputs,
            {
                let xc = x.contiguousStorageTensor
                let xhat = Tensor(uninitialized: x.shape)
                let out = Tensor(uninitialized: x.shape)
                let gm = gamma?.contiguousStorageTensor.floats
                let bt = beta?.contiguousStorageTensor.floats
                for ch in 0..<c {
                    var mean: Double
                    var variance: Double
                    if useBatch {
                        var s: Double = 0
                        for b in 0..<n {
                            let p = xc.floats + (b * c + ch) * spatial
                            for i in 0..<spatial { s += Double(p[i]) }
                        }
                        let mu = s / Double(m)
                        var ss: Double = 0  // two passes: exact for tiny variances around large means
                        for b in 0..<n {
                            let p = xc.floats + (b * c + ch) * spatial
                            for i in 0..<spatial {
                                let d = Double(p[i]) - mu
                                ss += d * d
                            }
                        }
                        mean = mu
                        variance = ss / Double(m)
                        if training, let rm = runningMean?.floats, let rv = runningVar?.floats {
                            rm[ch] = (1 - momentum) * rm[ch] + momentum * Float(mean)
                            rv[ch] = (1 - momentum) * rv[ch] + momentum * Float(ss / Double(max(m - 1, 1)))
                        }
                    } else {
                        mean = Double(runningMean!.floats[ch])
                        variance = Double(runningVar!.floats[ch])
                    }
                    let s = 1 / (variance + Double(eps)).squareRoot()
                    rstd[ch] = Float(s)
                    let (scale, shift) = (gm?[ch] ?? 1, bt?[ch] ?? 0)
                    for b in 0..<n {
                        let offset = (b * c + ch) * spatial
                        let p = xc.floats + offset
                        let h = xhat.floats + offset
                        let o = out.floats + offset
                        for i in 0..<spatial {
                            h[i] = Float((Double(p[i]) - mean) * s)
                            o[i] = h[i] * scale + shift
                        }
                    }
                }
                normalized = xhat
                return out
            },
            backward: { g, _ in
                let gc = g.contiguousStorageTensor
                let xhat = normalized!
                let gm = gamma?.contiguousStorageTensor.floats
                let dx = Tensor(uninitialized: x.shape)
                let dg = Tensor.zeros([c])
                let db = Tensor.zeros([c])
                for ch in 0..<c {
                    var sumD: Float = 0
                    var sumDH: Float = 0
                    for b in 0..<n {
                        let offset = (b * c + ch) * spatial
                        for i in 0..<spatial {
                            let gy = gc.floats[offset + i]
                            let h = xhat.floats[offset + i]
                            sumD += gy
                            sumDH += gy * h
                        }
                    }
                    dg.floats[ch] = sumDH
                    db.floats[ch] = sumD
                    let k = (gm?[ch] ?? 1) * rstd[ch]
                    for b in 0..<n {
                        let offset = (b * c + ch) * spatial
                        for i in 0..<spatial {
                            let gy = gc.floats[offset + i]
                            let h = xhat.floats[offset + i]
                            dx.floats[offset + i] =
                                useBatch
                                ? k * (gy - sumD / Float(m) - h * sumDH / Float(m))
                                : k * gy
                        }
                    }
                }
                return [dx] + (gamma == nil ? [] : [dg]) + (beta == nil ? [] : [db])
            })
    }

    /// Rows of `weight [V, D]` picked by int32 `indices [...]`: `[..., D]`. The row
    /// `paddingIndex` gets no gradient (PyTorch's `padding_idx`).
    public static func embedding(_ indices: Tensor, weight: Tensor, paddingIndex: Int? = nil) throws -> Tensor {
        guard indices.dtype == .int32, weight.rank == 2 else {
            throw TensorError("embedding", [indices.shape, weight.shape], "expected int32 indices and weight [V, D]")
        }
        let (vocabulary, d) = (weight.shape[0], weight.shape[1])
        let ids = indices.indexScalars
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= vocabulary }) {
            throw TensorError("embedding", [indices.shape, weight.shape], "index \(bad) outside 0..<\(vocabulary)")
        }
        return Autograd.op(
            "embedding", [indices, weight],
            {
                let w = weight.contiguousStorageTensor
                let out = Tensor(uninitialized: indices.shape + [d])
                for (r, id) in ids.enumerated() { (out.floats + r * d).update(from: w.floats + Int(id) * d, count: d) }
                return out
            },
            backward: { g, _ in
                let gc = g.contiguousStorageTensor
                let dw = Tensor.zeros(weight.shape)
                for (r, id) in ids.enumerated() where Int(id) != paddingIndex {
                    let src = gc.floats + r * d
                    let dst = dw.floats + Int(id) * d
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
        return Autograd.op(
            "dropout", [self],
            {
                let xc = contiguousStorageTensor
                let out = Tensor(uninitialized: shape)
                for i in 0..<count { out.floats[i] = xc.floats[i] * mask.floats[i] }
                return out
            }, backward: { g, _ in [try g * mask] })
    }
}

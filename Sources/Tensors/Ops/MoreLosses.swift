#if canImport(Glibc)
    import Glibc
#endif

/// Negative log-likelihood and binary cross-entropy with logits.
extension Tensor {
    /// Negative log-likelihood of log-probabilities `[..., C]` (classes on the last axis) at
    /// int32 `targets`, with optional class `weight` `[C]`, `ignoreIndex` and `reduction`
    /// (`torch.nn.functional.nll_loss`; `.mean` divides by the targets' total weight).
    public static func nllLoss(
        _ logProbabilities: Tensor, targets: Tensor, weight: Tensor? = nil, ignoreIndex: Int32 = -100,
        reduction: Reduction = .mean
    ) throws -> Tensor {
        let x = logProbabilities
        let classes = x.shape.last ?? 0
        let shapes = [x.shape, targets.shape] + (weight.map { [$0.shape] } ?? [])
        guard x.rank >= 2, targets.shape == Array(x.shape.dropLast()), weight == nil || weight!.shape == [classes] else {
            throw TensorError("nll_loss", shapes, "expected input [..., C], targets with its leading shape and weight [C]")
        }
        let labels = targets.indexScalars
        if let bad = labels.first(where: { $0 != ignoreIndex && ($0 < 0 || Int($0) >= classes) }) {
            throw TensorError("nll_loss", shapes, "target \(bad) is not a class in 0..<\(classes)")
        }
        let w = weight?.scalars
        let rowWeight: [Float] = labels.map { $0 == ignoreIndex ? 0 : (w?[Int($0)] ?? 1) }
        let denominator = reduction == .mean ? rowWeight.reduce(0, +) : 1
        return Autograd.op(
            "nll_loss", [x, targets] + (weight.map { [$0] } ?? []),
            {
                let xc = x.contiguousStorageTensor
                let perRow = labels.enumerated().map { r, y in y == ignoreIndex ? 0 : -rowWeight[r] * xc.floats[r * classes + Int(y)] }
                if reduction == .none { return Tensor(perRow, shape: targets.shape) }
                return .scalar(Float(perRow.reduce(Double(0)) { $0 + Double($1) } / Double(denominator)))
            },
            backward: { g, _ in
                let dx = Tensor.zeros(x.shape)
                let upstream = g.contiguousStorageTensor
                for (r, y) in labels.enumerated() where y != ignoreIndex {
                    let scale = reduction == .none ? upstream.floats[r] : upstream.floats[0] / denominator
                    dx.floats[r * classes + Int(y)] = -rowWeight[r] * scale
                }
                return [dx, nil] + (weight == nil ? [] : [nil])
            })
    }

    /// Binary cross-entropy of `logits` against probabilities `targets` of the same shape, from
    /// the logits (stable for large ones), as `binary_cross_entropy_with_logits`: optional
    /// element `weight` (same shape), `positiveWeight` per class (`pos_weight`, `[C]` over the
    /// last axis) and `reduction`.
    public static func binaryCrossEntropyWithLogits(
        _ logits: Tensor, targets: Tensor, weight: Tensor? = nil,
        positiveWeight: Tensor? = nil, reduction: Reduction = .mean
    ) throws -> Tensor {
        let shapes = [logits.shape, targets.shape] + [weight, positiveWeight].compactMap { $0?.shape }
        let classes = logits.shape.last ?? 1
        guard targets.shape == logits.shape, weight == nil || weight!.shape == logits.shape,
            positiveWeight == nil || positiveWeight!.shape == [classes]
        else {
            throw TensorError(
                "binary_cross_entropy_with_logits", shapes,
                "expected targets and weight shaped like the logits and positiveWeight [C]")
        }
        let n = logits.count
        let y = targets.contiguousStorageTensor
        let w = weight?.contiguousStorageTensor
        let pw = positiveWeight?.contiguousStorageTensor
        let scale = reduction == .mean ? 1 / Float(max(n, 1)) : 1
        return Autograd.op(
            "binary_cross_entropy_with_logits", [logits, targets] + [weight, positiveWeight].compactMap { $0 },
            {
                let x = logits.contiguousStorageTensor
                let out = Tensor(uninitialized: logits.shape)
                for i in 0..<n {
                    let (xi, yi) = (x.floats[i], y.floats[i])
                    let l = 1 + ((pw?.floats[i % classes] ?? 1) - 1) * yi
                    // (1 - y)·x + l·softplus(-x), with softplus(-x) = log1p(exp(-|x|)) + max(-x, 0)
                    out.floats[i] = ((1 - yi) * xi + l * (log1pf(expf(-abs(xi))) + max(-xi, 0))) * (w?.floats[i] ?? 1)
                }
                if reduction == .none { return out }
                var total: Double = 0
                for i in 0..<n { total += Double(out.floats[i]) }
                return .scalar(Float(total) * scale)
            },
            backward: { g, _ in
                let x = logits.contiguousStorageTensor
                let upstream = g.contiguousStorageTensor
                let dx = Tensor(uninitialized: logits.shape)
                for i in 0..<n {
                    let (xi, yi) = (x.floats[i], y.floats[i])
                    let l = 1 + ((pw?.floats[i % classes] ?? 1) - 1) * yi
                    let sigmoid = 1 / (1 + expf(-xi))
                    let d = ((1 - yi) + l * (sigmoid - 1)) * (w?.floats[i] ?? 1)
                    dx.floats[i] = d * (reduction == .none ? upstream.floats[i] : upstream.floats[0] * scale)
                }
                return [dx] + Array(repeating: nil, count: 1 + [weight, positiveWeight].compactMap { $0 }.count)
            })
    }
}

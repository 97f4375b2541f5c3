#if canImport(Glibc)
    import Glibc
#endif

/// How a loss combines its per-element values (PyTorch's `reduction`).
public enum Reduction: String, Sendable {
    /// The mean (for cross-entropy with class weights: the weighted mean).
    case mean
    /// The sum.
    case sum
    /// No reduction: one loss per element (per row for cross-entropy).
    case none
}

/// Loss functions.
extension Tensor {
    /// Cross-entropy of `logits` `[..., C]` (classes on the last axis) against int32 class
    /// `targets` with the logits' leading shape, computed from the log-sum-exp, as
    /// `torch.nn.functional.cross_entropy`.
    ///
    /// - `weight`: a `[C]` weight per class; with `.mean` the result is divided by the sum of
    ///   the targets' weights, as PyTorch does.
    /// - `ignoreIndex`: rows whose target equals it contribute nothing (and count nothing).
    /// - `labelSmoothing`: mixes the one-hot target with the uniform distribution.
    public static func crossEntropy(
        _ logits: Tensor, targets: Tensor, weight: Tensor? = nil, ignoreIndex: Int32 = -100,
        labelSmoothing: Float = 0, reduction: Reduction = .mean
    ) throws -> Tensor {
        let classes = logits.shape.last ?? 0
        let shapes = [logits.shape, targets.shape] + (weight.map { [$0.shape] } ?? [])
        guard logits.rank >= 2, targets.shape == Array(logits.shape.dropLast()) else {
            throw TensorError("cross_entropy", shapes, "expected logits [..., C] and targets with the logits' leading shape")
        }
        if let weight, weight.shape != [classes] {
            throw TensorError("cross_entropy", shapes, "expected a weight of shape [\(classes)]")
        }
        guard (0...1).contains(labelSmoothing) else {
            throw TensorError("cross_entropy", shapes, "labelSmoothing \(labelSmoothing) is not in 0...1")
        }
        let rows = logits.count / max(classes, 1)
        let labels = targets.indexScalars
        if let bad = labels.first(where: { $0 != ignoreIndex && ($0 < 0 || Int($0) >= classes) }) {
            throw TensorError("cross_entropy", shapes, "target \(bad) is not a class in 0..<\(classes)")
        }
        let w = weight?.scalars
        let totalWeight = w?.reduce(0, +) ?? Float(classes)
        let eps = labelSmoothing
        // Weight of each row in the result: its target's class weight, 0 when ignored.
        let rowWeight: [Float] = labels.map { $0 == ignoreIndex ? 0 : (w?[Int($0)] ?? 1) }
        let denominator = reduction == .mean ? rowWeight.reduce(0, +) : 1
        var logProbabilities: Tensor?
        return Autograd.op(
            "cross_entropy", [logits, targets] + (weight.map { [$0] } ?? []),
            {
                let lp = logits.contiguousStorageTensor.copy()
                Kernels.softmax(lp.floats, outer: rows, n: classes, inner: 1, log: true)
                logProbabilities = lp
                var perRow = [Float](repeating: 0, count: rows)
                for r in 0..<rows where labels[r] != ignoreIndex {
                    let row = lp.floats + r * classes
                    var loss = -Double(rowWeight[r]) * Double(row[Int(labels[r])])
                    if eps > 0 {
                        var smooth: Double = 0
                        for c in 0..<classes { smooth -= Double(w?[c] ?? 1) * Double(row[c]) }
                        loss = Double(1 - eps) * loss + Double(eps) / Double(classes) * smooth
                    }
                    perRow[r] = Float(loss)
                }
                if reduction == .none { return Tensor(perRow, shape: targets.shape) }
                let total = perRow.reduce(Double(0)) { $0 + Double($1) }
                return Tensor.scalar(Float(total / Double(denominator)))
            },
            backward: { g, _ in
                // d/dx_c = (1-ε)·w_y·(p_c - [c=y]) + ε/C·(W·p_c - w_c), per row, times the row's upstream gradient.
                let lp = logProbabilities!
                let dx = Tensor(uninitialized: logits.shape)
                let upstream = g.contiguousStorageTensor
                for r in 0..<rows {
                    let out = dx.floats + r * classes
                    let row = lp.floats + r * classes
                    guard labels[r] != ignoreIndex else {
                        out.update(repeating: 0, count: classes)
                        continue
                    }
                    let scale = reduction == .none ? upstream.floats[r] : upstream.floats[0] / denominator
                    let y = Int(labels[r])
                    let wy = rowWeight[r]
                    for c in 0..<classes {
                        let p = expf(row[c])
                        var d = (1 - eps) * wy * (p - (c == y ? 1 : 0))
                        if eps > 0 { d += eps / Float(classes) * (totalWeight * p - (w?[c] ?? 1)) }
                        out[c] = d * scale
                    }
                }
                return [dx, nil] + (weight == nil ? [] : [nil])
            })
    }

    /// Mean squared error (or its sum, or the elementwise squares with `.none`).
    public static func mse(_ prediction: Tensor, _ target: Tensor, reduction: Reduction = .mean) throws -> Tensor {
        guard prediction.shape == target.shape else {
            throw TensorError("mse_loss", [prediction.shape, target.shape], "shapes differ")
        }
        let diff = try prediction - target
        let squares = try diff * diff
        switch reduction {
        case .mean: return squares.mean()
        case .sum: return squares.sum()
        case .none: return squares
        }
    }
}

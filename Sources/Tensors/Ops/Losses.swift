#if canImport(Glibc)
import Glibc
#endif

/// Loss functions.
extension Tensor {
    /// Mean cross-entropy of `logits` `[N, C]` (or `[..., C]`) against int32 class `targets` `[N]` (or `[...]`).
    public static func crossEntropy(_ logits: Tensor, targets: Tensor) throws -> Tensor {
        let classes = logits.shape.last ?? 0
        guard logits.rank >= 2, targets.shape == Array(logits.shape.dropLast()) else {
            throw TensorError("cross_entropy", [logits.shape, targets.shape],
                              "expected logits [..., C] and targets with the logits' leading shape")
        }
        let rows = logits.count / max(classes, 1)
        let labels = targets.indexScalars
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw TensorError("cross_entropy", [logits.shape, targets.shape], "target \(bad) is not a class in 0..<\(classes)")
        }
        var probabilities: Tensor?
        return Autograd.op("cross_entropy", [logits, targets], {
            let p = logits.contiguousStorageTensor.copy()
            Kernels.softmax(p.floats, outer: rows, n: classes, inner: 1, log: false)
            var loss: Double = 0
            for r in 0..<rows { loss -= Double(logf(max(p.floats[r * classes + Int(labels[r])], 1e-30))) }
            probabilities = p
            return Tensor.scalar(Float(loss / Double(max(rows, 1))))
        }, backward: { g, _ in
            // d/dlogits = (softmax - onehot) / N
            let p = probabilities!
            let dx = Tensor(uninitialized: logits.shape)
            let scale = g.item / Float(max(rows, 1))
            for r in 0..<rows {
                for c in 0..<classes {
                    let i = r * classes + c
                    dx.floats[i] = (p.floats[i] - (c == Int(labels[r]) ? 1 : 0)) * scale
                }
            }
            return [dx, nil]
        })
    }

    /// Mean squared error.
    public static func mse(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
        guard prediction.shape == target.shape else {
            throw TensorError("mse_loss", [prediction.shape, target.shape], "shapes differ")
        }
        let diff = try prediction - target
        return try (diff * diff).mean()
    }
}

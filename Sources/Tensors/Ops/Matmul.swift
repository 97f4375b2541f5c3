/// Matrix products: batched `matmul` and the fused `linear` (PyTorch's addmm).
extension Tensor {
    /// Matrix product over the last two axes, broadcasting leading (batch) axes.
    /// 1-D operands are not promoted; use `reshaped` for vectors.
    public func matmul(_ other: Tensor) throws -> Tensor {
        let a = self
        let b = other
        guard a.rank >= 2, b.rank >= 2, a.shape[a.rank - 1] == b.shape[b.rank - 2] else {
            throw TensorError("matmul", [a.shape, b.shape], "inner dimensions differ")
        }
        guard let batch = Shape.broadcast(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))) else {
            throw TensorError("matmul", [a.shape, b.shape], "batch dimensions cannot be broadcast")
        }
        let m = a.shape[a.rank - 2]
        let k = a.shape[a.rank - 1]
        let n = b.shape[b.rank - 1]
        return Autograd.op(
            "matmul", [a, b],
            {
                _ = Gemm.singleThreaded
                let ac = Gemm.isBLASCompatible(a) ? a : a.copy()
                let bc = Gemm.isBLASCompatible(b) ? b : b.copy()
                let out = Tensor(uninitialized: batch + [m, n])
                let batches = Shape.count(batch)
                let sa = Shape.broadcastStrides(Array(ac.shape.dropLast(2)), Array(ac.strides.dropLast(2)), to: batch)
                let sb = Shape.broadcastStrides(Array(bc.shape.dropLast(2)), Array(bc.strides.dropLast(2)), to: batch)
                let batchStrides = Shape.contiguousStrides(batch)
                for i in 0..<batches {
                    var oa = 0
                    var ob = 0
                    var rest = i
                    for d in 0..<batch.count {
                        let idx = rest / batchStrides[d]
                        rest %= batchStrides[d]
                        oa += idx * sa[d]
                        ob += idx * sb[d]
                    }
                    Gemm.multiply(
                        Gemm.operand(ac, elementOffset: oa), Gemm.operand(bc, elementOffset: ob),
                        out.floats + i * m * n, m: m, n: n, k: k)
                }
                return out
            },
            backward: { g, _ in
                [
                    a.requiresGrad ? try g.matmul(b.detach().transposed()).sum(toShape: a.shape) : nil,
                    b.requiresGrad ? try a.detach().transposed().matmul(g).sum(toShape: b.shape) : nil,
                ]
            })
    }

    /// `x · weightᵀ + bias` over the last axis of `x` (PyTorch's `F.linear`).
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
        let inFeatures = x.shape.last ?? 0
        guard x.rank >= 1, weight.rank == 2, weight.shape[1] == inFeatures,
            bias.map({ $0.shape == [weight.shape[0]] }) ?? true
        else {
            throw TensorError(
                "linear", [x.shape, weight.shape] + (bias.map { [$0.shape] } ?? []),
                "expected x [..., \(weight.rank == 2 ? weight.shape[1] : -1)], weight [out, in], bias [out]")
        }
        let outFeatures = weight.shape[0]
        let rows = x.count / max(inFeatures, 1)
        let outShape = Array(x.shape.dropLast()) + [outFeatures]
        let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
        return Autograd.op(
            "linear", inputs,
            {
                _ = Gemm.singleThreaded
                let xc = x.contiguousStorageTensor
                let out = Tensor(uninitialized: outShape)
                if let bias {
                    let b = bias.contiguousStorageTensor.floats
                    for r in 0..<rows { (out.floats + r * outFeatures).update(from: b, count: outFeatures) }
                }
                let w = weight.isContiguous ? weight : weight.copy()
                Gemm.multiply(
                    Gemm.Operand(pointer: xc.floats, transposed: false, leading: inFeatures),
                    Gemm.Operand(pointer: w.floats, transposed: true, leading: inFeatures),
                    out.floats, m: rows, n: outFeatures, k: inFeatures, beta: bias == nil ? 0 : 1)
                return out
            },
            backward: { g, _ in
                let gc = g.contiguousStorageTensor
                let w = weight.isContiguous ? weight : weight.copy()
                var grads: [Tensor?] = []
                if x.requiresGrad {
                    let dx = Tensor(uninitialized: x.shape)
                    Gemm.multiply(
                        Gemm.Operand(pointer: gc.floats, transposed: false, leading: outFeatures),
                        Gemm.Operand(pointer: w.floats, transposed: false, leading: inFeatures),
                        dx.floats, m: rows, n: inFeatures, k: outFeatures)
                    grads.append(dx)
                } else {
                    grads.append(nil)
                }
                if weight.requiresGrad {
                    let xc = x.contiguousStorageTensor
                    let dw = Tensor(uninitialized: weight.shape)
                    Gemm.multiply(
                        Gemm.Operand(pointer: gc.floats, transposed: true, leading: outFeatures),
                        Gemm.Operand(pointer: xc.floats, transposed: false, leading: inFeatures),
                        dw.floats, m: outFeatures, n: inFeatures, k: rows)
                    grads.append(dw)
                } else {
                    grads.append(nil)
                }
                if let bias {
                    if bias.requiresGrad {
                        let db = Tensor(uninitialized: [outFeatures])
                        Kernels.sumMiddle(gc.floats, outer: 1, n: rows, inner: outFeatures, into: db.floats)
                        grads.append(db)
                    } else {
                        grads.append(nil)
                    }
                }
                return grads
            })
    }
}

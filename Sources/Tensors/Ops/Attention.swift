/// Scaled dot-product attention, built from differentiable ops.
extension Tensor {
    /// `softmax(q·kᵀ·scale + mask)·v` for `q [..., L, E]`, `k [..., S, E]`, `v [..., S, Ev]`, as
    /// `torch.nn.functional.scaled_dot_product_attention`:
    /// - `mask` broadcasts to `[..., L, S]`: a float mask is added to the scores; an int32 mask is
    ///   boolean with PyTorch's SDPA meaning, nonzero where attention is **allowed**.
    /// - `isCausal`: position i attends to positions 0...i (top-left aligned when L != S).
    /// - `dropout` drops attention weights with that probability, drawing from `generator`.
    /// - `scale` defaults to 1/√E.
    public static func scaledDotProductAttention(
        query q: Tensor, key k: Tensor, value v: Tensor, mask: Tensor? = nil,
        isCausal: Bool = false, dropout: Float = 0, scale: Float? = nil,
        generator: inout RandomGenerator
    ) throws -> Tensor {
        guard q.rank >= 2, k.rank == q.rank, v.rank == q.rank, q.shape.last == k.shape.last,
            k.shape[k.rank - 2] == v.shape[v.rank - 2]
        else {
            throw TensorError(
                "scaled_dot_product_attention", [q.shape, k.shape, v.shape], "expected q [..., L, E], k [..., S, E], v [..., S, Ev]")
        }
        let (l, s, e) = (q.shape[q.rank - 2], k.shape[k.rank - 2], q.shape[q.rank - 1])
        var scores = try q.matmul(k.transposed()) * (scale ?? 1 / Float(e).squareRoot())
        if isCausal { scores = try scores + causalMask(l, s) }
        if let mask { scores = try scores + (mask.dtype == .int32 ? additiveMask(mask, allowedWhereNonzero: true) : mask) }
        var weights = try scores.softmax()
        if dropout > 0 { weights = weights.dropout(dropout, using: &generator) }
        return try weights.matmul(v)
    }

    /// `[L, S]`: 0 where j <= i, -inf elsewhere.
    public static func causalMask(_ l: Int, _ s: Int) -> Tensor {
        var values = [Float](repeating: 0, count: l * s)
        for i in 0..<l { for j in 0..<s where j > i { values[i * s + j] = -.infinity } }
        return Tensor(values, shape: [l, s])
    }

    /// A boolean (int32) mask as an additive one: 0 where attention is allowed, -inf elsewhere.
    public static func additiveMask(_ mask: Tensor, allowedWhereNonzero: Bool) -> Tensor {
        Tensor(mask.indexScalars.map { ($0 != 0) == allowedWhereNonzero ? 0 : -Float.infinity }, shape: mask.shape)
    }
}

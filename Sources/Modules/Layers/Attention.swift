import Tensors

/// Input of multi-head attention: the queries `x`, optionally separate keys and values
/// (cross-attention), and masks with `torch.nn.MultiheadAttention`'s meanings:
/// - `mask` `[L, S]` (or broadcastable to `[B, heads, L, S]`): float masks are added to the
///   scores; int32 masks are boolean, nonzero where attention is **not** allowed.
/// - `keyPaddingMask` `[B, S]`: int32 nonzero (or float additive) for keys to ignore.
/// - `isCausal`: query i attends to keys 0...i.
public struct AttentionInput: ModuleIO {
    /// Queries `[B, L, D]` (also the keys and values in self-attention).
    public var x: Tensor
    /// Keys `[B, S, D]`; nil means self-attention.
    public var key: Tensor?
    /// Values `[B, S, D]`; nil means the keys (or `x`).
    public var value: Tensor?
    /// Attention mask `[L, S]` or broadcastable to `[B, heads, L, S]`: float is added to the scores, int32 nonzero blocks.
    public var mask: Tensor?
    /// `[B, S]`: int32 nonzero (or float additive) for keys to ignore.
    public var keyPaddingMask: Tensor?
    /// Whether query i attends only to keys 0...i.
    public var isCausal: Bool

    /// An input with queries `x` and, optionally, separate keys and values, masks and causality.
    public init(
        _ x: Tensor, key: Tensor? = nil, value: Tensor? = nil, mask: Tensor? = nil, keyPaddingMask: Tensor? = nil,
        isCausal: Bool = false
    ) {
        (self.x, self.key, self.value, self.mask, self.keyPaddingMask, self.isCausal) = (x, key, value, mask, keyPaddingMask, isCausal)
    }

    /// Calls `body` with `x` and then each non-nil key, value and mask.
    public func forEachTensor(_ body: (Tensor) throws -> Void) rethrows {
        try body(x)
        for t in [key, value, mask, keyPaddingMask] { if let t { try body(t) } }
    }

    /// A copy with `transform` applied to every tensor (`isCausal` kept).
    public func mapTensors(_ transform: (Tensor) throws -> Tensor) rethrows -> AttentionInput {
        AttentionInput(
            try transform(x), key: try key.map(transform), value: try value.map(transform), mask: try mask.map(transform),
            keyPaddingMask: try keyPaddingMask.map(transform), isCausal: isCausal)
    }

    /// The additive mask that lets position i attend to positions 0...i (-1e9 elsewhere).
    public static func causalMask(_ length: Int) -> Tensor {
        var values = [Float](repeating: 0, count: length * length)
        for i in 0..<length { for j in (i + 1)..<max(length, i + 1) { values[i * length + j] = -1e9 } }
        return Tensor(values, shape: [length, length])
    }
}

/// Multi-head attention over `[B, T, D]` (`torch.nn.MultiheadAttention` with `batch_first=True`):
/// self- or cross-attention, masks, key padding, `isCausal`, and dropout on the attention
/// weights in training mode.
///
/// State-dict names are PyTorch's: `qkv` is saved as `in_proj_weight` `[3D, D]` /
/// `in_proj_bias` `[3D]` (query, key, value rows in that order, as PyTorch packs them) and
/// `projection` as `out_proj.weight`/`out_proj.bias`. Cross-attention projects the keys (and
/// values, when they are another tensor) with the whole `qkv` layer and keeps its part.
open class MultiheadSelfAttention: Module<AttentionInput, Tensor>, StateDictNaming {
    /// The model dimension `D` (PyTorch's `embed_dim`).
    public let dimension: Int
    /// The number of heads; each has `dimension / heads` features.
    public let heads: Int
    /// Probability of dropping an attention weight in training mode.
    public let dropout: Float
    /// The packed query, key and value projection `D → 3D` (PyTorch's `in_proj_weight`/`in_proj_bias`).
    public var qkv: Linear
    /// The output projection `D → D` (PyTorch's `out_proj`).
    public var projection: Linear
    private var generator: RandomGenerator

    /// Attention with `heads` heads over `dimension` features (divisible by `heads`) and attention-weight dropout `dropout`.
    public init(dimension: Int, heads: Int, dropout: Float = 0) {
        precondition(dimension % heads == 0, "MultiheadSelfAttention: dimension \(dimension) not divisible by \(heads) heads")
        precondition((0..<1).contains(dropout), "MultiheadSelfAttention: dropout must be in [0, 1), got \(dropout)")
        self.dimension = dimension
        self.heads = heads
        self.dropout = dropout
        qkv = Linear(dimension, 3 * dimension)
        projection = Linear(dimension, dimension)
        // Without dropout no stream is split off, so models without it initialize as before.
        generator = dropout > 0 ? Random.split() : RandomGenerator(seed: 0)
        super.init()
    }

    /// Restarts the attention-dropout stream from `seed`.
    public func reseed(_ seed: UInt64) { generator = RandomGenerator(seed: seed) }

    /// `qkv` as `in_proj_weight`/`in_proj_bias` and `projection` as `out_proj`, as PyTorch names them.
    public var stateDictNames: [String: String] {
        ["qkv.weight": "in_proj_weight", "qkv.bias": "in_proj_bias", "projection": "out_proj"]
    }

    open override func forward(_ input: AttentionInput) throws -> Tensor {
        checkInsideWrapper()
        let x = input.x
        let keys = input.key ?? x
        let values = input.value ?? input.key ?? x
        guard x.rank == 3, x.shape[2] == dimension, keys.rank == 3, keys.shape[0] == x.shape[0], keys.shape[2] == dimension,
            values.shape == keys.shape
        else {
            throw TensorError(
                "attention", [x.shape, keys.shape, values.shape], "expected query [B, L, \(dimension)] and key, value [B, S, \(dimension)]")
        }
        let (b, t, s, headDim) = (x.shape[0], x.shape[1], keys.shape[1], dimension / heads)
        let d = [dimension, dimension, dimension]
        let q: Tensor
        let k: Tensor
        let v: Tensor
        if input.key == nil && input.value == nil {
            let parts = try qkv(x).split(d, axis: 2)
            (q, k, v) = (parts[0], parts[1], parts[2])
        } else {
            q = try qkv(x).split(d, axis: 2)[0]
            let kv = try qkv(keys).split(d, axis: 2)
            k = kv[1]
            v = values === keys ? kv[2] : try qkv(values).split(d, axis: 2)[2]
        }
        func splitHeads(_ p: Tensor, _ length: Int) throws -> Tensor {
            try p.reshaped([b, length, self.heads, headDim]).permuted([0, 2, 1, 3])
        }
        var mask: Tensor?
        func add(_ m: Tensor) throws { mask = try mask.map { try $0 + m } ?? m }
        if let m = input.mask { try add(m.dtype == .int32 ? Tensor.additiveMask(m, allowedWhereNonzero: false) : m) }
        if let padding = input.keyPaddingMask {
            guard padding.shape == [b, s] else {
                throw TensorError("attention", [x.shape, padding.shape], "expected a key padding mask [\(b), \(s)]")
            }
            let additive = padding.dtype == .int32 ? Tensor.additiveMask(padding, allowedWhereNonzero: false) : padding
            try add(additive.reshaped([b, 1, 1, s]))
        }
        let dropout = isTraining ? self.dropout : 0
        let context = try Tensor.scaledDotProductAttention(
            query: splitHeads(q, t), key: splitHeads(k, s), value: splitHeads(v, s),
            mask: mask, isCausal: input.isCausal, dropout: dropout, generator: &generator)
        return try projection(context.permuted([0, 2, 1, 3]).reshaped([b, t, dimension]))
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "dimension=\(dimension), heads=\(heads)" + (dropout > 0 ? ", dropout=\(dropout)" : "") }
}

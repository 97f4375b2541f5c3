import Tensors

/// Input of self-attention: the sequence and an optional additive mask `[T, T]`
/// (0 where attention is allowed, a large negative number where it is not).
public struct AttentionInput: ModuleIO {
    public var x: Tensor
    public var mask: Tensor?

    public init(_ x: Tensor, mask: Tensor? = nil) {
        self.x = x
        self.mask = mask
    }

    public func forEachTensor(_ body: (Tensor) throws -> Void) rethrows {
        try body(x)
        if let mask { try body(mask) }
    }

    public func mapTensors(_ transform: (Tensor) throws -> Tensor) rethrows -> AttentionInput {
        AttentionInput(try transform(x), mask: try mask.map(transform))
    }

    /// The mask that lets position i attend to positions 0...i.
    public static func causalMask(_ length: Int) -> Tensor {
        var values = [Float](repeating: 0, count: length * length)
        for i in 0..<length { for j in (i + 1)..<max(length, i + 1) { values[i * length + j] = -1e9 } }
        return Tensor(values, shape: [length, length])
    }
}

/// Multi-head self-attention over `[B, T, D]`, with an optional mask.
///
/// State-dict names are `torch.nn.MultiheadAttention`'s (with `batch_first=True`):
/// `qkv` is saved as `in_proj_weight` `[3D, D]` / `in_proj_bias` `[3D]` (query, key, value
/// rows in that order, as PyTorch packs them) and `projection` as `out_proj.weight`/`out_proj.bias`.
open class MultiheadSelfAttention: Module<AttentionInput, Tensor>, StateDictNaming {
    public let dimension: Int
    public let heads: Int
    public var qkv: Linear
    public var projection: Linear

    public init(dimension: Int, heads: Int) {
        precondition(dimension % heads == 0, "MultiheadSelfAttention: dimension \(dimension) not divisible by \(heads) heads")
        self.dimension = dimension
        self.heads = heads
        qkv = Linear(dimension, 3 * dimension)
        projection = Linear(dimension, dimension)
        super.init()
    }

    public var stateDictNames: [String: String] {
        ["qkv.weight": "in_proj_weight", "qkv.bias": "in_proj_bias", "projection": "out_proj"]
    }

    open override func forward(_ input: AttentionInput) throws -> Tensor {
        checkInsideWrapper()
        let x = input.x
        guard x.rank == 3, x.shape[2] == dimension else {
            throw TensorError("attention", [x.shape], "expected [B, T, \(dimension)]")
        }
        let (b, t, headDim) = (x.shape[0], x.shape[1], dimension / heads)
        let parts = try qkv(x).split([dimension, dimension, dimension], axis: 2)
        func splitHeads(_ p: Tensor) throws -> Tensor {
            try p.reshaped([b, t, self.heads, headDim]).permuted([0, 2, 1, 3])
        }
        let (q, k, v) = (try splitHeads(parts[0]), try splitHeads(parts[1]), try splitHeads(parts[2]))
        var scores = try q.matmul(k.transposed()) * (1 / Float(headDim).squareRoot())
        if let mask = input.mask { scores = try scores + mask }
        let context = try scores.softmax().matmul(v).permuted([0, 2, 1, 3]).reshaped([b, t, dimension])
        return try projection(context)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "dimension=\(dimension), heads=\(heads)" }
}

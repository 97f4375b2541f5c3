import Tensors

/// Batch normalization over the channel axis (axis 1), as `torch.nn.BatchNorm1d/2d`.
/// `BatchNorm1d` takes `[N, C]` or `[N, C, L]`, `BatchNorm2d` takes `[N, C, H, W]`.
///
/// State-dict names are PyTorch's: `weight`, `bias`, `running_mean`, `running_var`,
/// `num_batches_tracked` (I64 in the file).
open class BatchNorm: Module<Tensor, Tensor>, StateDictNaming {
    /// The number of channels `C` (PyTorch's `num_features`).
    public let features: Int
    /// The running statistics' update factor; nil averages all batches so far equally
    /// (PyTorch's `momentum=None`).
    public let momentum: Float?
    /// Added to the variance for numerical stability.
    public let eps: Float
    /// The learned scale and shift; nil with `affine: false`.
    public var weight: Tensor?
    /// `[C]`, initially zeros; nil with `affine: false`.
    public var bias: Tensor?
    /// Buffers, saved with the state and not trained; nil with `trackRunningStats: false`
    /// (then eval mode normalizes with the batch's statistics too).
    public var runningMean: Tensor?
    /// `[C]` running variance, initially ones; nil with `trackRunningStats: false`.
    public var runningVar: Tensor?
    /// Training batches seen (an int32 scalar; `num_batches_tracked`).
    public var numBatchesTracked: Tensor?
    let ranks: ClosedRange<Int>

    init(_ features: Int, ranks: ClosedRange<Int>, momentum: Float?, eps: Float, affine: Bool, trackRunningStats: Bool) {
        self.features = features
        self.momentum = momentum
        self.eps = eps
        self.ranks = ranks
        if affine {
            weight = Tensor.ones([features]).asParameter()
            bias = Tensor.zeros([features]).asParameter()
        }
        if trackRunningStats {
            runningMean = .zeros([features])
            runningVar = .ones([features])
            numBatchesTracked = Tensor(indices: [0], shape: [])
        }
        super.init()
    }

    open override var isModeDependent: Bool { true }

    /// The running statistics under PyTorch's `running_mean`, `running_var` and `num_batches_tracked`.
    public var stateDictNames: [String: String] {
        ["runningMean": "running_mean", "runningVar": "running_var", "numBatchesTracked": "num_batches_tracked"]
    }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        guard ranks.contains(x.rank) else {
            let expected = ranks.count == 1 ? "a rank-\(ranks.lowerBound)" : "a rank-\(ranks.lowerBound) to rank-\(ranks.upperBound)"
            throw TensorError("batch_norm", [x.shape], "\(typeName) expects \(expected) input")
        }
        var factor = momentum ?? 0
        if isTraining, let counter = numBatchesTracked {
            counter.ints[0] += 1
            if momentum == nil { factor = 1 / Float(counter.ints[0]) }
        }
        StateChecks.batchStatistics(self, valuesPerChannel: x.count / max(1, x.shape[1]))
        return try Tensor.batchNorm(
            x, gamma: weight, beta: bias, runningMean: runningMean, runningVar: runningVar,
            training: isTraining, momentum: factor, eps: eps)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String {
        "\(features), eps=\(eps), momentum=\(momentum.map { "\($0)" } ?? "None"), affine=\(weight != nil ? "True" : "False"), "
            + "track_running_stats=\(runningMean != nil ? "True" : "False")"
    }
}

/// Batch normalization of `[N, C]` or `[N, C, L]` (`torch.nn.BatchNorm1d`).
open class BatchNorm1d: BatchNorm {
    /// Batch norm over `features` channels with PyTorch's defaults (momentum 0.1, eps 1e-5, affine, tracked statistics).
    public init(_ features: Int, momentum: Float? = 0.1, eps: Float = 1e-5, affine: Bool = true, trackRunningStats: Bool = true) {
        super.init(features, ranks: 2...3, momentum: momentum, eps: eps, affine: affine, trackRunningStats: trackRunningStats)
    }
}

/// Batch normalization of `[N, C, H, W]` (`torch.nn.BatchNorm2d`).
open class BatchNorm2d: BatchNorm {
    /// Batch norm over `channels` channels with PyTorch's defaults (momentum 0.1, eps 1e-5, affine, tracked statistics).
    public init(_ channels: Int, momentum: Float? = 0.1, eps: Float = 1e-5, affine: Bool = true, trackRunningStats: Bool = true) {
        super.init(channels, ranks: 4...4, momentum: momentum, eps: eps, affine: affine, trackRunningStats: trackRunningStats)
    }
}

/// Normalization over the trailing axes `normalizedShape` with an optional learned scale and
/// shift (`torch.nn.LayerNorm`; `elementwiseAffine: false`, `bias: false`).
open class LayerNorm: Module<Tensor, Tensor> {
    /// The trailing shape normalized over.
    public let normalizedShape: [Int]
    /// Added to the variance for numerical stability.
    public let eps: Float
    /// Shaped `normalizedShape`; nil without affine parameters.
    public var weight: Tensor?
    /// Shaped `normalizedShape`, initially zeros; nil without affine parameters or with `bias: false`.
    public var bias: Tensor?

    /// Normalizes over the last axis of size `features`.
    public convenience init(_ features: Int, eps: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        self.init(normalizedShape: [features], eps: eps, elementwiseAffine: elementwiseAffine, bias: bias)
    }

    /// Normalizes over the trailing axes `normalizedShape` together.
    public init(normalizedShape: [Int], eps: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        self.normalizedShape = normalizedShape
        self.eps = eps
        if elementwiseAffine {
            weight = Tensor.ones(normalizedShape).asParameter()
            if bias { self.bias = Tensor.zeros(normalizedShape).asParameter() }
        }
        super.init()
    }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        let k = normalizedShape.count
        guard x.rank >= k, Array(x.shape.suffix(k)) == normalizedShape else {
            throw TensorError("layer_norm", [x.shape], "expected trailing axes \(Tensor.format(normalizedShape))")
        }
        if k == 1 { return try Tensor.layerNorm(x, gamma: weight, beta: bias, eps: eps) }
        let d = normalizedShape.reduce(1, *)
        let flat = try x.reshaped(Array(x.shape.dropLast(k)) + [d])
        return try Tensor.layerNorm(flat, gamma: weight?.reshaped([d]), beta: bias?.reshaped([d]), eps: eps).reshaped(x.shape)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String {
        "(\(normalizedShape.map(String.init).joined(separator: ", ")),), eps=\(eps), elementwise_affine=\(weight != nil ? "True" : "False")"
    }
}

/// A lookup table from int32 ids to vectors (`torch.nn.Embedding`).
open class Embedding: Module<Tensor, Tensor> {
    /// The number of ids (rows of the table; PyTorch's `num_embeddings`).
    public let count: Int
    /// The size of each vector (PyTorch's `embedding_dim`).
    public let dimension: Int
    /// The id whose row starts at zero and gets no gradient (`padding_idx`), if any.
    public let paddingIndex: Int?
    /// `[count, dimension]`, initialized N(0, 1) like PyTorch.
    public var weight: Tensor

    /// A `[count, dimension]` table; a negative `paddingIndex` counts from the end.
    public init(_ count: Int, _ dimension: Int, paddingIndex: Int? = nil) {
        precondition(
            paddingIndex.map { (-count..<count).contains($0) } ?? true,
            "Embedding: paddingIndex \(paddingIndex!) outside -\(count)..<\(count)")
        self.count = count
        self.dimension = dimension
        self.paddingIndex = paddingIndex.map { $0 < 0 ? $0 + count : $0 }
        weight = Random.withGenerator { Tensor.randn([count, dimension], using: &$0) }.asParameter()
        if let row = self.paddingIndex { (weight.floats + row * dimension).update(repeating: 0, count: dimension) }
        super.init()
    }

    open override func forward(_ ids: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return try Tensor.embedding(ids, weight: weight, paddingIndex: paddingIndex)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "\(count), \(dimension)" + (paddingIndex.map { ", padding_idx=\($0)" } ?? "") }
}

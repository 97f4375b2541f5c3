import Tensors

/// Batch normalization over the channel axis with running statistics.
/// `BatchNorm1d` takes `[N, C]`, `BatchNorm2d` takes `[N, C, H, W]`.
open class BatchNorm: Module<Tensor, Tensor> {
    public let features: Int
    public let momentum: Float
    public let eps: Float
    public var weight: Tensor
    public var bias: Tensor
    /// Buffers: saved with the state, not trained.
    public var runningMean: Tensor
    public var runningVar: Tensor
    let expectedRank: Int

    init(_ features: Int, rank: Int, momentum: Float, eps: Float) {
        self.features = features
        self.momentum = momentum
        self.eps = eps
        expectedRank = rank
        weight = Tensor.ones([features]).asParameter()
        bias = Tensor.zeros([features]).asParameter()
        runningMean = .zeros([features])
        runningVar = .ones([features])
        super.init()
    }

    open override var isModeDependent: Bool { true }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        guard x.rank == expectedRank else {
            throw TensorError("batch_norm", [x.shape], "\(typeName) expects a rank-\(expectedRank) input")
        }
        StateChecks.batchStatistics(self, valuesPerChannel: x.count / max(1, x.shape[1]))
        return try Tensor.batchNorm(x, gamma: weight, beta: bias, runningMean: runningMean, runningVar: runningVar,
                                    training: isTraining, momentum: momentum, eps: eps)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "\(features), eps=\(eps), momentum=\(momentum)" }
}

open class BatchNorm1d: BatchNorm {
    public init(_ features: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        super.init(features, rank: 2, momentum: momentum, eps: eps)
    }
}

open class BatchNorm2d: BatchNorm {
    public init(_ channels: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        super.init(channels, rank: 4, momentum: momentum, eps: eps)
    }
}

/// Normalization over the last axis with a learned scale and shift.
open class LayerNorm: Module<Tensor, Tensor> {
    public let features: Int
    public let eps: Float
    public var weight: Tensor
    public var bias: Tensor

    public init(_ features: Int, eps: Float = 1e-5) {
        self.features = features
        self.eps = eps
        weight = Tensor.ones([features]).asParameter()
        bias = Tensor.zeros([features]).asParameter()
        super.init()
    }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return try Tensor.layerNorm(x, gamma: weight, beta: bias, eps: eps)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "(\(features),), eps=\(eps)" }
}

/// A lookup table from int32 ids to vectors.
open class Embedding: Module<Tensor, Tensor> {
    public let count: Int
    public let dimension: Int
    /// `[count, dimension]`, initialized N(0, 1) like PyTorch.
    public var weight: Tensor

    public init(_ count: Int, _ dimension: Int) {
        self.count = count
        self.dimension = dimension
        weight = Random.withGenerator { Tensor.randn([count, dimension], using: &$0) }.asParameter()
        super.init()
    }

    open override func forward(_ ids: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return try Tensor.embedding(ids, weight: weight)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "\(count), \(dimension)" }
}

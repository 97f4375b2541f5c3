import Tensors

/// A loss module of two tensors (`loss(prediction, target)`), called through the wrapper.
open class PairLoss: Module<Pair<Tensor, Tensor>, Tensor> {
    public override init() { super.init() }

    /// `loss(prediction, target)`, through the wrapper.
    public func callAsFunction(_ prediction: Tensor, _ target: Tensor) throws -> Tensor { try self(Pair(prediction, target)) }

    open override var isBuiltIn: Bool { true }
}

/// Cross-entropy between logits `[..., C]` (classes last) and int32 targets, with PyTorch's
/// `weight`, `ignore_index`, `label_smoothing` and `reduction` (see `Tensor.crossEntropy`).
open class CrossEntropyLoss: PairLoss {
    /// Class weights `[C]`, a buffer (saved with the state as PyTorch does), or nil.
    public var weight: Tensor?
    /// Targets equal to this class contribute no loss and no gradient (PyTorch's `ignore_index`).
    public let ignoreIndex: Int32
    /// The probability mass in `[0, 1]` spread uniformly over the classes (PyTorch's `label_smoothing`).
    public let labelSmoothing: Float
    /// How the per-element losses are combined: mean, sum or none.
    public let reduction: Reduction

    /// Cross-entropy with PyTorch's defaults: no class weights, `ignore_index=-100`, no smoothing, mean reduction.
    public init(weight: Tensor? = nil, ignoreIndex: Int32 = -100, labelSmoothing: Float = 0, reduction: Reduction = .mean) {
        (self.weight, self.ignoreIndex, self.labelSmoothing, self.reduction) = (weight, ignoreIndex, labelSmoothing, reduction)
        super.init()
    }

    open override func forward(_ input: Pair<Tensor, Tensor>) throws -> Tensor {
        checkInsideWrapper()
        return try Tensor.crossEntropy(
            input.first, targets: input.second, weight: weight, ignoreIndex: ignoreIndex,
            labelSmoothing: labelSmoothing, reduction: reduction)
    }
}

/// Negative log-likelihood of log-probabilities (`torch.nn.NLLLoss`).
open class NLLLoss: PairLoss {
    /// Class weights `[C]`, a buffer, or nil.
    public var weight: Tensor?
    /// Targets equal to this class contribute no loss and no gradient (PyTorch's `ignore_index`).
    public let ignoreIndex: Int32
    /// How the per-element losses are combined: mean, sum or none.
    public let reduction: Reduction

    /// Negative log-likelihood with PyTorch's defaults: no class weights, `ignore_index=-100`, mean reduction.
    public init(weight: Tensor? = nil, ignoreIndex: Int32 = -100, reduction: Reduction = .mean) {
        (self.weight, self.ignoreIndex, self.reduction) = (weight, ignoreIndex, reduction)
        super.init()
    }

    open override func forward(_ input: Pair<Tensor, Tensor>) throws -> Tensor {
        checkInsideWrapper()
        return try Tensor.nllLoss(input.first, targets: input.second, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
    }
}

/// Binary cross-entropy from logits (`torch.nn.BCEWithLogitsLoss`).
open class BCEWithLogitsLoss: PairLoss {
    /// Element weights shaped like the logits, a buffer, or nil.
    public var weight: Tensor?
    /// Weight of positive examples per class `[C]` (`pos_weight`), a buffer, or nil.
    public var positiveWeight: Tensor?
    /// How the per-element losses are combined: mean, sum or none.
    public let reduction: Reduction

    /// Binary cross-entropy from logits, optionally weighted per element and per positive class.
    public init(weight: Tensor? = nil, positiveWeight: Tensor? = nil, reduction: Reduction = .mean) {
        (self.weight, self.positiveWeight, self.reduction) = (weight, positiveWeight, reduction)
        super.init()
    }

    open override func forward(_ input: Pair<Tensor, Tensor>) throws -> Tensor {
        checkInsideWrapper()
        return try Tensor.binaryCrossEntropyWithLogits(
            input.first, targets: input.second, weight: weight,
            positiveWeight: positiveWeight, reduction: reduction)
    }
}

extension BCEWithLogitsLoss: StateDictNaming {
    /// `positiveWeight` is saved as PyTorch's `pos_weight`.
    public var stateDictNames: [String: String] { ["positiveWeight": "pos_weight"] }
}

/// Mean squared error (or its sum, or the elementwise squares with `.none`).
open class MSELoss: PairLoss {
    /// How the squared errors are combined: mean, sum or none.
    public let reduction: Reduction

    /// Mean squared error, or with `reduction` its sum or the element-wise squares.
    public init(reduction: Reduction = .mean) {
        self.reduction = reduction
        super.init()
    }

    open override func forward(_ input: Pair<Tensor, Tensor>) throws -> Tensor {
        checkInsideWrapper()
        return try Tensor.mse(input.first, input.second, reduction: reduction)
    }
}

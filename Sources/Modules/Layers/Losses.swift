import Tensors

/// Mean cross-entropy between logits `[N, C]` and int32 targets `[N]`.
open class CrossEntropyLoss: Module<Pair<Tensor, Tensor>, Tensor> {
    public override init() { super.init() }

    /// `loss(logits, targets)`, through the wrapper.
    public func callAsFunction(_ logits: Tensor, _ targets: Tensor) throws -> Tensor { try self(Pair(logits, targets)) }

    open override func forward(_ input: Pair<Tensor, Tensor>) throws -> Tensor {
        checkInsideWrapper()
        return try Tensor.crossEntropy(input.first, targets: input.second)
    }

    open override var isBuiltIn: Bool { true }
}

/// Mean squared error.
open class MSELoss: Module<Pair<Tensor, Tensor>, Tensor> {
    public override init() { super.init() }

    public func callAsFunction(_ prediction: Tensor, _ target: Tensor) throws -> Tensor {
        try self(Pair(prediction, target))
    }

    open override func forward(_ input: Pair<Tensor, Tensor>) throws -> Tensor {
        checkInsideWrapper()
        return try Tensor.mse(input.first, input.second)
    }

    open override var isBuiltIn: Bool { true }
}

import Tensors

/// `y = x · weightᵀ + bias` over the last axis (PyTorch's `nn.Linear`).
open class Linear: Module<Tensor, Tensor> {
    /// The size of the input's last axis.
    public let inFeatures: Int
    /// The size of the output's last axis.
    public let outFeatures: Int
    /// `[out, in]`, initialized uniform in ±1/√in like PyTorch.
    public var weight: Tensor
    /// `[out]`, or nil.
    public var bias: Tensor?

    /// `[out, in]` weights and `[out]` bias (unless `bias` is false), uniform in ±1/√in like PyTorch's.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Random.withGenerator { Tensor.uniform([outFeatures, inFeatures], in: -bound...bound, using: &$0) }
            .asParameter()
        self.bias =
            bias
            ? Random.withGenerator { Tensor.uniform([outFeatures], in: -bound...bound, using: &$0) }
                .asParameter() : nil
        super.init()
    }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return try Tensor.linear(x, weight: weight, bias: bias)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String {
        "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(bias != nil)"
    }
}

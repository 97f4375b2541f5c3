import Tensors

/// An element-wise activation: subclasses say what `apply` computes.
open class Activation: Module<Tensor, Tensor> {
    public override init() { super.init() }

    /// The function, on a tensor.
    open func apply(_ x: Tensor) -> Tensor { x }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return apply(x)
    }

    open override var isBuiltIn: Bool { true }
}

open class ReLU: Activation {
    open override func apply(_ x: Tensor) -> Tensor { x.relu() }
}

/// GELU with the exact erf form.
open class GELU: Activation {
    open override func apply(_ x: Tensor) -> Tensor { x.gelu() }
}

open class Tanh: Activation {
    open override func apply(_ x: Tensor) -> Tensor { x.tanh() }
}

open class Sigmoid: Activation {
    open override func apply(_ x: Tensor) -> Tensor { x.sigmoid() }
}

/// Zeroes elements with probability `p` in training mode; the identity in eval mode.
open class Dropout: Module<Tensor, Tensor> {
    public let p: Float
    private var generator: RandomGenerator

    public init(_ p: Float = 0.5) {
        precondition((0..<1).contains(p), "Dropout: p must be in [0, 1), got \(p)")
        self.p = p
        generator = Random.split()
        super.init()
    }

    open override var isModeDependent: Bool { true }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return isTraining ? x.dropout(p, using: &generator) : x
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "p=\(p)" }
}

import Tensors

/// Element-wise activations as modules.
open class ReLU: Module<Tensor, Tensor> {
    public override init() { super.init() }
    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return x.relu()
    }
    open override var isBuiltIn: Bool { true }
}

open class GELU: Module<Tensor, Tensor> {
    public override init() { super.init() }
    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return x.gelu()
    }
    open override var isBuiltIn: Bool { true }
}

open class Tanh: Module<Tensor, Tensor> {
    public override init() { super.init() }
    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return x.tanh()
    }
    open override var isBuiltIn: Bool { true }
}

open class Sigmoid: Module<Tensor, Tensor> {
    public override init() { super.init() }
    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return x.sigmoid()
    }
    open override var isBuiltIn: Bool { true }
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

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return isTraining ? x.dropout(p, using: &generator) : x
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "p=\(p)" }
}

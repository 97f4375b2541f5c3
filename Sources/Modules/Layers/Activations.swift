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

/// `max(x, 0)` element-wise (`torch.nn.ReLU`).
open class ReLU: Activation {
    open override func apply(_ x: Tensor) -> Tensor { x.relu() }
}

/// GELU: the exact erf form, or with `approximate: .tanh` PyTorch's `approximate='tanh'`.
open class GELU: Activation {
    /// Which form of GELU (`torch.nn.GELU(approximate=...)`).
    public enum Approximation: String, Sendable { case none, tanh }
    /// The form this layer computes.
    public let approximate: Approximation

    /// A GELU of the given form (exact erf by default).
    public init(approximate: Approximation = .none) {
        self.approximate = approximate
        super.init()
    }

    open override func apply(_ x: Tensor) -> Tensor {
        guard approximate == .tanh else { return x.gelu() }
        // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
        let inner = try! (x + x.pow(3) * 0.044715) * Float(0.7978845608028654)
        return try! (x * 0.5) * (inner.tanh() + 1)
    }

    open override var extraDescription: String { approximate == .tanh ? "approximate='tanh'" : "" }
}

/// SiLU (swish): `x·sigmoid(x)`.
open class SiLU: Activation {
    open override func apply(_ x: Tensor) -> Tensor { try! x * x.sigmoid() }
}

/// Returns its input (`torch.nn.Identity`), e.g. to switch a layer off without changing the tree.
open class Identity: Activation {}

/// Softmax along `axis` (`torch.nn.Softmax(dim=)`).
open class Softmax: Module<Tensor, Tensor> {
    /// The axis normalized over; negative counts from the end (PyTorch's `dim`).
    public let axis: Int

    /// Softmax along `axis` (the last by default).
    public init(axis: Int = -1) {
        self.axis = axis
        super.init()
    }

    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return try x.softmax(axis: axis)
    }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "dim=\(axis)" }
}

/// Log-softmax along `axis` (`torch.nn.LogSoftmax(dim=)`).
open class LogSoftmax: Softmax {
    open override func forward(_ x: Tensor) throws -> Tensor {
        checkInsideWrapper()
        return try x.logSoftmax(axis: axis)
    }
}

/// Hyperbolic tangent element-wise (`torch.nn.Tanh`).
open class Tanh: Activation {
    open override func apply(_ x: Tensor) -> Tensor { x.tanh() }
}

/// Logistic sigmoid element-wise (`torch.nn.Sigmoid`).
open class Sigmoid: Activation {
    open override func apply(_ x: Tensor) -> Tensor { x.sigmoid() }
}

/// Zeroes elements with probability `p` in training mode; the identity in eval mode.
open class Dropout: Module<Tensor, Tensor> {
    /// Probability of zeroing an element in training mode, in `[0, 1)`.
    public let p: Float
    private var generator: RandomGenerator

    /// Dropout with probability `p`, drawing masks from its own stream split from `Random`.
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

    /// Restarts this layer's mask stream from `seed` (each Dropout draws from its own stream,
    /// split from `Random` when the layer was created).
    public func reseed(_ seed: UInt64) { generator = RandomGenerator(seed: seed) }

    open override var isBuiltIn: Bool { true }
    open override var extraDescription: String { "p=\(p)" }
}

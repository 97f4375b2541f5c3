import Modules
import Tensors

/// The benchmark MLP: 784-256-256-10 with ReLU (the same layer names as the PyTorch anchor).
public final class MLP: Module<Tensor, Tensor> {
    public let fc1: Linear
    public let act1 = ReLU()
    public let fc2: Linear
    public let act2 = ReLU()
    public let fc3: Linear
    /// When set, `forward` calls `fc3.forward` directly: a bypass the tracer must expose.
    public var bypassLastLayer = false

    public init(inputs: Int = 784, hidden: Int = 256, classes: Int = 10) {
        fc1 = Linear(inputs, hidden)
        fc2 = Linear(hidden, hidden)
        fc3 = Linear(hidden, classes)
        super.init()
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        let h = try act2(fc2(act1(fc1(x))))
        return bypassLastLayer ? try fc3.forward(h) : try fc3(h)
    }
}
